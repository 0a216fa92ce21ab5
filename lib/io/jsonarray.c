#include "jsonarray.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

#define DEFAULT_CHUNK ((size_t)1 << 20)

/* Where the scanner stands. */
enum {
    S_START,       /* before the container's opening bracket */
    S_OPEN,        /* after '[' / '{': a first element or the closing bracket */
    S_NEXT,        /* after ',': an element must follow */
    S_KEY,         /* object mode: inside a member's key string */
    S_COLON,       /* object mode: after the key, before ':' */
    S_MEMBER,      /* object mode: after ':', before the value */
    S_NESTED,      /* inside an object or array element */
    S_STRING,      /* inside a string element */
    S_SCALAR,      /* inside a number or literal element */
    S_AFTER,       /* after an element: ',' or the closing bracket */
    S_END          /* after the closing bracket: whitespace only */
};

struct ws_jsonarray {
    ws_bytes *bytes;         /* the byte source: file, stdin or memory, plain or zstd */
    const char *name;        /* the byte source's */

    /* The window: bytes from the oldest one still needed to the last one read. */
    char *buf;
    size_t buf_len, buf_cap, pos;
    uint64_t base;           /* stream offset of buf[0] */
    int has_mark;            /* bytes from `mark` on must be kept (an element or key in progress) */
    size_t mark;
    int eof;                 /* the source has nothing more */

    int state, container, in_string, escape, depth;
    char stack[WS_JSONARRAY_MAX_DEPTH];
    size_t el_start, el_end, key_start;
    uint64_t el_offset, last_offset;
    long next_index;         /* elements completed so far */
    long last_index;

    char *key;
    size_t key_len, key_cap;

    size_t chunk, max_element;
    int failed;
    ws_err saved;            /* the error, repeated by every later call */
};

static int afail(ws_jsonarray *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int afail(ws_jsonarray *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(a->saved.msg, sizeof a->saved.msg, "%s: ", a->name);
    if (n < 0 || (size_t)n >= sizeof a->saved.msg)
        n = 0;
    vsnprintf(a->saved.msg + n, sizeof a->saved.msg - (size_t)n, fmt, ap);
    va_end(ap);
    a->failed = 1;
    return -1;
}

/* A byte for a message: 'c' when printable ASCII, else its hex value. */
static const char *show(int c, char out[16])
{
    if (c >= 0x20 && c < 0x7f)
        snprintf(out, 16, "'%c'", c);
    else
        snprintf(out, 16, "byte 0x%02x", (unsigned)(unsigned char)c);
    return out;
}

static char closer(const ws_jsonarray *a) { return a->container == WS_JSON_OBJECT ? '}' : ']'; }
static const char *what(const ws_jsonarray *a) { return a->container == WS_JSON_OBJECT ? "object" : "array"; }

/* ------------------------------------------------------------------ window */

/* Make room and read more into the window: bytes added, 0 at the end, -1 error, -2 signal. */
static ssize_t fill(ws_jsonarray *a)
{
    size_t keep = a->has_mark ? a->mark : a->pos;
    if (keep > 0) {
        memmove(a->buf, a->buf + keep, a->buf_len - keep);
        a->buf_len -= keep;
        a->pos -= keep;
        a->base += keep;
        if (a->has_mark)
            a->mark -= keep;
        /* el_start and key_start are only read while marked, and equal the mark then */
        if (a->has_mark)
            a->el_start = a->key_start = a->mark;
    }
    if (a->has_mark && a->buf_len - a->mark > a->max_element)
        return afail(a, "element [%ld] at byte offset %" PRIu64 " is longer than %zu bytes (the reader's"
                     " bound)", a->next_index, a->base + a->mark, a->max_element);
    if (a->buf_cap - a->buf_len < a->chunk) {
        size_t cap = ws_grow_cap(a->buf_cap, a->buf_len + a->chunk, a->chunk);
        char *p = realloc(a->buf, cap + 1);
        if (!p)
            return afail(a, "out of memory for a %zu-byte element", cap);
        a->buf = p;
        a->buf_cap = cap;
    }
    ssize_t n = ws_bytes_read(a->bytes, a->buf + a->buf_len, a->chunk, &a->saved);
    if (n == -1)
        a->failed = 1; /* a->saved names the input, as afail() does */
    if (n > 0)
        a->buf_len += (size_t)n;
    return n;
}

/* ------------------------------------------------------------------ open / close */

/* Takes over `b` (closed on failure). The format is detected at the first read. */
static ws_jsonarray *array_new(ws_bytes *b, const ws_jsonarray_opts *opts, ws_err *err)
{
    if (!b)
        return NULL;
    ws_jsonarray *a = calloc(1, sizeof *a);
    if (!a) {
        ws_fail(err, "%s: out of memory", ws_bytes_name(b));
        ws_bytes_close(b);
        return NULL;
    }
    a->bytes = b;
    a->name = ws_bytes_name(b);
    a->last_index = -1;
    a->container = opts ? opts->container : WS_JSON_ARRAY;
    a->chunk = opts && opts->chunk ? opts->chunk : DEFAULT_CHUNK;
    a->max_element = opts && opts->max_element ? opts->max_element : WS_JSONARRAY_MAX_ELEMENT;
    if (a->container != WS_JSON_ARRAY && a->container != WS_JSON_OBJECT) {
        ws_fail(err, "%s: unknown container kind %d", a->name, a->container);
        ws_jsonarray_close(a);
        return NULL;
    }
    /* The window's first allocation. */
    a->buf_cap = a->chunk > 16 ? a->chunk : 16;
    a->buf = malloc(a->buf_cap + 1);
    if (!a->buf) {
        ws_fail(err, "%s: out of memory", a->name);
        ws_jsonarray_close(a);
        return NULL;
    }
    return a;
}

ws_jsonarray *ws_jsonarray_open(const char *path, const ws_jsonarray_opts *opts, ws_err *err)
{
    return array_new(ws_bytes_open(path, err), opts, err);
}

ws_jsonarray *ws_jsonarray_open_mem(const void *data, size_t size, const char *name,
                                    const ws_jsonarray_opts *opts, ws_err *err)
{
    return array_new(ws_bytes_open_mem(data, size, name, err), opts, err);
}

void ws_jsonarray_close(ws_jsonarray *a)
{
    if (!a)
        return;
    ws_bytes_close(a->bytes);
    free(a->buf);
    free(a->key);
    free(a);
}

/* ------------------------------------------------------------------ scanner */

static int is_ws(int c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static int begin_element(ws_jsonarray *a)
{
    char sh[16];
    int c = (unsigned char)a->buf[a->pos];
    if (c == ',' || c == ']' || c == '}' || c == ':')
        return afail(a, "byte offset %" PRIu64 ": expected element [%ld], found %s", a->base + a->pos,
                     a->next_index, show(c, sh));
    a->has_mark = 1;
    a->mark = a->el_start = a->pos;
    a->el_offset = a->base + a->pos;
    a->in_string = a->escape = 0;
    a->pos++;
    if (c == '{' || c == '[') {
        a->depth = 1;
        a->stack[0] = (char)c;
        a->state = S_NESTED;
    } else if (c == '"') {
        a->state = S_STRING;
    } else {
        a->state = S_SCALAR;
    }
    return 0;
}

/* Scan to the end of a string whose opening quote is behind: 1 when the closing quote was
 * consumed, 0 when the window ran out (the escape state is kept in a->escape). */
static int skip_string(ws_jsonarray *a)
{
    const char *p = a->buf + a->pos, *e = a->buf + a->buf_len;
    if (a->escape && p < e) {
        p++;
        a->escape = 0;
    }
    while (p < e) {
        const char *q = p;
        while (q < e && *q != '"' && *q != '\\')
            q++;
        if (q == e) {
            p = q;
            break;
        }
        if (*q == '"') {
            a->pos = (size_t)(q + 1 - a->buf);
            return 1;
        }
        if (q + 1 == e) { /* a backslash ends the window: its escaped byte comes next time */
            a->escape = 1;
            p = e;
            break;
        }
        p = q + 2;
    }
    a->pos = (size_t)(p - a->buf);
    return 0;
}

/* Scan inside an object/array element: 1 when it closed, 0 when the window ran out, -1 error. */
static int scan_nested(ws_jsonarray *a)
{
    char sh[16];
    for (;;) {
        if (a->in_string) {
            if (!skip_string(a))
                return 0;
            a->in_string = 0;
        }
        const char *p = a->buf + a->pos, *e = a->buf + a->buf_len;
        while (p < e) {
            char c = *p;
            if (c == '"' || c == '{' || c == '[' || c == '}' || c == ']')
                break;
            p++;
        }
        a->pos = (size_t)(p - a->buf);
        if (p == e)
            return 0;
        char c = *p;
        a->pos++;
        if (c == '"') {
            a->in_string = 1;
        } else if (c == '{' || c == '[') {
            if (a->depth >= WS_JSONARRAY_MAX_DEPTH)
                return afail(a, "element [%ld] at byte offset %" PRIu64 ": nested deeper than %d levels"
                             " at byte offset %" PRIu64, a->next_index, a->el_offset,
                             WS_JSONARRAY_MAX_DEPTH, a->base + a->pos - 1);
            a->stack[a->depth++] = c;
        } else {
            char open = a->stack[a->depth - 1];
            if ((c == '}') != (open == '{'))
                return afail(a, "element [%ld] at byte offset %" PRIu64 ": malformed JSON: %s at byte offset %"
                             PRIu64 " does not close '%c'", a->next_index, a->el_offset, show(c, sh),
                             a->base + a->pos - 1, open);
            if (--a->depth == 0) {
                a->el_end = a->pos;
                return 1;
            }
        }
    }
}

/* Decode the key string buf[key_start, pos) into a->key. */
static int take_key(ws_jsonarray *a)
{
    json_error_t jerr;
    size_t n = a->pos - a->key_start;
    json_t *k = json_loadb(a->buf + a->key_start, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!k)
        return afail(a, "member [%ld]: malformed key at byte offset %" PRIu64 ": %s", a->next_index,
                     a->base + a->key_start, jerr.text);
    size_t len = json_string_length(k);
    if (len + 1 > a->key_cap) {
        char *p = realloc(a->key, len + 1);
        if (!p) {
            json_decref(k);
            return afail(a, "out of memory");
        }
        a->key = p;
        a->key_cap = len + 1;
    }
    memcpy(a->key, json_string_value(k), len);
    a->key[len] = 0;
    a->key_len = len;
    json_decref(k);
    return 0;
}

/* Advance over the window. 1: an element is complete (buf[el_start, el_end)); 2: the container
 * closed and the input ended cleanly; 0: the window is used up, read more; -1: error. */
static int step(ws_jsonarray *a)
{
    char sh[16];
    for (;;) {
        if (a->state == S_NESTED || a->state == S_STRING || a->state == S_KEY) {
            int rc;
            if (a->state == S_NESTED) {
                rc = scan_nested(a);
            } else {
                rc = skip_string(a);
            }
            if (rc < 0)
                return -1;
            if (rc == 0)
                break;
            if (a->state == S_KEY) {
                if (take_key(a))
                    return -1;
                a->has_mark = 0;
                a->state = S_COLON;
                continue;
            }
            a->el_end = a->pos;
            a->state = S_AFTER;
            return 1;
        }
        if (a->state == S_SCALAR) {
            while (a->pos < a->buf_len) {
                int c = (unsigned char)a->buf[a->pos];
                if (is_ws(c) || c == ',' || c == ']' || c == '}')
                    break;
                a->pos++;
            }
            if (a->pos == a->buf_len)
                break;
            a->el_end = a->pos;
            a->state = S_AFTER;
            return 1;
        }
        /* The states between elements: skip whitespace, then look at one byte. */
        while (a->pos < a->buf_len && is_ws((unsigned char)a->buf[a->pos]))
            a->pos++;
        if (a->pos == a->buf_len)
            break;
        int c = (unsigned char)a->buf[a->pos];
        uint64_t at = a->base + a->pos;
        switch (a->state) {
        case S_START:
            if (at == 0 && c == 0xef) { /* a UTF-8 byte-order mark */
                if (a->buf_len - a->pos < 3 && !a->eof)
                    return 0;
                if (a->buf_len - a->pos >= 3 && (unsigned char)a->buf[a->pos + 1] == 0xbb &&
                    (unsigned char)a->buf[a->pos + 2] == 0xbf) {
                    a->pos += 3;
                    continue;
                }
            }
            if (c != (a->container == WS_JSON_OBJECT ? '{' : '['))
                return afail(a, "byte offset %" PRIu64 ": expected a JSON %s ('%c'), found %s", at, what(a),
                             a->container == WS_JSON_OBJECT ? '{' : '[', show(c, sh));
            a->pos++;
            a->state = S_OPEN;
            break;
        case S_OPEN:
        case S_NEXT:
            if (c == closer(a)) {
                if (a->state == S_NEXT)
                    return afail(a, "byte offset %" PRIu64 ": trailing comma after element [%ld] (JSON allows"
                                 " none)", at, a->next_index - 1);
                a->pos++;
                a->state = S_END;
                break;
            }
            if (a->container == WS_JSON_OBJECT) {
                if (c != '"')
                    return afail(a, "byte offset %" PRIu64 ": expected the key string of member [%ld], found %s",
                                 at, a->next_index, show(c, sh));
                a->has_mark = 1;
                a->mark = a->key_start = a->pos;
                a->escape = 0;
                a->pos++;
                a->state = S_KEY;
                break;
            }
            if (begin_element(a))
                return -1;
            break;
        case S_COLON:
            if (c != ':')
                return afail(a, "byte offset %" PRIu64 ": expected ':' after the key of member [%ld], found %s",
                             at, a->next_index, show(c, sh));
            a->pos++;
            a->state = S_MEMBER;
            break;
        case S_MEMBER:
            if (begin_element(a))
                return -1;
            break;
        case S_AFTER:
            if (c == ',') {
                a->pos++;
                a->state = S_NEXT;
            } else if (c == closer(a)) {
                a->pos++;
                a->state = S_END;
            } else {
                return afail(a, "byte offset %" PRIu64 ": expected ',' or '%c' after element [%ld], found %s",
                             at, closer(a), a->next_index - 1, show(c, sh));
            }
            break;
        case S_END:
            return afail(a, "byte offset %" PRIu64 ": trailing garbage after the %s's closing '%c': %s", at,
                         what(a), closer(a), show(c, sh));
        }
    }
    /* The window is used up. */
    if (!a->eof)
        return 0;
    uint64_t end = a->base + a->buf_len;
    switch (a->state) {
    case S_END:
        return 2;
    case S_START:
        return afail(a, "empty input: expected a JSON %s", what(a));
    case S_NESTED:
    case S_STRING:
        return afail(a, "truncated input: element [%ld] starting at byte offset %" PRIu64
                     " is incomplete at the end of the input (byte offset %" PRIu64 ")", a->next_index,
                     a->el_offset, end);
    default:
        return afail(a, "truncated input: the input ends at byte offset %" PRIu64 " before the %s's closing"
                     " '%c' (elements complete: %ld)", end, what(a), closer(a), a->next_index);
    }
}

int ws_jsonarray_next_raw(ws_jsonarray *a, const char **text, size_t *len, ws_err *err)
{
    *text = NULL;
    *len = 0;
    for (;;) {
        if (a->failed) {
            if (err)
                *err = a->saved;
            return WS_ERROR;
        }
        if (a->state == S_END && a->eof)
            return WS_EOF;
        int rc = step(a);
        if (rc == 1 && a->el_end - a->el_start > a->max_element) {
            afail(a, "element [%ld] at byte offset %" PRIu64 " is longer than %zu bytes (the reader's bound)",
                  a->next_index, a->el_offset, a->max_element);
            continue;
        }
        if (rc == 1) {
            a->has_mark = 0;
            a->last_index = a->next_index++;
            a->last_offset = a->el_offset;
            *text = a->buf + a->el_start;
            *len = a->el_end - a->el_start;
            return WS_RECORD;
        }
        if (rc == 2)
            return WS_EOF;
        if (rc < 0)
            continue; /* reported above */
        ssize_t n = fill(a);
        if (n == -2)
            return WS_INTERRUPTED;
        if (n == 0)
            a->eof = 1;
    }
}

int ws_jsonarray_next(ws_jsonarray *a, json_t **value, ws_err *err)
{
    const char *text;
    size_t len;
    *value = NULL;
    int rc = ws_jsonarray_next_raw(a, &text, &len, err);
    if (rc != WS_RECORD)
        return rc;
    json_error_t jerr;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v) {
        /* The element's extent is sound, so the reader can go on with the next one. */
        ws_fail(err, "%s: element [%ld] at byte offset %" PRIu64 ": malformed JSON near byte offset %" PRIu64
                ": %s", a->name, a->last_index, a->last_offset, a->last_offset + (uint64_t)jerr.position,
                jerr.text);
        return WS_ERROR;
    }
    *value = v;
    return WS_RECORD;
}

const char *ws_jsonarray_key(const ws_jsonarray *a, size_t *len)
{
    if (a->container != WS_JSON_OBJECT || a->last_index < 0 || !a->key) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = a->key_len;
    return a->key;
}

int ws_jsonarray_can_continue(const ws_jsonarray *a) { return !a->failed; }
long ws_jsonarray_index(const ws_jsonarray *a) { return a->last_index; }
uint64_t ws_jsonarray_element_offset(const ws_jsonarray *a) { return a->last_offset; }
uint64_t ws_jsonarray_offset(const ws_jsonarray *a) { return a->base + a->pos; }
uint64_t ws_jsonarray_input_bytes(const ws_jsonarray *a) { return ws_bytes_input_offset(a->bytes); }
const char *ws_jsonarray_name(const ws_jsonarray *a) { return a->name; }
int ws_jsonarray_is_zstd(const ws_jsonarray *a) { return ws_bytes_is_zstd(a->bytes); }
