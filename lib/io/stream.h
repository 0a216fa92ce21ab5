/* stream: bytes and JSON-lines records in and out, plain or zstd, files or stdin/stdout.
 *
 * Owns the byte-level contract between stages. A byte reader (ws_bytes) takes a path ("-" =
 * stdin) or a memory buffer, detects zstd by its magic number (so plain and compressed inputs
 * read alike), reads concatenated zstd frames as one stream with the streaming API (bounded
 * memory), reports truncated and corrupt frames by byte offset, and wakes up on SIGINT/SIGTERM
 * (lib/base/interrupt). Every reader of the project's inputs sits on it: the record reader here, which
 * splits lines, parses each with Jansson and checks the record's "type" and "v", and
 * lib/io/jsonarray. A writer serialises records one per line (doubles in their shortest round-trip
 * form), compresses when asked, and writes files through lib/io/outfile (a temporary name renamed
 * into place only when the stream is complete; devices and FIFOs written straight).
 *
 * Bounds: one line (record) is at most WS_MAX_LINE bytes. Blank lines are skipped. */
#ifndef WS_STREAM_H
#define WS_STREAM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#include "err.h"

#define WS_MAX_LINE ((size_t)256 << 20) /* 256 MiB */

enum { WS_RECORD = 1, WS_EOF = 0, WS_ERROR = -1, WS_INTERRUPTED = -2 };

/* ------------------------------------------------------------------ bytes */

typedef struct ws_bytes ws_bytes;

/* A file, or stdin for "-" (or NULL, named "<stdin>"); nothing is read yet. NULL on error. */
ws_bytes *ws_bytes_open(const char *path, ws_err *err);
/* Over caller-owned memory (kept until close); `name` (NULL: "<memory>") appears in messages. */
ws_bytes *ws_bytes_open_mem(const void *data, size_t size, const char *name, ws_err *err);
/* Read the first bytes now to decide plain or zstd (ws_bytes_read does it at its first call
 * otherwise): 0 when decided, -1 error (err filled), -2 interrupted (the bytes read so far are
 * kept and the next call goes on). */
int ws_bytes_detect(ws_bytes *b, ws_err *err);
/* Up to cap (> 0) bytes of the content, decompressed when zstd: the count (> 0), 0 at the end,
 * -1 error (err filled: read failure, or a truncated or corrupt zstd frame naming the byte
 * offset in the input), -2 interrupted (a signal arrived while waiting; call again to go on).
 * Plain input is read straight into buf. */
ssize_t ws_bytes_read(ws_bytes *b, void *buf, size_t cap, ws_err *err);
/* Bytes of the input itself read so far (compressed bytes for zstd): for progress. */
uint64_t ws_bytes_input_offset(const ws_bytes *b);
int ws_bytes_is_zstd(const ws_bytes *b); /* 0 until detected */
const char *ws_bytes_name(const ws_bytes *b);
void ws_bytes_close(ws_bytes *b);

/* ------------------------------------------------------------------ records */

typedef struct ws_reader ws_reader;

typedef struct ws_reader_opts {
    const char *type; /* required record type; NULL accepts any record object */
    int version;      /* the schema version of `type` this build reads */
    int allow_empty;  /* 0: an input without a single record is an error */
    size_t max_line;  /* longest accepted line in bytes; 0 means WS_MAX_LINE */
    /* Called on each record that passed the checks above (NULL: none): non-zero refuses it, err
     * filled, and the reader puts the file and line in front (a one-line error). */
    int (*check)(const json_t *record, void *ctx, ws_err *err);
    void *check_ctx;
} ws_reader_opts;

/* A reader over ws_bytes. The format is detected at once (ws_bytes_detect): an input that
 * cannot be read fails here, while an interruption before the first bytes still returns the
 * reader, whose first ws_reader_next returns WS_INTERRUPTED (reading goes on after it). */
ws_reader *ws_reader_open(const char *path, const ws_reader_opts *opts, ws_err *err);
/* A reader over caller-owned memory (tests, fuzzing); `name` appears in messages. */
ws_reader *ws_reader_open_mem(const void *data, size_t size, const char *name,
                              const ws_reader_opts *opts, ws_err *err);
/* WS_RECORD with a new reference in *record (caller decrefs), WS_EOF, WS_ERROR (err filled,
 * naming file and line or byte offset), or WS_INTERRUPTED (a signal arrived while waiting). */
int ws_reader_next(ws_reader *r, json_t **record, ws_err *err);
/* After WS_ERROR: 1 when the error was confined to one line (malformed JSON, not an object, wrong
 * type or version, longer than max_line: its bytes are skipped, never held) and reading can go on
 * with the next line; 0 for fatal errors (I/O, zstd). */
int ws_reader_recoverable(const ws_reader *r);
const char *ws_reader_name(const ws_reader *r);
long ws_reader_line(const ws_reader *r);    /* line of the last record handed out */
long ws_reader_records(const ws_reader *r); /* records handed out so far */
int ws_reader_is_zstd(const ws_reader *r);
void ws_reader_close(ws_reader *r);

/* ------------------------------------------------------------------ writer */

typedef struct ws_writer ws_writer;

enum { WS_COMPRESS_AUTO = -1, WS_COMPRESS_NO = 0, WS_COMPRESS_YES = 1 };

typedef struct ws_writer_opts {
    int compress; /* WS_COMPRESS_AUTO: zstd when the path ends in ".zst" */
    int level;    /* zstd level; 0 means the default (3) */
} ws_writer_opts;

/* path "-" (or NULL) is stdout; anything else is opened by ws_outfile_open (lib/io/outfile). */
ws_writer *ws_writer_open(const char *path, const ws_writer_opts *opts, ws_err *err);
int ws_writer_put(ws_writer *w, const json_t *record, ws_err *err);
/* Bytes as they are, for a document that is not JSON lines (one huge JSON array written element
 * by element, as WebShop's raw catalog is), compressed like records. */
int ws_writer_put_text(ws_writer *w, const char *text, size_t n, ws_err *err);
/* Push every record written so far to the file or pipe now (an interactive service answers
 * each request at once); a zstd stream stays one frame. */
int ws_writer_flush(ws_writer *w, ws_err *err);
/* Finish the stream: end the zstd frame, flush, fsync and rename into place. Frees w. */
int ws_writer_close(ws_writer *w, ws_err *err);
/* After an interruption: keep every complete record, as a valid stream, under "<path>.partial"
 * so the final name never holds an incomplete result (a device, FIFO or stdout has them
 * already). Frees w. */
int ws_writer_close_partial(ws_writer *w, ws_err *err);
/* After an error: remove the temporary file. Frees w. */
void ws_writer_discard(ws_writer *w);
const char *ws_writer_name(const ws_writer *w);

/* The one-line serialisation the writer uses, appended to *buf (grown with realloc). */
int ws_json_append(const json_t *value, char **buf, size_t *len, size_t *cap);

#endif
