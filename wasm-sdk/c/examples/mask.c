/* Replaces sensitive strings in JSON values with "***".
 *
 * Config: {"fields": ["customer.email", "card"]}, dotted paths of object
 * member names from the top-level object. Where a path leads to a JSON
 * string, that string token (quotes included) becomes "***"; every other
 * byte of the value stays as it was. Paths that lead to anything but a
 * string, or nowhere, change nothing (the record is kept as it is). A value
 * that is not JSON (or absent) is reported as a record error "value is not
 * JSON". Key and headers are kept.
 *
 * Member names are compared after decoding their escapes; every member with
 * a matching name is followed, duplicates included; arrays are not entered. */
#include <stdlib.h>
#include <string.h>

#include "penstock.h"
#include "penstock_json.h"

static const char not_json[] = "value is not JSON";

typedef struct {
    const uint8_t *data;
    size_t len;
} segment;

typedef struct {
    segment *segments;
    size_t count;
} path;

static path *paths;
static size_t path_count;
static uint8_t *names; /* decoded path strings */

/* One open array or object of the value being scanned. */
typedef struct {
    bool object;
    size_t key_start, key_end; /* current member name, quotes included */
} level;

static penstock_json_scanner scanner;
static level *levels;
static size_t level_cap;
static uint8_t *masked, *scratch;
static size_t masked_cap, scratch_cap;

static bool grow(void *buf, size_t *cap, size_t want, size_t size) {
    if (want <= *cap)
        return true;
    size_t cap2 = *cap ? *cap : 16;
    while (cap2 < want)
        cap2 *= 2;
    void *p = realloc(*(void **)buf, cap2 * size);
    if (!p)
        return false;
    *(void **)buf = p;
    *cap = cap2;
    return true;
}

static bool add_path(const uint8_t *s, size_t n) {
    size_t count = 1;
    for (size_t i = 0; i < n; i++)
        count += s[i] == '.';
    segment *segs = malloc(count * sizeof *segs);
    path *ps = realloc(paths, (path_count + 1) * sizeof *ps);
    if (!segs || !ps) {
        free(segs);
        if (ps)
            paths = ps;
        return false;
    }
    paths = ps;
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            segs[k].data = s + start;
            segs[k].len = i - start;
            k++;
            start = i + 1;
        }
    }
    paths[path_count].segments = segs;
    paths[path_count].count = count;
    path_count++;
    return true;
}

static void clear_paths(void) {
    for (size_t i = 0; i < path_count; i++)
        free(paths[i].segments);
    path_count = 0;
}

#define CONFIG_SHAPE "mask: config must be {\"fields\": [\"path\", ...]}: "
#define CONFIG_NO_FIELDS \
    "mask: config needs \"fields\", a list of dotted paths such as \"customer.email\""

const char *penstock_on_init(const uint8_t *config, size_t len) {
    static const char bad_fields[] = CONFIG_SHAPE "\"fields\" is not a list of strings";
    static const char not_valid[] = CONFIG_SHAPE "not valid JSON";
    penstock_json_scanner s;
    penstock_json_token t;
    bool found = false;
    size_t used = 0;
    int rc;
    clear_paths();
    free(names);
    names = malloc(len ? len : 1);
    if (!names)
        return "mask: out of memory";
    penstock_json_reset(&s, config, len);
    rc = penstock_json_next(&s, &t);
    if (rc < 0)
        return not_valid;
    if (rc > 0 && t.kind == PENSTOCK_JSON_NULL)
        return CONFIG_NO_FIELDS;
    if (rc == 0 || t.kind != PENSTOCK_JSON_BEGIN_OBJECT)
        return CONFIG_SHAPE "not an object";
    while ((rc = penstock_json_next(&s, &t)) > 0) {
        if (t.kind != PENSTOCK_JSON_KEY || penstock_json_depth(&s) != 1)
            continue;
        uint8_t *name = names + used;
        size_t n = penstock_json_unescape(config + t.start, t.end - t.start, name);
        if (n != 6 || memcmp(name, "fields", 6) != 0)
            continue;
        rc = penstock_json_next(&s, &t);
        if (rc < 0)
            break;
        clear_paths();
        if (t.kind == PENSTOCK_JSON_NULL) {
            found = false;
            continue;
        }
        if (t.kind != PENSTOCK_JSON_BEGIN_ARRAY)
            return bad_fields;
        found = true;
        while ((rc = penstock_json_next(&s, &t)) > 0 && t.kind != PENSTOCK_JSON_END_ARRAY) {
            uint8_t *field = names + used;
            size_t fn = 0;
            if (t.kind == PENSTOCK_JSON_STRING)
                fn = penstock_json_unescape(config + t.start, t.end - t.start, field);
            else if (t.kind != PENSTOCK_JSON_NULL)
                return bad_fields;
            used += fn;
            if (!add_path(field, fn))
                return "mask: out of memory";
        }
        if (rc < 0)
            break;
    }
    if (rc < 0)
        return not_valid;
    if (!found)
        return CONFIG_NO_FIELDS;
    return NULL;
}

static bool segment_matches(const uint8_t *raw, size_t raw_len, const segment *seg) {
    if (memchr(raw, '\\', raw_len)) {
        if (!grow(&scratch, &scratch_cap, raw_len, 1))
            return false;
        size_t n = penstock_json_unescape(raw, raw_len, scratch);
        return n == seg->len && memcmp(scratch, seg->data, n) == 0;
    }
    return raw_len - 2 == seg->len && memcmp(raw + 1, seg->data, seg->len) == 0;
}

/* Whether a string value reached through the member names of levels[0..depth)
 * (all objects) is on one of the paths. */
static bool on_path(const uint8_t *value, size_t depth) {
    for (size_t i = 0; i < path_count; i++) {
        const path *p = &paths[i];
        if (p->count != depth)
            continue;
        size_t k = 0;
        while (k < depth && segment_matches(value + levels[k].key_start,
                                            levels[k].key_end - levels[k].key_start,
                                            &p->segments[k]))
            k++;
        if (k == depth)
            return true;
    }
    return false;
}

void penstock_on_record(const penstock_record *record) {
    if (!record->has_value) {
        penstock_error(not_json);
        return;
    }
    const uint8_t *value = record->value;
    size_t len = record->value_len;
    /* The output is never longer than the input plus 3 bytes per string. */
    if (!grow(&masked, &masked_cap, len + len / 2 + 8, 1)) {
        penstock_fail_batch("mask: out of memory");
        return;
    }
    size_t out = 0, copied = 0, depth = 0, arrays = 0;
    penstock_json_token t;
    int rc;
    penstock_json_reset(&scanner, value, len);
    while ((rc = penstock_json_next(&scanner, &t)) > 0) {
        switch (t.kind) {
        case PENSTOCK_JSON_BEGIN_OBJECT:
        case PENSTOCK_JSON_BEGIN_ARRAY:
            if (!grow(&levels, &level_cap, depth + 1, sizeof *levels)) {
                penstock_fail_batch("mask: out of memory");
                return;
            }
            levels[depth].object = t.kind == PENSTOCK_JSON_BEGIN_OBJECT;
            arrays += !levels[depth].object;
            depth++;
            break;
        case PENSTOCK_JSON_END_OBJECT:
        case PENSTOCK_JSON_END_ARRAY:
            depth--;
            arrays -= !levels[depth].object;
            break;
        case PENSTOCK_JSON_KEY:
            levels[depth - 1].key_start = t.start;
            levels[depth - 1].key_end = t.end;
            break;
        case PENSTOCK_JSON_STRING:
            if (arrays == 0 && depth > 0 && on_path(value, depth)) {
                memcpy(masked + out, value + copied, t.start - copied);
                out += t.start - copied;
                memcpy(masked + out, "\"***\"", 5);
                out += 5;
                copied = t.end;
            }
            break;
        default:
            break;
        }
    }
    if (rc < 0) {
        penstock_error(not_json);
        return;
    }
    if (copied == 0) {
        penstock_keep(); /* nothing masked */
        return;
    }
    memcpy(masked + out, value + copied, len - copied);
    out += len - copied;
    penstock_emit(&(penstock_output){.value = PENSTOCK_BYTES(masked, out)});
}
