/* jsonarray: stream the elements of one huge top-level JSON array (or the members of one huge
 * top-level JSON object), plain or zstd, with bounded memory.
 *
 * WebShop ships its raw catalog as a single JSON array of ~1.18M products (several GB, usually on
 * one line), which no line reader and no whole-document parser can hold. This reader finds each
 * element's extent with a small state machine (strings, escapes, bracket nesting), hands the
 * element's bytes to Jansson (json_loadb) and forgets them: memory is one read chunk plus the
 * largest element, never the document. Input is a path ("-" = stdin) or a memory buffer, read
 * through lib/io/stream's ws_bytes: zstd is detected by its magic number at the first read, and
 * concatenated frames read as one stream.
 *
 * Grammar accepted: optional whitespace (and one UTF-8 byte-order mark at the very start), the
 * container, optional whitespace, nothing else. Elements may be any JSON value. Errors name the
 * byte offset (in the decompressed stream when the input is zstd) and the element's 0-based index,
 * written "element [i]": an input that ends inside the array ("truncated"), a malformed element
 * (Jansson's message), a missing ',' or a trailing comma, a bracket that closes the wrong thing,
 * an element longer than the bound, and trailing garbage after the closing bracket.
 *
 * Object mode hands out each member's value; ws_jsonarray_key gives its (decoded) key. Duplicate
 * keys are handed out as they come (a caller that wants Python's "last wins" overwrites). */
#ifndef WS_JSONARRAY_H
#define WS_JSONARRAY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "stream.h" /* WS_RECORD, WS_EOF, WS_ERROR, WS_INTERRUPTED */

#define WS_JSONARRAY_MAX_ELEMENT ((size_t)256 << 20) /* 256 MiB */
#define WS_JSONARRAY_MAX_DEPTH 2048                 /* Jansson's own parsing depth limit */

enum { WS_JSON_ARRAY = 0, WS_JSON_OBJECT = 1 };

typedef struct ws_jsonarray ws_jsonarray;

typedef struct ws_jsonarray_opts {
    int container;      /* WS_JSON_ARRAY (default) or WS_JSON_OBJECT */
    size_t max_element; /* longest accepted element in bytes; 0 means WS_JSONARRAY_MAX_ELEMENT */
    size_t chunk;       /* bytes read at a time; 0 means 1 MiB (tests use tiny chunks) */
} ws_jsonarray_opts;

ws_jsonarray *ws_jsonarray_open(const char *path, const ws_jsonarray_opts *opts, ws_err *err);
/* Over caller-owned memory (tests); `name` appears in messages. */
ws_jsonarray *ws_jsonarray_open_mem(const void *data, size_t size, const char *name,
                                    const ws_jsonarray_opts *opts, ws_err *err);

/* The next element parsed: WS_RECORD with a new reference in *value (caller decrefs), WS_EOF after
 * the closing bracket (and nothing but whitespace after it), WS_ERROR (err filled), or
 * WS_INTERRUPTED (a signal arrived while reading; call again to go on). An element Jansson rejects
 * (an invalid token, a bad escape, invalid UTF-8; also what Python's json takes and Jansson does
 * not: NaN, Infinity, integers beyond 64 bits, lone surrogates) is a WS_ERROR the reader survives:
 * ws_jsonarray_can_continue() says so, and the next call reads the following element. Any other
 * error (the array's structure, truncation, I/O) is final: every later call repeats it. */
int ws_jsonarray_next(ws_jsonarray *a, json_t **value, ws_err *err);
/* 1 while the reader can go on (no final error so far). */
int ws_jsonarray_can_continue(const ws_jsonarray *a);
/* The next element's bytes, unparsed and unchecked (its extent only): valid until the next call. */
int ws_jsonarray_next_raw(ws_jsonarray *a, const char **text, size_t *len, ws_err *err);

/* Object mode: the key of the member last handed out (NUL-terminated; *len excludes the NUL and
 * counts any NUL the key itself holds). NULL in array mode or before the first member. */
const char *ws_jsonarray_key(const ws_jsonarray *a, size_t *len);
/* 0-based index of the element last handed out (-1 before the first). */
long ws_jsonarray_index(const ws_jsonarray *a);
/* Byte offset where the element last handed out starts (decompressed stream). */
uint64_t ws_jsonarray_element_offset(const ws_jsonarray *a);
/* Bytes of the (decompressed) stream scanned so far, and bytes of the input itself read so far
 * (they differ for zstd input): for progress and throughput. */
uint64_t ws_jsonarray_offset(const ws_jsonarray *a);
uint64_t ws_jsonarray_input_bytes(const ws_jsonarray *a);
const char *ws_jsonarray_name(const ws_jsonarray *a);
int ws_jsonarray_is_zstd(const ws_jsonarray *a); /* known once the first element was read */
void ws_jsonarray_close(ws_jsonarray *a);

#endif
