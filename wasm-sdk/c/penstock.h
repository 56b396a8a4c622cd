/*
 * Penstock enricher SDK for C (ABI version 1, see wasm-sdk/ABI.md).
 *
 * Link penstock.c into a WASI reactor module and implement
 *
 *     void penstock_on_record(const penstock_record *record);
 *
 * and, optionally,
 *
 *     const char *penstock_on_init(const uint8_t *config, size_t len);
 *
 * penstock_on_init receives the enricher's config (UTF-8 JSON, "{}" when none
 * is given, not NUL-terminated) once per instance; it returns NULL on success
 * or a NUL-terminated error message that fails the pipeline's start. Without
 * it, any config is accepted.
 *
 * penstock_on_record is called once per input record and emits the record's
 * outputs with the functions below:
 *
 *     penstock_keep()           forward the record unchanged
 *     penstock_emit(&output)    emit a changed record; call it several times
 *                               to split the record
 *     (nothing)                 drop the record
 *     penstock_error(msg)       report a per-record error (discarding any
 *                               output already emitted for the record)
 *     penstock_fail_batch(msg)  fail the whole batch
 *
 * Pointers passed to the handlers (config, record fields) are valid only
 * until the handler returns; copy what must be kept.
 *
 * The SDK exports memory, penstock_abi_version, penstock_alloc,
 * penstock_init and penstock_enrich; input and output buffers are reused
 * from batch to batch. Build a WASI reactor with wasi-libc:
 *
 *     clang --target=wasm32-wasi -mexec-model=reactor -O2 \
 *           -nodefaultlibs -lc -Wl,--strip-all \
 *           -o enricher.wasm enricher.c penstock.c [penstock_json.c]
 *
 * (-nodefaultlibs -lc leaves out compiler-rt's builtins, which the SDK does
 * not need and Debian packages separately.)
 */
#ifndef PENSTOCK_H
#define PENSTOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PENSTOCK_ABI_VERSION 1

/* One header. Names are UTF-8 by convention. */
typedef struct penstock_header {
    const uint8_t *name;
    size_t name_len;
    const uint8_t *value;
    size_t value_len;
} penstock_header;

/* One input record. Pointers point into the input batch and are valid until
 * penstock_on_record returns. */
typedef struct penstock_record {
    uint32_t index; /* position in the batch, from 0 */
    const char *topic; /* not NUL-terminated */
    size_t topic_len;
    int32_t partition;
    int64_t offset;
    int64_t timestamp; /* milliseconds since the Unix epoch */
    bool log_append_time; /* else CREATE_TIME */
    bool has_key; /* false: absent (Kafka null); key_len 0 is empty */
    const uint8_t *key;
    size_t key_len;
    bool has_value; /* false: absent (Kafka null); value_len 0 is empty */
    const uint8_t *value;
    size_t value_len;
    uint32_t header_count;
    const uint8_t *header_bytes; /* encoded headers: use penstock_headers */
} penstock_record;

/* Iterates over a record's headers:
 *
 *     penstock_header_iter it = penstock_headers(record);
 *     penstock_header h;
 *     while (penstock_header_next(&it, &h)) { ... }
 */
typedef struct penstock_header_iter {
    const uint8_t *next;
    uint32_t left;
} penstock_header_iter;

penstock_header_iter penstock_headers(const penstock_record *record);
bool penstock_header_next(penstock_header_iter *it, penstock_header *header);

/* Value of the first header named name (NUL-terminated); false if none. */
bool penstock_header_get(const penstock_record *record, const char *name,
                         const uint8_t **value, size_t *value_len);

/* What an output record does with the input's key, value or headers. The
 * zero value keeps the input's. */
typedef enum penstock_mode {
    PENSTOCK_KEEP = 0, /* the input's */
    PENSTOCK_SET, /* the given bytes (key/value) or headers */
    PENSTOCK_ABSENT, /* key/value: absent (Kafka null) */
    PENSTOCK_APPEND /* headers: the input's, then the given ones */
} penstock_mode;

typedef struct penstock_field {
    penstock_mode mode;
    const void *data;
    size_t len;
} penstock_field;

#define PENSTOCK_BYTES(data, len) ((penstock_field){PENSTOCK_SET, (data), (len)})
#define PENSTOCK_NULL ((penstock_field){PENSTOCK_ABSENT, NULL, 0})

/* An output record. Zero-initialised members keep the input's, so
 *
 *     penstock_emit(&(penstock_output){.value = PENSTOCK_BYTES(p, n)});
 *
 * replaces only the value. */
typedef struct penstock_output {
    penstock_field key;
    penstock_field value;
    penstock_mode headers_mode; /* KEEP, SET or APPEND */
    const penstock_header *headers;
    size_t header_count;
} penstock_output;

/* Output functions: call them from penstock_on_record only. */
void penstock_keep(void);
void penstock_emit(const penstock_output *output);
void penstock_error(const char *message);
void penstock_error_n(const char *message, size_t len);
void penstock_fail_batch(const char *message);

/* The handlers (see above). */
const char *penstock_on_init(const uint8_t *config, size_t len);
void penstock_on_record(const penstock_record *record);

/* Writes a message to the pipeline's log. */
enum {
    PENSTOCK_DEBUG = 0,
    PENSTOCK_INFO = 1,
    PENSTOCK_WARN = 2,
    PENSTOCK_ERROR = 3
};
void penstock_log(int level, const char *message);
void penstock_log_n(int level, const char *message, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* PENSTOCK_H */
