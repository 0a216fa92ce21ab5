#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "grow.h"
#include "interrupt.h"
#include "outfile.h"

#define CHUNK ((size_t)1 << 17)
#define ZSTD_PIECE ((size_t)1 << 12) /* input handed to one ZSTD_decompressStream call */

/* ------------------------------------------------------------------ bytes */

struct ws_bytes {
    char *name;
    int fd;                 /* -1 for a memory source */
    const uint8_t *mem;     /* memory source */
    size_t mem_size, mem_pos;
    int source_eof;
    uint64_t input_bytes;   /* read from the source so far */

    int detected, zstd;
    ZSTD_DCtx *dctx;
    uint8_t *in;            /* CHUNK bytes: zstd, those not yet decompressed; plain, those read to
                               detect the format, handed out first */
    size_t in_len, in_pos;
    uint64_t in_offset;     /* input bytes before in[0] */
    size_t frame_remaining; /* last ZSTD_decompressStream hint: 0 at a frame boundary */
    uint64_t good_in;       /* input bytes consumed when the last decompressed bytes came out */
    uint64_t out_bytes;     /* decompressed bytes handed out */
};

/* Read up to `cap` bytes from the source. Returns bytes read, 0 at end, -1 error, -2 signal. */
static ssize_t source_read(ws_bytes *b, void *buf, size_t cap, ws_err *err)
{
    if (b->source_eof)
        return 0;
    if (b->fd < 0) {
        size_t n = b->mem_size - b->mem_pos;
        if (n > cap)
            n = cap;
        memcpy(buf, b->mem + b->mem_pos, n);
        b->mem_pos += n;
        b->input_bytes += n;
        if (n == 0)
            b->source_eof = 1;
        return (ssize_t)n;
    }
    for (;;) {
        ssize_t n = read(b->fd, buf, cap);
        if (n > 0) {
            b->input_bytes += (uint64_t)n;
            return n;
        }
        if (n == 0) {
            b->source_eof = 1;
            return 0;
        }
        if (errno == EINTR) {
            if (ws_interrupted())
                return -2;
            continue;
        }
        return ws_fail(err, "%s: read failed: %s", b->name, strerror(errno));
    }
}

static int is_zstd_magic(const uint8_t *p, size_t n)
{
    if (n < 4)
        return 0;
    uint32_t magic = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return magic == ZSTD_MAGICNUMBER || (magic & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START;
}

/* Another compressor's magic number: its name, else NULL. */
static const char *other_compression(const uint8_t *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return "gzip";
    if (n >= 3 && memcmp(p, "BZh", 3) == 0)
        return "bzip2";
    if (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
        return "xz";
    return NULL;
}

int ws_bytes_detect(ws_bytes *b, ws_err *err)
{
    if (b->detected)
        return 0;
    while (b->in_len < 4 && !b->source_eof) {
        ssize_t n = source_read(b, b->in + b->in_len, CHUNK - b->in_len, err);
        if (n < 0)
            return (int)n;
        b->in_len += (size_t)n;
    }
    if (is_zstd_magic(b->in, b->in_len)) {
        if (!(b->dctx = ZSTD_createDCtx()))
            return ws_fail(err, "%s: out of memory", b->name);
        b->zstd = 1;
    }
    const char *other = other_compression(b->in, b->in_len);
    if (other)
        return ws_fail(err, "%s: %s-compressed input: the tools read JSON lines, plain or zstd (decompress it, or "
                       "recompress with zstd)", b->name, other);
    b->detected = 1;
    return 0;
}

static ws_bytes *bytes_new(const char *name, ws_err *err)
{
    ws_bytes *b = calloc(1, sizeof *b);
    if (!b || !(b->name = strdup(name)) || !(b->in = malloc(CHUNK))) {
        ws_fail(err, "%s: out of memory", name);
        if (b)
            free(b->name);
        free(b);
        return NULL;
    }
    b->fd = -1;
    return b;
}

ws_bytes *ws_bytes_open(const char *path, ws_err *err)
{
    int is_stdin = !path || strcmp(path, "-") == 0;
    ws_bytes *b = bytes_new(is_stdin ? "<stdin>" : path, err);
    if (!b)
        return NULL;
    if (is_stdin) {
        b->fd = STDIN_FILENO;
    } else if ((b->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        ws_fail(err, "%s: cannot open: %s", path, strerror(errno));
        ws_bytes_close(b);
        return NULL;
    }
    return b;
}

ws_bytes *ws_bytes_open_mem(const void *data, size_t size, const char *name, ws_err *err)
{
    ws_bytes *b = bytes_new(name ? name : "<memory>", err);
    if (!b)
        return NULL;
    b->mem = data;
    b->mem_size = size;
    return b;
}

ssize_t ws_bytes_read(ws_bytes *b, void *buf, size_t cap, ws_err *err)
{
    if (!b->detected) {
        int rc = ws_bytes_detect(b, err);
        if (rc < 0)
            return rc;
    }
    if (!b->zstd) {
        if (b->in_pos < b->in_len) {
            size_t n = b->in_len - b->in_pos;
            if (n > cap)
                n = cap;
            memcpy(buf, b->in + b->in_pos, n);
            b->in_pos += n;
            return (ssize_t)n;
        }
        return source_read(b, buf, cap, err);
    }
    for (;;) {
        if (b->in_pos == b->in_len) {
            b->in_offset += b->in_len;
            b->in_pos = b->in_len = 0;
            ssize_t n = source_read(b, b->in, CHUNK, err);
            if (n < 0)
                return n;
            if (n == 0) {
                if (b->frame_remaining != 0)
                    return ws_fail(err, "%s: truncated zstd frame: input ends at byte offset %" PRIu64
                                   " inside a frame", b->name, b->in_offset);
                return 0;
            }
            b->in_len = (size_t)n;
        }
        /* fed a piece at a time, so that a corrupt block is reported near where its input ends */
        size_t piece = b->in_len - b->in_pos < ZSTD_PIECE ? b->in_len : b->in_pos + ZSTD_PIECE;
        ZSTD_inBuffer ib = {b->in, piece, b->in_pos};
        ZSTD_outBuffer ob = {buf, cap, 0};
        size_t ret = ZSTD_decompressStream(b->dctx, &ob, &ib);
        /* zstd checks a whole block (up to 128 KiB of output) at once, so a corruption is found
         * somewhere between the input that last produced output and the input read so far */
        if (ZSTD_isError(ret))
            return ws_fail(err, "%s: corrupt zstd data between byte offsets %" PRIu64 " and %" PRIu64
                           " (after %" PRIu64 " good decompressed bytes): %s", b->name, b->good_in,
                           b->in_offset + piece, b->out_bytes, ZSTD_getErrorName(ret));
        b->frame_remaining = ret;
        b->in_pos = ib.pos;
        if (ob.pos > 0) {
            b->good_in = b->in_offset + ib.pos;
            b->out_bytes += ob.pos;
            return (ssize_t)ob.pos;
        }
    }
}

uint64_t ws_bytes_input_offset(const ws_bytes *b) { return b->input_bytes; }
int ws_bytes_is_zstd(const ws_bytes *b) { return b->zstd; }
const char *ws_bytes_name(const ws_bytes *b) { return b->name; }

void ws_bytes_close(ws_bytes *b)
{
    if (!b)
        return;
    if (b->fd > STDIN_FILENO)
        close(b->fd);
    ZSTD_freeDCtx(b->dctx);
    free(b->in);
    free(b->name);
    free(b);
}

/* ------------------------------------------------------------------ reader */

struct ws_reader {
    ws_bytes *bytes;
    const char *name;      /* the byte source's */

    char *out;             /* content bytes being split into lines */
    size_t out_len, out_pos;

    char *line;            /* a line that spans refills */
    size_t line_len, line_cap;

    long line_no, record_line, records;
    int line_error; /* the last error concerned one line only */
    int interrupted_at_open; /* reported by the first ws_reader_next */
    int overlong;   /* the line being gathered is over the bound: skipped to its end */
    ws_reader_opts opts;
    int finished;
};

/* Takes over `b` (closed on failure). The format is detected here, up front. */
static ws_reader *reader_new(ws_bytes *b, const ws_reader_opts *opts, ws_err *err)
{
    if (!b)
        return NULL;
    ws_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->out = malloc(CHUNK))) {
        ws_fail(err, "%s: out of memory", ws_bytes_name(b));
        free(r);
        ws_bytes_close(b);
        return NULL;
    }
    r->bytes = b;
    r->name = ws_bytes_name(b);
    if (opts)
        r->opts = *opts;
    /* Interrupted before the first bytes (-2): the reader is still handed out, and its first
     * ws_reader_next reports the interruption (reading again would block on the input anew and
     * take its end for an empty input). */
    int rc = ws_bytes_detect(b, err);
    if (rc == -1) {
        ws_reader_close(r);
        return NULL;
    }
    r->interrupted_at_open = rc == -2;
    return r;
}

ws_reader *ws_reader_open(const char *path, const ws_reader_opts *opts, ws_err *err)
{
    return reader_new(ws_bytes_open(path, err), opts, err);
}

ws_reader *ws_reader_open_mem(const void *data, size_t size, const char *name,
                              const ws_reader_opts *opts, ws_err *err)
{
    return reader_new(ws_bytes_open_mem(data, size, name, err), opts, err);
}

/* Refill r->out. Returns bytes now available, 0 at the end of the input, or <0. */
static ssize_t refill(ws_reader *r, ws_err *err)
{
    r->out_pos = r->out_len = 0;
    ssize_t n = ws_bytes_read(r->bytes, r->out, CHUNK, err);
    if (n > 0)
        r->out_len = (size_t)n;
    return n;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

static size_t max_line(const ws_reader *r)
{
    return r->opts.max_line ? r->opts.max_line : WS_MAX_LINE;
}

static int fail_overlong(const ws_reader *r, ws_err *err)
{
    return ws_fail(err, "%s:%ld: line longer than %zu bytes (the reader's bound)", r->name, r->line_no,
                   max_line(r));
}

/* Parse one complete line into a checked record. 1 = record, 0 = blank, -1 = error. */
static int parse_line(ws_reader *r, const char *s, size_t n, json_t **record, ws_err *err)
{
    r->line_no++;
    if (n > max_line(r))
        return fail_overlong(r, err);
    if (is_blank(s, n))
        return 0;
    json_error_t jerr;
    json_t *v = json_loadb(s, n, JSON_ALLOW_NUL, &jerr);
    if (!v)
        return ws_fail(err, "%s:%ld:%d: malformed JSON: %s", r->name, r->line_no, jerr.column, jerr.text);
    if (!json_is_object(v)) {
        json_decref(v);
        return ws_fail(err, "%s:%ld: a record must be a JSON object", r->name, r->line_no);
    }
    if (r->opts.type) {
        const char *type = json_string_value(json_object_get(v, "type"));
        json_t *ver = json_object_get(v, "v");
        int bad = 0;
        if (!type)
            bad = ws_fail(err, "%s:%ld: record has no \"type\" (expected a %s record)", r->name,
                          r->line_no, r->opts.type);
        else if (strcmp(type, r->opts.type) != 0)
            bad = ws_fail(err, "%s:%ld: expected a %s record, got a %s record", r->name, r->line_no,
                          r->opts.type, type);
        else if (!json_is_integer(ver))
            bad = ws_fail(err, "%s:%ld: %s record has no integer \"v\" (schema version)", r->name,
                          r->line_no, type);
        else if (json_integer_value(ver) != r->opts.version)
            bad = ws_fail(err, "%s:%ld: %s record of schema version %" JSON_INTEGER_FORMAT
                          ", this build reads version %d", r->name, r->line_no, type,
                          json_integer_value(ver), r->opts.version);
        if (bad) {
            json_decref(v);
            return -1;
        }
    }
    if (r->opts.check && r->opts.check(v, r->opts.check_ctx, err)) {
        char where[768];
        snprintf(where, sizeof where, "%s:%ld", r->name, r->line_no);
        json_decref(v);
        return ws_fail_prefix(err, where);
    }
    r->record_line = r->line_no;
    r->records++;
    *record = v;
    return 1;
}

/* Gather a piece of a line that spans refills. A line over the bound is not kept: its bytes
 * are dropped up to its end, where it is reported as one bad line (so a service reads on). */
static int line_append(ws_reader *r, const char *s, size_t n, ws_err *err)
{
    if (r->overlong || r->line_len + n > max_line(r)) {
        r->overlong = 1;
        r->line_len = 0;
        return 0;
    }
    if (r->line_len + n > r->line_cap) {
        size_t cap = ws_grow_cap(r->line_cap, r->line_len + n, CHUNK);
        char *p = ws_realloc_array(r->line, cap, 1);
        if (!p)
            return ws_fail(err, "%s:%ld: out of memory for a %zu-byte line", r->name, r->line_no + 1, cap);
        r->line = p;
        r->line_cap = cap;
    }
    memcpy(r->line + r->line_len, s, n);
    r->line_len += n;
    return 0;
}

/* The line gathered across refills is complete: parse it, or report it as over the bound. */
static int parse_gathered(ws_reader *r, json_t **record, ws_err *err)
{
    size_t n = r->line_len;
    r->line_len = 0;
    if (!r->overlong)
        return parse_line(r, r->line, n, record, err);
    r->overlong = 0;
    r->line_no++;
    return fail_overlong(r, err);
}

int ws_reader_next(ws_reader *r, json_t **record, ws_err *err)
{
    *record = NULL;
    r->line_error = 0;
    if (r->finished)
        return WS_EOF;
    if (r->interrupted_at_open) {
        r->interrupted_at_open = 0;
        return WS_INTERRUPTED;
    }
    for (;;) {
        char *start = r->out + r->out_pos;
        size_t avail = r->out_len - r->out_pos;
        char *nl = avail ? memchr(start, '\n', avail) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - start);
            r->out_pos += n + 1;
            int rc;
            if (r->line_len == 0 && !r->overlong) {
                rc = parse_line(r, start, n, record, err);
            } else {
                if (line_append(r, start, n, err))
                    return WS_ERROR;
                rc = parse_gathered(r, record, err);
            }
            if (rc < 0) {
                r->line_error = 1; /* the bad line is consumed: the next call reads on */
                return WS_ERROR;
            }
            if (rc > 0)
                return WS_RECORD;
            continue;
        }
        if (avail && line_append(r, start, avail, err))
            return WS_ERROR;
        ssize_t n = refill(r, err);
        if (n == -2)
            return WS_INTERRUPTED;
        if (n < 0)
            return WS_ERROR;
        if (n > 0)
            continue;
        /* End of input: a last line without its newline is still a record. */
        r->finished = 1;
        if (r->line_len || r->overlong) {
            int rc = parse_gathered(r, record, err);
            if (rc < 0) {
                r->line_error = 1;
                return WS_ERROR;
            }
            if (rc > 0)
                return WS_RECORD;
        }
        if (r->records == 0 && !r->opts.allow_empty) {
            if (r->opts.type)
                ws_fail(err, "%s: no records: the input is empty (expected %s records)", r->name, r->opts.type);
            else
                ws_fail(err, "%s: no records: the input is empty", r->name);
            return WS_ERROR;
        }
        return WS_EOF;
    }
}

const char *ws_reader_name(const ws_reader *r) { return r->name; }
int ws_reader_recoverable(const ws_reader *r) { return r->line_error; }
long ws_reader_line(const ws_reader *r) { return r->record_line; }
long ws_reader_records(const ws_reader *r) { return r->records; }
int ws_reader_is_zstd(const ws_reader *r) { return ws_bytes_is_zstd(r->bytes); }

void ws_reader_close(ws_reader *r)
{
    if (!r)
        return;
    ws_bytes_close(r->bytes);
    free(r->out);
    free(r->line);
    free(r);
}

/* ------------------------------------------------------------------ serialisation */

static int buf_reserve(char **buf, size_t *len, size_t *cap, size_t extra)
{
    char *p = ws_grow(*buf, cap, *len + extra, 1, 4096);
    if (!p)
        return -1;
    *buf = p;
    return 0;
}

static int append_string(const char *s, size_t n, char **buf, size_t *len, size_t *cap)
{
    if (buf_reserve(buf, len, cap, n * 6 + 2))
        return -1;
    char *o = *buf + *len;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        size_t run = i; /* copy the longest stretch that needs no escape in one go */
        while (run < n && (unsigned char)s[run] >= 0x20 && s[run] != '"' && s[run] != '\\')
            run++;
        memcpy(o, s + i, run - i);
        o += run - i;
        if (run == n)
            break;
        unsigned char c = (unsigned char)s[run];
        i = run + 1;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else {
            switch (c) {
            case '\n': *o++ = '\\'; *o++ = 'n'; break;
            case '\t': *o++ = '\\'; *o++ = 't'; break;
            case '\r': *o++ = '\\'; *o++ = 'r'; break;
            default: o += sprintf(o, "\\u%04x", c);
            }
        }
    }
    *o++ = '"';
    *len = (size_t)(o - *buf);
    return 0;
}

/* The shortest "%.{15,16,17}g" that reads back as the same double. */
static int append_real(double d, char **buf, size_t *len, size_t *cap)
{
    if (buf_reserve(buf, len, cap, 40))
        return -1;
    char *o = *buf + *len;
    if (!isfinite(d)) {
        /* JSON has no infinity or NaN; Jansson never builds them, so this is a caller bug. */
        *len += (size_t)sprintf(o, "null");
        return 0;
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(o, 40, "%.*g", prec, d);
        if (strtod(o, NULL) == d)
            break;
    }
    /* Keep reals recognisably real ("1.0", not "1") so they read back as reals. */
    if (!strpbrk(o, ".eEn")) {
        o[n++] = '.';
        o[n++] = '0';
        o[n] = 0;
    }
    *len += (size_t)n;
    return 0;
}

int ws_json_append(const json_t *v, char **buf, size_t *len, size_t *cap)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *child;
        int first = 1;
        if (buf_reserve(buf, len, cap, 1))
            return -1;
        (*buf)[(*len)++] = '{';
        json_object_foreach((json_t *)v, key, child) {
            if (!first) {
                if (buf_reserve(buf, len, cap, 1))
                    return -1;
                (*buf)[(*len)++] = ',';
            }
            first = 0;
            if (append_string(key, strlen(key), buf, len, cap) || buf_reserve(buf, len, cap, 1))
                return -1;
            (*buf)[(*len)++] = ':';
            if (ws_json_append(child, buf, len, cap))
                return -1;
        }
        if (buf_reserve(buf, len, cap, 1))
            return -1;
        (*buf)[(*len)++] = '}';
        return 0;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (buf_reserve(buf, len, cap, 1))
            return -1;
        (*buf)[(*len)++] = '[';
        for (size_t i = 0; i < n; i++) {
            if (i) {
                if (buf_reserve(buf, len, cap, 1))
                    return -1;
                (*buf)[(*len)++] = ',';
            }
            if (ws_json_append(json_array_get(v, i), buf, len, cap))
                return -1;
        }
        if (buf_reserve(buf, len, cap, 1))
            return -1;
        (*buf)[(*len)++] = ']';
        return 0;
    }
    case JSON_STRING:
        return append_string(json_string_value(v), json_string_length(v), buf, len, cap);
    case JSON_INTEGER:
        if (buf_reserve(buf, len, cap, 24))
            return -1;
        *len += (size_t)sprintf(*buf + *len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return 0;
    case JSON_REAL:
        return append_real(json_real_value(v), buf, len, cap);
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL: {
        const char *lit = json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null";
        size_t n = strlen(lit);
        if (buf_reserve(buf, len, cap, n))
            return -1;
        memcpy(*buf + *len, lit, n);
        *len += n;
        return 0;
    }
    }
    return -1;
}

/* ------------------------------------------------------------------ writer */

struct ws_writer {
    ws_outfile *out;
    ZSTD_CCtx *cctx;
    char *line;     /* one serialised record */
    size_t line_len, line_cap;
    char *buf;      /* bytes waiting for write() */
    size_t buf_len;
    struct timespec last_flush;
    const char *name;
};

static int drain(ws_writer *w, ws_err *err)
{
    int rc = ws_outfile_write(w->out, w->buf, w->buf_len, err);
    w->buf_len = 0;
    return rc;
}

/* Push `n` bytes through the compressor (or straight into the output buffer). */
static int emit(ws_writer *w, const char *p, size_t n, ZSTD_EndDirective mode, ws_err *err)
{
    if (!w->cctx) {
        if (w->buf_len + n > CHUNK && drain(w, err))
            return -1;
        if (n > CHUNK)
            return ws_outfile_write(w->out, p, n, err);
        if (n) {
            memcpy(w->buf + w->buf_len, p, n);
            w->buf_len += n;
        }
        return mode == ZSTD_e_continue ? 0 : drain(w, err);
    }
    ZSTD_inBuffer ib = {p, n, 0};
    for (;;) {
        ZSTD_outBuffer ob = {w->buf, CHUNK, w->buf_len};
        size_t left = ZSTD_compressStream2(w->cctx, &ob, &ib, mode);
        if (ZSTD_isError(left))
            return ws_fail(err, "%s: zstd compression failed: %s", w->name, ZSTD_getErrorName(left));
        w->buf_len = ob.pos;
        int done = mode == ZSTD_e_continue ? ib.pos == ib.size : left == 0;
        if (w->buf_len == CHUNK || (done && mode != ZSTD_e_continue)) {
            if (drain(w, err))
                return -1;
        }
        if (done)
            return 0;
    }
}

ws_writer *ws_writer_open(const char *path, const ws_writer_opts *opts, ws_err *err)
{
    ws_writer_opts o = opts ? *opts : (ws_writer_opts){WS_COMPRESS_AUTO, 0};
    ws_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->buf = malloc(CHUNK))) {
        free(w);
        ws_fail(err, "out of memory");
        return NULL;
    }
    if (!(w->out = ws_outfile_open(path, err))) {
        ws_writer_discard(w);
        return NULL;
    }
    w->name = ws_outfile_name(w->out);
    size_t n = path ? strlen(path) : 0;
    if (o.compress == WS_COMPRESS_AUTO)
        o.compress = n >= 4 && strcmp(path + n - 4, ".zst") == 0;
    if (o.compress == WS_COMPRESS_YES) {
        w->cctx = ZSTD_createCCtx();
        /* The checksum lets readers detect a corrupted file instead of parsing garbage. */
        if (!w->cctx ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, o.level ? o.level : 3)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1))) {
            ws_fail(err, "%s: cannot set up zstd level %d", w->name, o.level);
            ws_writer_discard(w);
            return NULL;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &w->last_flush);
    return w;
}

/* A slow producer (training metrics, a long rollout) still reaches its readers: flush at
 * least once a second. */
static int flush_if_stale(ws_writer *w, ws_err *err)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - w->last_flush.tv_sec < 1)
        return 0;
    return ws_writer_flush(w, err);
}

int ws_writer_put(ws_writer *w, const json_t *record, ws_err *err)
{
    w->line_len = 0;
    if (ws_json_append(record, &w->line, &w->line_len, &w->line_cap) ||
        buf_reserve(&w->line, &w->line_len, &w->line_cap, 1))
        return ws_fail(err, "%s: cannot serialise record: out of memory", w->name);
    w->line[w->line_len++] = '\n';
    if (emit(w, w->line, w->line_len, ZSTD_e_continue, err))
        return -1;
    return flush_if_stale(w, err);
}

int ws_writer_put_text(ws_writer *w, const char *text, size_t n, ws_err *err)
{
    if (emit(w, text, n, ZSTD_e_continue, err))
        return -1;
    return flush_if_stale(w, err);
}

int ws_writer_flush(ws_writer *w, ws_err *err)
{
    clock_gettime(CLOCK_MONOTONIC, &w->last_flush);
    return emit(w, NULL, 0, ZSTD_e_flush, err);
}

/* End the stream and hand the file to its name (with `suffix`, see ws_outfile_commit). */
static int finish(ws_writer *w, const char *suffix, ws_err *err)
{
    int rc = emit(w, NULL, 0, w->cctx ? ZSTD_e_end : ZSTD_e_flush, err);
    if (rc == 0) {
        rc = ws_outfile_commit(w->out, suffix, err);
        w->out = NULL; /* committed or removed: nothing left to discard */
    }
    ws_writer_discard(w);
    return rc;
}

int ws_writer_close(ws_writer *w, ws_err *err)
{
    return finish(w, NULL, err);
}

int ws_writer_close_partial(ws_writer *w, ws_err *err)
{
    return finish(w, ".partial", err);
}

void ws_writer_discard(ws_writer *w)
{
    if (!w)
        return;
    ws_outfile_discard(w->out);
    ZSTD_freeCCtx(w->cctx);
    free(w->line);
    free(w->buf);
    free(w);
}

const char *ws_writer_name(const ws_writer *w) { return w->name; }
