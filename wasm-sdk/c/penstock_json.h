/*
 * A small JSON (RFC 8259) tokenizer that reports byte spans, for enrichers
 * that inspect or patch JSON values without re-serialising them. It does not
 * allocate.
 *
 *     penstock_json_scanner s;
 *     penstock_json_token t;
 *     int rc;
 *     penstock_json_reset(&s, value, value_len);
 *     while ((rc = penstock_json_next(&s, &t)) > 0) {
 *         // value[t.start .. t.end) is the token (strings with quotes)
 *     }
 *     if (rc < 0) { ... not JSON ... }
 *
 * penstock_json_next returns 1 for a token, 0 at the end of a valid text and
 * -1 at the first syntax error (including trailing bytes after the value),
 * after which it keeps returning -1.
 *
 * Choices shared by the Penstock SDKs of every language: bytes of 0x80 and
 * above inside strings are not checked as UTF-8, and more than
 * PENSTOCK_JSON_MAX_DEPTH nested arrays and objects are a syntax error.
 */
#ifndef PENSTOCK_JSON_H
#define PENSTOCK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum penstock_json_kind {
    PENSTOCK_JSON_BEGIN_OBJECT,
    PENSTOCK_JSON_END_OBJECT,
    PENSTOCK_JSON_BEGIN_ARRAY,
    PENSTOCK_JSON_END_ARRAY,
    PENSTOCK_JSON_KEY, /* an object member's name */
    PENSTOCK_JSON_STRING,
    PENSTOCK_JSON_NUMBER,
    PENSTOCK_JSON_TRUE,
    PENSTOCK_JSON_FALSE,
    PENSTOCK_JSON_NULL
} penstock_json_kind;

typedef struct penstock_json_token {
    penstock_json_kind kind;
    size_t start, end; /* byte span in the text */
} penstock_json_token;

/* The deepest nesting of arrays and objects accepted. */
#define PENSTOCK_JSON_MAX_DEPTH 1000

typedef struct penstock_json_scanner {
    const uint8_t *src;
    size_t len, pos;
    size_t depth;
    int state;
    /* One bit per open container: set for an object, clear for an array. */
    uint8_t objects[PENSTOCK_JSON_MAX_DEPTH / 8];
} penstock_json_scanner;

/* Starts scanning src[0..len). */
void penstock_json_reset(penstock_json_scanner *s, const void *src, size_t len);
int penstock_json_next(penstock_json_scanner *s, penstock_json_token *t);
/* Number of arrays and objects open after the last token. */
static inline size_t penstock_json_depth(const penstock_json_scanner *s) {
    return s->depth;
}

/* Whether src is one JSON value with optional surrounding whitespace. */
bool penstock_json_valid(const void *src, size_t len);

/* Decodes a string token (quotes included) into out, which must hold
 * raw_len bytes; returns the decoded length. Lone surrogates decode as
 * U+FFFD. */
size_t penstock_json_unescape(const uint8_t *raw, size_t raw_len, uint8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* PENSTOCK_JSON_H */
