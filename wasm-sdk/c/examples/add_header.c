/* Appends a header x-fnv1a: the 32-bit FNV-1a hash of the value, as 8
 * lowercase hex digits. Key and value are kept. */
#include "penstock.h"

static uint32_t fnv1a(const uint8_t *p, size_t n) {
    uint32_t h = 0x811c9dc5u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x01000193u;
    }
    return h;
}

void penstock_on_record(const penstock_record *record) {
    static const char digits[] = "0123456789abcdef";
    uint32_t h = fnv1a(record->value, record->has_value ? record->value_len : 0);
    uint8_t hex[8];
    for (int i = 0; i < 8; i++)
        hex[i] = (uint8_t)digits[(h >> (28 - 4 * i)) & 0xf];
    penstock_header header = {(const uint8_t *)"x-fnv1a", 7, hex, sizeof hex};
    penstock_emit(&(penstock_output){
        .headers_mode = PENSTOCK_APPEND,
        .headers = &header,
        .header_count = 1,
    });
}
