/*
 * Penstock enricher SDK for C: the ABI version 1 glue. See penstock.h.
 */
#include "penstock.h"

#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name), visibility("default")))

__attribute__((import_module("penstock_v1"), import_name("log"))) extern void
penstock_v1_log(int32_t level, const void *ptr, size_t len);

enum {
    IN_KEY = 1 << 0,
    IN_VALUE = 1 << 1,
    IN_LOG_APPEND_TIME = 1 << 2,
    OUT_KEY = 1 << 0,
    OUT_VALUE = 1 << 1,
    OUT_KEEP_KEY = 1 << 2,
    OUT_KEEP_VALUE = 1 << 3,
    OUT_KEEP_HEADERS = 1 << 4,
    KIND_RECORD = 0,
    KIND_ERROR = 1
};

/* ------------------------------------------------------------------------
 * Buffers */

static uint8_t *in_buf;
static size_t in_cap;

static uint8_t *out_buf;
static size_t out_len, out_cap;
static bool out_oom;

static const char *init_error_msg;
static size_t init_error_len;

/* The record being handled. */
static const penstock_record *cur;
static size_t cur_mark; /* out_len before its outputs */
static uint32_t cur_mark_count;
static bool cur_done; /* penstock_error was called */
static uint32_t out_count;
static bool batch_failed;

static const char oom_batch[] = "PSO1\1\0\0\0\15\0\0\0out of memory";

static bool reserve(size_t more) {
    if (out_oom)
        return false;
    if (out_len + more <= out_cap)
        return true;
    size_t cap = out_cap ? out_cap : 4096;
    while (cap < out_len + more) {
        if (cap > SIZE_MAX / 2) {
            out_oom = true;
            return false;
        }
        cap *= 2;
    }
    uint8_t *b = realloc(out_buf, cap);
    if (!b) {
        out_oom = true;
        return false;
    }
    out_buf = b;
    out_cap = cap;
    return true;
}

static void put_u8(uint8_t v) {
    if (reserve(1))
        out_buf[out_len++] = v;
}

static void put_u32(uint32_t v) {
    if (!reserve(4))
        return;
    out_buf[out_len++] = (uint8_t)v;
    out_buf[out_len++] = (uint8_t)(v >> 8);
    out_buf[out_len++] = (uint8_t)(v >> 16);
    out_buf[out_len++] = (uint8_t)(v >> 24);
}

static void put_raw(const void *p, size_t n) {
    if (n && reserve(n)) {
        memcpy(out_buf + out_len, p, n);
        out_len += n;
    }
}

static void put_bytes(const void *p, size_t n) {
    put_u32((uint32_t)n);
    put_raw(p, n);
}

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p) {
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static int64_t pack(const void *ptr, size_t len) {
    return (int64_t)((uint64_t)(uintptr_t)ptr << 32 | (uint32_t)len);
}

/* ------------------------------------------------------------------------
 * Headers */

penstock_header_iter penstock_headers(const penstock_record *r) {
    penstock_header_iter it = {r->header_bytes, r->header_count};
    return it;
}

bool penstock_header_next(penstock_header_iter *it, penstock_header *h) {
    if (it->left == 0)
        return false;
    /* The batch decoder has checked every length already. */
    const uint8_t *p = it->next;
    h->name_len = get_u32(p);
    h->name = p + 4;
    p += 4 + h->name_len;
    h->value_len = get_u32(p);
    h->value = p + 4;
    it->next = p + 4 + h->value_len;
    it->left--;
    return true;
}

bool penstock_header_get(const penstock_record *r, const char *name,
                         const uint8_t **value, size_t *value_len) {
    size_t n = strlen(name);
    penstock_header_iter it = penstock_headers(r);
    penstock_header h;
    while (penstock_header_next(&it, &h)) {
        if (h.name_len == n && memcmp(h.name, name, n) == 0) {
            *value = h.value;
            *value_len = h.value_len;
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------
 * Outputs */

static bool writable(void) {
    return cur && !cur_done && !batch_failed;
}

void penstock_keep(void) {
    if (!writable())
        return;
    out_count++;
    put_u32(cur->index);
    put_u8(KIND_RECORD);
    put_u8(OUT_KEEP_KEY | OUT_KEEP_VALUE | OUT_KEEP_HEADERS);
    put_u32(0);
    put_u32(0);
    put_u32(0);
}

static void put_headers(const penstock_header *hs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        put_bytes(hs[i].name, hs[i].name_len);
        put_bytes(hs[i].value, hs[i].value_len);
    }
}

void penstock_emit(const penstock_output *o) {
    if (!writable())
        return;
    uint8_t flags = 0;
    switch (o->key.mode) {
    case PENSTOCK_SET: flags |= OUT_KEY; break;
    case PENSTOCK_KEEP: flags |= OUT_KEEP_KEY; break;
    default: break;
    }
    switch (o->value.mode) {
    case PENSTOCK_SET: flags |= OUT_VALUE; break;
    case PENSTOCK_KEEP: flags |= OUT_KEEP_VALUE; break;
    default: break;
    }
    if (o->headers_mode == PENSTOCK_KEEP)
        flags |= OUT_KEEP_HEADERS;
    out_count++;
    put_u32(cur->index);
    put_u8(KIND_RECORD);
    put_u8(flags);
    if (o->key.mode == PENSTOCK_SET)
        put_bytes(o->key.data, o->key.len);
    else
        put_u32(0);
    if (o->value.mode == PENSTOCK_SET)
        put_bytes(o->value.data, o->value.len);
    else
        put_u32(0);
    switch (o->headers_mode) {
    case PENSTOCK_KEEP:
        put_u32(0);
        break;
    case PENSTOCK_APPEND: {
        put_u32(cur->header_count + (uint32_t)o->header_count);
        /* The input's headers are already encoded as the output wants them. */
        penstock_header_iter it = penstock_headers(cur);
        penstock_header h;
        const uint8_t *start = it.next;
        while (penstock_header_next(&it, &h)) {
        }
        put_raw(start, (size_t)(it.next - start));
        put_headers(o->headers, o->header_count);
        break;
    }
    default:
        put_u32((uint32_t)o->header_count);
        put_headers(o->headers, o->header_count);
        break;
    }
}

void penstock_error_n(const char *msg, size_t len) {
    if (!writable())
        return;
    out_len = cur_mark;
    out_count = cur_mark_count;
    out_count++;
    put_u32(cur->index);
    put_u8(KIND_ERROR);
    put_bytes(msg, len);
    cur_done = true;
}

void penstock_error(const char *msg) {
    penstock_error_n(msg, strlen(msg));
}

static void fail_batch_n(const char *msg, size_t len) {
    out_len = 0;
    put_raw("PSO1", 4);
    put_u32(1);
    put_bytes(msg, len);
    batch_failed = true;
}

void penstock_fail_batch(const char *msg) {
    if (!batch_failed)
        fail_batch_n(msg, strlen(msg));
}

/* ------------------------------------------------------------------------
 * Log */

void penstock_log_n(int level, const char *msg, size_t len) {
    penstock_v1_log(level, msg, len);
}

void penstock_log(int level, const char *msg) {
    penstock_v1_log(level, msg, strlen(msg));
}

/* ------------------------------------------------------------------------
 * Exports */

__attribute__((weak)) const char *penstock_on_init(const uint8_t *config,
                                                   size_t len) {
    (void)config;
    (void)len;
    return NULL;
}

EXPORT("penstock_abi_version") int32_t penstock_abi_version(void) {
    return PENSTOCK_ABI_VERSION;
}

EXPORT("penstock_alloc") uint8_t *penstock_alloc(int32_t size) {
    if (size < 0)
        return NULL;
    size_t want = size < 64 ? 64 : (size_t)size;
    if (in_cap < want) {
        free(in_buf);
        in_cap = 0;
        in_buf = malloc(want);
        if (!in_buf)
            return NULL;
        in_cap = want;
    }
    return in_buf;
}

EXPORT("penstock_init") int64_t penstock_init(const uint8_t *cfg, int32_t len) {
    const char *err = penstock_on_init(cfg, len > 0 ? (size_t)len : 0);
    if (!err)
        return 0;
    init_error_msg = *err ? err : "init failed";
    init_error_len = strlen(init_error_msg);
    return pack(init_error_msg, init_error_len);
}

/* A bounds-checked reader over the input batch. */
typedef struct {
    const uint8_t *p, *end;
    bool bad;
} reader;

static const uint8_t *take(reader *r, size_t n) {
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static uint32_t read_u32(reader *r) {
    const uint8_t *p = take(r, 4);
    return p ? get_u32(p) : 0;
}

static const uint8_t *read_bytes(reader *r, size_t *len) {
    *len = read_u32(r);
    return take(r, *len);
}

static bool read_record(reader *r, penstock_record *rec) {
    const uint8_t *p = take(r, 17);
    if (!p)
        return false;
    rec->offset = (int64_t)get_u64(p);
    rec->timestamp = (int64_t)get_u64(p + 8);
    uint8_t flags = p[16];
    rec->log_append_time = (flags & IN_LOG_APPEND_TIME) != 0;
    rec->has_key = (flags & IN_KEY) != 0;
    rec->has_value = (flags & IN_VALUE) != 0;
    rec->key = read_bytes(r, &rec->key_len);
    rec->value = read_bytes(r, &rec->value_len);
    rec->header_count = read_u32(r);
    rec->header_bytes = r->p;
    for (uint32_t i = 0; i < rec->header_count && !r->bad; i++) {
        size_t n;
        read_bytes(r, &n);
        read_bytes(r, &n);
    }
    return !r->bad;
}

EXPORT("penstock_enrich") int64_t penstock_enrich(const uint8_t *in, int32_t len) {
    out_len = 0;
    out_oom = false;
    out_count = 0;
    batch_failed = false;
    put_raw("PSO1", 4);
    put_u32(0);
    put_u32(0);

    reader r = {in, in + (len > 0 ? len : 0), false};
    const uint8_t *magic = take(&r, 4);
    uint32_t count = read_u32(&r);
    penstock_record rec;
    memset(&rec, 0, sizeof rec);
    rec.topic = (const char *)read_bytes(&r, &rec.topic_len);
    rec.partition = (int32_t)read_u32(&r);
    if (r.bad || memcmp(magic, "PSB1", 4) != 0) {
        fail_batch_n("malformed input batch", 21);
    }
    for (uint32_t i = 0; i < count && !batch_failed && !out_oom; i++) {
        if (!read_record(&r, &rec)) {
            fail_batch_n("malformed input batch", 21);
            break;
        }
        rec.index = i;
        cur = &rec;
        cur_mark = out_len;
        cur_mark_count = out_count;
        cur_done = false;
        penstock_on_record(&rec);
    }
    cur = NULL;
    if (out_oom)
        return pack(oom_batch, sizeof oom_batch - 1);
    if (!batch_failed) {
        out_buf[8] = (uint8_t)out_count;
        out_buf[9] = (uint8_t)(out_count >> 8);
        out_buf[10] = (uint8_t)(out_count >> 16);
        out_buf[11] = (uint8_t)(out_count >> 24);
    }
    return pack(out_buf, out_len);
}
