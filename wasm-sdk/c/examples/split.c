/* Splits a JSON array value into one record per element (the element's
 * bytes as in the input, key and headers kept). An empty array drops the
 * record; any other JSON value passes through unchanged. */
#include "penstock.h"
#include "penstock_json.h"

static const char not_json[] = "value is not JSON";
static penstock_json_scanner scanner;

void penstock_on_record(const penstock_record *record) {
    if (!record->has_value) {
        penstock_error(not_json);
        return;
    }
    const uint8_t *value = record->value;
    penstock_json_token t;
    penstock_json_reset(&scanner, value, record->value_len);
    if (penstock_json_next(&scanner, &t) < 0) {
        penstock_error(not_json);
        return;
    }
    bool array = t.kind == PENSTOCK_JSON_BEGIN_ARRAY;
    size_t element_start = 0;
    int rc;
    while ((rc = penstock_json_next(&scanner, &t)) > 0) {
        if (!array)
            continue; /* validate the rest */
        /* Elements of the top-level array live at depth 1: a scalar there
         * is a whole element; a container starts by entering depth 2 and
         * ends by coming back to depth 1. */
        size_t depth = penstock_json_depth(&scanner);
        switch (t.kind) {
        case PENSTOCK_JSON_BEGIN_ARRAY:
        case PENSTOCK_JSON_BEGIN_OBJECT:
            if (depth == 2)
                element_start = t.start;
            break;
        case PENSTOCK_JSON_END_ARRAY:
        case PENSTOCK_JSON_END_OBJECT:
            if (depth == 1)
                penstock_emit(&(penstock_output){
                    .value = PENSTOCK_BYTES(value + element_start, t.end - element_start),
                });
            break;
        case PENSTOCK_JSON_KEY:
            break;
        default:
            if (depth == 1)
                penstock_emit(&(penstock_output){
                    .value = PENSTOCK_BYTES(value + t.start, t.end - t.start),
                });
            break;
        }
    }
    if (rc < 0)
        penstock_error(not_json); /* discards the elements emitted so far */
    else if (!array)
        penstock_keep();
}
