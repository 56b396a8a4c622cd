/*
 * A small JSON (RFC 8259) tokenizer. See penstock_json.h.
 */
#include "penstock_json.h"

enum {
    S_VALUE,
    S_VALUE_OR_END,
    S_KEY,
    S_KEY_OR_END,
    S_COLON,
    S_AFTER_VALUE,
    S_DONE,
    S_FAILED
};

void penstock_json_reset(penstock_json_scanner *s, const void *src, size_t len) {
    s->src = src;
    s->len = len;
    s->pos = 0;
    s->depth = 0;
    s->state = S_VALUE;
}

static int fail(penstock_json_scanner *s) {
    s->state = S_FAILED;
    return -1;
}

static int token(penstock_json_scanner *s, penstock_json_token *t,
                 penstock_json_kind kind, size_t start) {
    t->kind = kind;
    t->start = start;
    t->end = s->pos;
    return 1;
}

static int peek(const penstock_json_scanner *s) {
    return s->pos < s->len ? s->src[s->pos] : -1;
}

static bool push(penstock_json_scanner *s, bool object) {
    if (s->depth == PENSTOCK_JSON_MAX_DEPTH)
        return false;
    uint8_t bit = (uint8_t)(1u << (s->depth % 8));
    if (object)
        s->objects[s->depth / 8] |= bit;
    else
        s->objects[s->depth / 8] &= (uint8_t)~bit;
    s->depth++;
    return true;
}

static bool in_object(const penstock_json_scanner *s) {
    size_t d = s->depth - 1;
    return (s->objects[d / 8] >> (d % 8)) & 1;
}

static size_t digits(penstock_json_scanner *s) {
    size_t start = s->pos;
    while (s->pos < s->len && s->src[s->pos] >= '0' && s->src[s->pos] <= '9')
        s->pos++;
    return s->pos - start;
}

static bool number(penstock_json_scanner *s) {
    if (peek(s) == '-')
        s->pos++;
    int c = peek(s);
    if (c == '0')
        s->pos++;
    else if (c >= '1' && c <= '9')
        digits(s);
    else
        return false;
    if (peek(s) == '.') {
        s->pos++;
        if (!digits(s))
            return false;
    }
    c = peek(s);
    if (c == 'e' || c == 'E') {
        s->pos++;
        c = peek(s);
        if (c == '+' || c == '-')
            s->pos++;
        if (!digits(s))
            return false;
    }
    return true;
}

static bool is_hex(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool string(penstock_json_scanner *s) {
    const uint8_t *src = s->src;
    size_t i = s->pos + 1, n = s->len;
    for (;;) {
        if (i >= n) {
            s->pos = i;
            return false;
        }
        uint8_t c = src[i];
        if (c == '"')
            break;
        if (c == '\\') {
            if (i + 1 >= n) {
                s->pos = i;
                return false;
            }
            switch (src[i + 1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                i += 2;
                break;
            case 'u':
                if (i + 6 > n || !is_hex(src[i + 2]) || !is_hex(src[i + 3]) ||
                    !is_hex(src[i + 4]) || !is_hex(src[i + 5])) {
                    s->pos = i;
                    return false;
                }
                i += 6;
                break;
            default:
                s->pos = i;
                return false;
            }
        } else if (c < 0x20) {
            s->pos = i;
            return false;
        } else {
            i++;
        }
    }
    s->pos = i + 1;
    return true;
}

static bool literal(penstock_json_scanner *s, const char *word, size_t n) {
    if (s->len - s->pos < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s->src[s->pos + i] != (uint8_t)word[i])
            return false;
    s->pos += n;
    return true;
}

static int value(penstock_json_scanner *s, penstock_json_token *t) {
    size_t start = s->pos;
    penstock_json_kind kind;
    switch (peek(s)) {
    case '{':
    case '[': {
        uint8_t c = s->src[s->pos];
        if (!push(s, c == '{'))
            return fail(s);
        s->pos++;
        s->state = c == '{' ? S_KEY_OR_END : S_VALUE_OR_END;
        return token(s, t, c == '{' ? PENSTOCK_JSON_BEGIN_OBJECT : PENSTOCK_JSON_BEGIN_ARRAY,
                     start);
    }
    case '"':
        if (!string(s))
            return fail(s);
        kind = PENSTOCK_JSON_STRING;
        break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        if (!number(s))
            return fail(s);
        kind = PENSTOCK_JSON_NUMBER;
        break;
    case 't':
        if (!literal(s, "true", 4))
            return fail(s);
        kind = PENSTOCK_JSON_TRUE;
        break;
    case 'f':
        if (!literal(s, "false", 5))
            return fail(s);
        kind = PENSTOCK_JSON_FALSE;
        break;
    case 'n':
        if (!literal(s, "null", 4))
            return fail(s);
        kind = PENSTOCK_JSON_NULL;
        break;
    default:
        return fail(s);
    }
    s->state = S_AFTER_VALUE;
    return token(s, t, kind, start);
}

static int close_container(penstock_json_scanner *s, penstock_json_token *t, penstock_json_kind kind) {
    size_t start = s->pos++;
    s->depth--;
    s->state = S_AFTER_VALUE;
    return token(s, t, kind, start);
}

int penstock_json_next(penstock_json_scanner *s, penstock_json_token *t) {
    for (;;) {
        if (s->state == S_DONE)
            return 0;
        if (s->state == S_FAILED)
            return -1;
        while (s->pos < s->len) {
            uint8_t c = s->src[s->pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                break;
            s->pos++;
        }
        int c = peek(s);
        switch (s->state) {
        case S_VALUE:
            return value(s, t);
        case S_VALUE_OR_END:
            if (c == ']')
                return close_container(s, t, PENSTOCK_JSON_END_ARRAY);
            return value(s, t);
        case S_KEY_OR_END:
            if (c == '}')
                return close_container(s, t, PENSTOCK_JSON_END_OBJECT);
            /* fall through */
        case S_KEY: {
            size_t start = s->pos;
            if (c != '"' || !string(s))
                return fail(s);
            s->state = S_COLON;
            return token(s, t, PENSTOCK_JSON_KEY, start);
        }
        case S_COLON:
            if (c != ':')
                return fail(s);
            s->pos++;
            s->state = S_VALUE;
            break;
        case S_AFTER_VALUE: {
            if (s->depth == 0) {
                if (c != -1)
                    return fail(s);
                s->state = S_DONE;
                return 0;
            }
            bool object = in_object(s);
            if (c == ',') {
                s->pos++;
                s->state = object ? S_KEY : S_VALUE;
            } else if (!object && c == ']') {
                return close_container(s, t, PENSTOCK_JSON_END_ARRAY);
            } else if (object && c == '}') {
                return close_container(s, t, PENSTOCK_JSON_END_OBJECT);
            } else {
                return fail(s);
            }
            break;
        }
        }
    }
}

bool penstock_json_valid(const void *src, size_t len) {
    penstock_json_scanner s;
    penstock_json_token t;
    int rc;
    penstock_json_reset(&s, src, len);
    while ((rc = penstock_json_next(&s, &t)) > 0) {
    }
    return rc == 0;
}

static unsigned hex4(const uint8_t *p) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

size_t penstock_json_unescape(const uint8_t *raw, size_t raw_len, uint8_t *out) {
    if (raw_len < 2)
        return 0;
    const uint8_t *p = raw + 1, *end = raw + raw_len - 1;
    size_t n = 0;
    while (p < end) {
        if (*p != '\\' || p + 1 >= end) {
            out[n++] = *p++;
            continue;
        }
        uint8_t e = p[1];
        p += 2;
        switch (e) {
        case 'b': out[n++] = '\b'; continue;
        case 'f': out[n++] = '\f'; continue;
        case 'n': out[n++] = '\n'; continue;
        case 'r': out[n++] = '\r'; continue;
        case 't': out[n++] = '\t'; continue;
        case 'u': break;
        default: out[n++] = e; continue;
        }
        if (end - p < 4)
            break;
        unsigned cp = hex4(p);
        p += 4;
        if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
            unsigned lo = hex4(p + 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }
        }
        if (cp >= 0xd800 && cp < 0xe000)
            cp = 0xfffd;
        if (cp < 0x80) {
            out[n++] = (uint8_t)cp;
        } else if (cp < 0x800) {
            out[n++] = (uint8_t)(0xc0 | cp >> 6);
            out[n++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out[n++] = (uint8_t)(0xe0 | cp >> 12);
            out[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            out[n++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else {
            out[n++] = (uint8_t)(0xf0 | cp >> 18);
            out[n++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
            out[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            out[n++] = (uint8_t)(0x80 | (cp & 0x3f));
        }
    }
    return n;
}
