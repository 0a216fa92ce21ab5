/* Unit tests of lib/io/stream: the byte reader (plain, zstd, files, memory), reading plain and zstd
 * records, every bad input, writing atomically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include "interrupt.h"
#include "stream.h"
#include "zstd_frame.h"

/* Reads every record of a memory buffer; returns the count, or -1 with err set. */
static long read_all(const void *data, size_t n, const ws_reader_opts *opts, ws_err *err)
{
    ws_reader *r = ws_reader_open_mem(data, n, "mem", opts, err);
    if (!r)
        return -1;
    json_t *rec;
    long count = 0;
    int rc;
    while ((rc = ws_reader_next(r, &rec, err)) == WS_RECORD) {
        json_decref(rec);
        count++;
    }
    ws_reader_close(r);
    return rc == WS_EOF ? count : -1;
}

static void expect_error(const char *data, size_t n, const ws_reader_opts *opts, const char *needle)
{
    ws_err err = {{0}};
    assert_int_equal(read_all(data, n, opts, &err), -1);
    if (!strstr(err.msg, needle))
        fail_msg("error '%s' does not contain '%s'", err.msg, needle);
}

/* Everything ws_bytes hands out, read `cap` bytes at a time; returns the last ws_bytes_read code
 * (0 at the end) and leaves the content in *out (caller frees) and its length in *n. */
static ssize_t bytes_drain(ws_bytes *b, size_t cap, char **out, size_t *n, ws_err *err)
{
    char *text = NULL;
    size_t len = 0;
    ssize_t rc;
    char *buf = malloc(cap);
    while ((rc = ws_bytes_read(b, buf, cap, err)) > 0) {
        assert_true((size_t)rc <= cap);
        text = realloc(text, len + (size_t)rc + 1);
        memcpy(text + len, buf, (size_t)rc);
        len += (size_t)rc;
    }
    free(buf);
    if (!text)
        text = malloc(1);
    text[len] = 0;
    *out = text;
    *n = len;
    return rc;
}

/* The whole content of a memory source, every read size from 1 byte up to `max_cap`. */
static void expect_bytes(const void *data, size_t size, size_t max_cap, const char *want, size_t want_n,
                         int zstd)
{
    for (size_t cap = 1; cap <= max_cap; cap = cap < 16 ? cap + 1 : cap * 4) {
        ws_err err = {{0}};
        ws_bytes *b = ws_bytes_open_mem(data, size, "mem", &err);
        assert_non_null(b);
        char *got;
        size_t n;
        if (bytes_drain(b, cap, &got, &n, &err) != 0)
            fail_msg("read size %zu: %s", cap, err.msg);
        assert_int_equal(n, want_n);
        assert_memory_equal(got, want, want_n);
        assert_int_equal(ws_bytes_is_zstd(b), zstd);
        assert_int_equal(ws_bytes_input_offset(b), size);
        assert_int_equal(ws_bytes_read(b, got, 1, &err), 0); /* the end stays the end */
        free(got);
        ws_bytes_close(b);
    }
}

static void expect_bytes_error(const void *data, size_t size, const char *needle)
{
    ws_err err = {{0}};
    ws_bytes *b = ws_bytes_open_mem(data, size, "mem", &err);
    assert_non_null(b);
    char *got;
    size_t n;
    assert_int_equal(bytes_drain(b, 4096, &got, &n, &err), -1);
    if (!strstr(err.msg, needle))
        fail_msg("error '%s' does not contain '%s'", err.msg, needle);
    free(got);
    ws_bytes_close(b);
}

static void test_bytes_plain_and_memory(void **state)
{
    (void)state;
    static const char text[] = "plain bytes, not even JSON\n\x00\x01\xff tail";
    size_t n = sizeof text - 1;
    expect_bytes(text, n, 64, text, n, 0);
    /* shorter than the magic number, empty, and a near miss of the magic number */
    expect_bytes("ab", 2, 4, "ab", 2, 0);
    expect_bytes("", 0, 4, "", 0, 0);
    expect_bytes("\x28\xb5\x2f\xfe rest", 9, 16, "\x28\xb5\x2f\xfe rest", 9, 0);

    ws_err err;
    ws_bytes *b = ws_bytes_open_mem(text, n, NULL, &err);
    assert_string_equal(ws_bytes_name(b), "<memory>");
    assert_int_equal(ws_bytes_is_zstd(b), 0);
    assert_int_equal(ws_bytes_input_offset(b), 0); /* nothing is read at open */
    assert_int_equal(ws_bytes_detect(b, &err), 0);
    assert_int_equal(ws_bytes_detect(b, &err), 0); /* once decided, stays decided */
    assert_int_equal(ws_bytes_input_offset(b), n); /* a first read of up to 128 KiB */
    char buf[64];
    assert_int_equal(ws_bytes_read(b, buf, 10, &err), 10); /* the detection bytes first */
    assert_memory_equal(buf, text, 10);
    assert_int_equal(ws_bytes_read(b, buf, sizeof buf, &err), (ssize_t)n - 10);
    assert_memory_equal(buf, text + 10, n - 10);
    assert_int_equal(ws_bytes_read(b, buf, sizeof buf, &err), 0);
    ws_bytes_close(b);
    ws_bytes_close(NULL);
}

static void test_bytes_zstd_frames(void **state)
{
    (void)state;
    size_t n = 300000, zn;
    char *text = malloc(n);
    for (size_t i = 0; i < n; i++)
        text[i] = (char)("abcdefghij\n"[i % 11] ^ (i % 7 == 0 ? (i >> 9) & 0x1f : 0));
    char *z = compress(text, n, &zn);
    expect_bytes(z, zn, (size_t)1 << 20, text, n, 1);

    /* concatenated frames with a skippable frame between them, and a stream that starts with
     * one: one stream, the skippable content ignored */
    const char *a = "first frame|", *c = "third frame";
    size_t na, nc;
    char *za = compress(a, strlen(a), &na), *zc = compress(c, strlen(c), &nc);
    unsigned char skip[12] = {0x5A, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 'j', 'u', 'n', 'k'};
    size_t total = sizeof skip + na + sizeof skip + zn + nc;
    char *all = malloc(total), *p = all;
    memcpy(p, skip, sizeof skip), p += sizeof skip;
    memcpy(p, za, na), p += na;
    memcpy(p, skip, sizeof skip), p += sizeof skip;
    memcpy(p, z, zn), p += zn;
    memcpy(p, zc, nc);
    size_t want_n = strlen(a) + n + strlen(c);
    char *want = malloc(want_n);
    memcpy(want, a, strlen(a));
    memcpy(want + strlen(a), text, n);
    memcpy(want + strlen(a) + n, c, strlen(c));
    expect_bytes(all, total, (size_t)1 << 20, want, want_n, 1);
    free(want);
    free(all);
    free(za);
    free(zc);
    free(z);
    free(text);
}

static void test_bytes_truncated_and_corrupt(void **state)
{
    (void)state;
    char text[4096];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)sprintf(text + n, "{\"i\":%d,\"pad\":\"%d%d%d\"}\n", i, i * 7, i * 13, i * 17);
    size_t zn;
    char *z = compress(text, n, &zn);
    char want[160];
    snprintf(want, sizeof want, "mem: truncated zstd frame: input ends at byte offset %zu inside a frame",
             zn - 3);
    expect_bytes_error(z, zn - 3, want);
    expect_bytes_error(z, 4, "mem: truncated zstd frame: input ends at byte offset 4 inside a frame");
    /* a second frame cut short after a complete first one: the offset counts both */
    char *two = malloc(2 * zn);
    memcpy(two, z, zn);
    memcpy(two + zn, z, zn);
    snprintf(want, sizeof want, "truncated zstd frame: input ends at byte offset %zu", 2 * zn - 1);
    expect_bytes_error(two, 2 * zn - 1, want);
    z[zn - 1] ^= 0x5a; /* the content checksum no longer matches */
    snprintf(want, sizeof want, "mem: corrupt zstd data between byte offsets ");
    expect_bytes_error(z, zn, want);
    expect_bytes_error(z, zn, "checksum");
    z[zn - 1] ^= 0x5a;
    z[4] = (char)0xff; /* reserved bits of the frame header descriptor */
    expect_bytes_error(z, zn, "mem: corrupt zstd data between byte offsets 0 and ");
    /* a valid frame followed by garbage */
    memcpy(two + zn, "garbage!", 8);
    snprintf(want, sizeof want, "corrupt zstd data between byte offsets %zu and %zu", zn, zn + 8);
    expect_bytes_error(two, zn + 8, want);
    free(two);
    free(z);
}

static void test_bytes_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/ws-bytes-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], zpath[256];
    snprintf(path, sizeof path, "%s/in.txt", dir);
    snprintf(zpath, sizeof zpath, "%s/in.txt.zst", dir);
    const char *text = "line one\nline two\n";
    size_t zn;
    char *z = compress(text, strlen(text), &zn);
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    f = fopen(zpath, "wb");
    fwrite(z, 1, zn, f);
    fclose(f);

    ws_err err;
    const char *paths[] = {path, zpath};
    for (int i = 0; i < 2; i++) {
        ws_bytes *b = ws_bytes_open(paths[i], &err);
        assert_non_null(b);
        assert_string_equal(ws_bytes_name(b), paths[i]);
        char *got;
        size_t n;
        assert_int_equal(bytes_drain(b, 5, &got, &n, &err), 0);
        assert_int_equal(n, strlen(text));
        assert_memory_equal(got, text, n);
        assert_int_equal(ws_bytes_is_zstd(b), i);
        assert_int_equal(ws_bytes_input_offset(b), i ? zn : strlen(text));
        free(got);
        ws_bytes_close(b);
    }
    ws_bytes *b = ws_bytes_open("-", &err);
    assert_string_equal(ws_bytes_name(b), "<stdin>");
    ws_bytes_close(b); /* stdin stays open */
    b = ws_bytes_open(NULL, &err);
    assert_string_equal(ws_bytes_name(b), "<stdin>");
    ws_bytes_close(b);

    snprintf(path + strlen(path), sizeof path - strlen(path), ".missing");
    assert_null(ws_bytes_open(path, &err));
    assert_non_null(strstr(err.msg, ": cannot open: "));
    assert_non_null(strstr(err.msg, path));
    /* a directory opens but cannot be read: an error naming it, not an end */
    b = ws_bytes_open(dir, &err);
    assert_non_null(b);
    char buf[16];
    assert_int_equal(ws_bytes_read(b, buf, sizeof buf, &err), -1);
    assert_non_null(strstr(err.msg, ": read failed: "));
    ws_bytes_close(b);

    path[strlen(path) - strlen(".missing")] = 0;
    unlink(path);
    unlink(zpath);
    rmdir(dir);
    free(z);
}

/* A child that sends SIGINT to the test every 10 ms until `done` is closed: a read blocked on an
 * empty pipe then wakes up with EINTR. */
static pid_t start_interrupter(int done[2])
{
    assert_int_equal(pipe(done), 0);
    pid_t parent = getpid(), pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(done[1]);
        struct pollfd pfd = {.fd = done[0], .events = POLLIN};
        for (int i = 0; i < 3000 && poll(&pfd, 1, 10) == 0; i++)
            kill(parent, SIGINT);
        _exit(0);
    }
    close(done[0]);
    return pid;
}

static void stop_interrupter(pid_t pid, int done[2])
{
    close(done[1]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Runs last: the interrupt flag, once raised, stays raised in this process. */
static void test_bytes_interrupted(void **state)
{
    (void)state;
    ws_interrupt_install();
    int done[2], p1[2], p2[2], p3[2];
    pid_t pid = start_interrupter(done);
    assert_int_equal(pipe(p1) | pipe(p2) | pipe(p3), 0); /* after the fork: only ours write */
    char path[64], buf[64];
    ws_err err;

    /* ws_bytes: interrupted before the first byte, then inside the magic number; the bytes read
     * so far are kept and detection goes on at the next read */
    snprintf(path, sizeof path, "/dev/fd/%d", p1[0]);
    ws_bytes *b = ws_bytes_open(path, &err);
    assert_non_null(b);
    assert_int_equal(ws_bytes_read(b, buf, sizeof buf, &err), -2);
    assert_int_equal(write(p1[1], "ab", 2), 2);
    assert_int_equal(ws_bytes_read(b, buf, sizeof buf, &err), -2);
    assert_int_equal(write(p1[1], "cd\n", 3), 3);
    close(p1[1]);
    assert_int_equal(ws_bytes_read(b, buf, sizeof buf, &err), 5);
    assert_memory_equal(buf, "abcd\n", 5);
    assert_int_equal(ws_bytes_read(b, buf, sizeof buf, &err), 0);
    assert_int_equal(ws_bytes_input_offset(b), 5);
    ws_bytes_close(b);

    /* ws_reader: interrupted while detecting at open still hands out the reader, whose first
     * next reports the interruption; zstd written afterwards is still recognised */
    snprintf(path, sizeof path, "/dev/fd/%d", p2[0]);
    ws_reader *r = ws_reader_open(path, NULL, &err);
    assert_non_null(r);
    const char *rec = "{\"x\":1}\n";
    size_t zn;
    char *z = compress(rec, strlen(rec), &zn);
    assert_int_equal(write(p2[1], z, zn), (ssize_t)zn);
    close(p2[1]);
    json_t *v;
    assert_int_equal(ws_reader_next(r, &v, &err), WS_INTERRUPTED);
    assert_int_equal(ws_reader_next(r, &v, &err), WS_RECORD);
    json_decref(v);
    assert_true(ws_reader_is_zstd(r));
    assert_int_equal(ws_reader_next(r, &v, &err), WS_EOF);
    ws_reader_close(r);
    free(z);

    /* ws_reader: a read blocked between records reports WS_INTERRUPTED, then reads on */
    snprintf(path, sizeof path, "/dev/fd/%d", p3[0]);
    assert_int_equal(write(p3[1], rec, strlen(rec)), (ssize_t)strlen(rec));
    r = ws_reader_open(path, NULL, &err);
    assert_non_null(r);
    assert_int_equal(ws_reader_next(r, &v, &err), WS_RECORD);
    json_decref(v);
    assert_int_equal(ws_reader_next(r, &v, &err), WS_INTERRUPTED);
    assert_int_equal(write(p3[1], rec, strlen(rec)), (ssize_t)strlen(rec));
    close(p3[1]);
    assert_int_equal(ws_reader_next(r, &v, &err), WS_RECORD);
    json_decref(v);
    assert_int_equal(ws_reader_next(r, &v, &err), WS_EOF);
    ws_reader_close(r);

    stop_interrupter(pid, done);
    close(p1[0]);
    close(p2[0]);
    close(p3[0]);
}

static void test_plain_records(void **state)
{
    (void)state;
    const char *text = "{\"type\":\"goal\",\"v\":1,\"a\":1}\n\n  \r\n{\"type\":\"goal\",\"v\":1}\r\n"
                       "{\"type\":\"goal\",\"v\":1,\"last\":true}"; /* no final newline */
    ws_reader_opts o = {.type = "goal", .version = 1};
    ws_err err;
    ws_reader *r = ws_reader_open_mem(text, strlen(text), "mem", &o, &err);
    assert_non_null(r);
    json_t *rec;
    assert_int_equal(ws_reader_next(r, &rec, &err), WS_RECORD);
    assert_int_equal(json_integer_value(json_object_get(rec, "a")), 1);
    assert_int_equal(ws_reader_line(r), 1);
    json_decref(rec);
    assert_int_equal(ws_reader_next(r, &rec, &err), WS_RECORD);
    assert_int_equal(ws_reader_line(r), 4);
    json_decref(rec);
    assert_int_equal(ws_reader_next(r, &rec, &err), WS_RECORD);
    assert_true(json_is_true(json_object_get(rec, "last")));
    assert_int_equal(ws_reader_line(r), 5);
    json_decref(rec);
    assert_int_equal(ws_reader_next(r, &rec, &err), WS_EOF);
    assert_false(ws_reader_is_zstd(r));
    ws_reader_close(r);
}

static void test_zstd_concatenated_frames(void **state)
{
    (void)state;
    const char *a = "{\"x\":1}\n{\"x\":2}\n", *b = "{\"x\":3}\n";
    size_t na, nb;
    char *za = compress(a, strlen(a), &na), *zb = compress(b, strlen(b), &nb);
    /* a skippable frame between the two data frames is legal zstd and must be ignored */
    unsigned char skip[12] = {0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 'j', 'u', 'n', 'k'};
    char *all = malloc(na + nb + sizeof skip);
    memcpy(all, za, na);
    memcpy(all + na, skip, sizeof skip);
    memcpy(all + na + sizeof skip, zb, nb);
    ws_err err;
    assert_int_equal(read_all(all, na + nb + sizeof skip, NULL, &err), 3);
    free(za);
    free(zb);
    free(all);
}

static void test_long_line_spans_buffers(void **state)
{
    (void)state;
    size_t n = 3u << 20; /* 3 MiB string: many refills, in plain and zstd */
    char *text = malloc(n + 32);
    int k = sprintf(text, "{\"s\":\"");
    memset(text + k, 'x', n);
    strcpy(text + k + n, "\"}\n{\"t\":1}\n");
    size_t len = strlen(text), zn;
    ws_err err;
    assert_int_equal(read_all(text, len, NULL, &err), 2);
    char *z = compress(text, len, &zn);
    assert_int_equal(read_all(z, zn, NULL, &err), 2);
    ws_reader_opts small = {.max_line = 1000};
    expect_error(text, len, &small, "mem:1: line longer than 1000 bytes");
    free(z);
    free(text);
}

/* A line over the bound is one bad line: skipped to its end (never held), and the reader goes on
 * with the next line, whether the long line ends in the input or at its end. */
static void test_overlong_line_is_recoverable(void **state)
{
    (void)state;
    size_t n = 3u << 20; /* many refills */
    char *text = malloc(n + 64);
    int k = sprintf(text, "{\"s\":\"");
    memset(text + k, 'x', n);
    strcpy(text + k + n, "\"}\n{\"t\":1}\n");
    size_t len = strlen(text);
    ws_reader_opts small = {.max_line = 1000, .allow_empty = 1};
    ws_err err;
    json_t *rec;
    ws_reader *r = ws_reader_open_mem(text, len, "mem", &small, &err);
    assert_int_equal(ws_reader_next(r, &rec, &err), WS_ERROR);
    assert_non_null(strstr(err.msg, "mem:1: line longer than 1000 bytes"));
    assert_true(ws_reader_recoverable(r));
    assert_int_equal(ws_reader_next(r, &rec, &err), WS_RECORD);
    assert_int_equal(ws_reader_line(r), 2);
    json_decref(rec);
    assert_int_equal(ws_reader_next(r, &rec, &err), WS_EOF);
    ws_reader_close(r);

    text[k + n] = '\0'; /* the long line is the last, without its newline */
    r = ws_reader_open_mem(text, strlen(text), "mem", &small, &err);
    assert_int_equal(ws_reader_next(r, &rec, &err), WS_ERROR);
    assert_non_null(strstr(err.msg, "mem:1: line longer than 1000 bytes"));
    assert_true(ws_reader_recoverable(r));
    assert_int_equal(ws_reader_next(r, &rec, &err), WS_EOF);
    ws_reader_close(r);
    free(text);
}

static void test_malformed_json(void **state)
{
    (void)state;
    const char *t = "{\"ok\":1}\n{\"broken\": [1, 2}\n";
    expect_error(t, strlen(t), NULL, "mem:2:");
    expect_error(t, strlen(t), NULL, "malformed JSON");
    const char *arr = "[1,2]\n";
    expect_error(arr, strlen(arr), NULL, "mem:1: a record must be a JSON object");
}

static void test_wrong_type_and_version(void **state)
{
    (void)state;
    ws_reader_opts o = {.type = "goal", .version = 1};
    const char *none = "{\"v\":1}\n";
    expect_error(none, strlen(none), &o, "mem:1: record has no \"type\"");
    const char *other = "{\"type\":\"goal\",\"v\":1}\n{\"type\":\"pair\",\"v\":1}\n";
    expect_error(other, strlen(other), &o, "mem:2: expected a goal record, got a pair record");
    const char *v2 = "{\"type\":\"goal\",\"v\":2}\n";
    expect_error(v2, strlen(v2), &o, "schema version 2, this build reads version 1");
    const char *nov = "{\"type\":\"goal\"}\n";
    expect_error(nov, strlen(nov), &o, "no integer \"v\"");
}

static void test_empty_input(void **state)
{
    (void)state;
    ws_reader_opts o = {.type = "goal", .version = 1};
    expect_error("", 0, &o, "mem: no records: the input is empty (expected goal records)");
    expect_error("\n \n", 3, NULL, "no records");
    ws_reader_opts ok = {.allow_empty = 1};
    ws_err err;
    assert_int_equal(read_all("", 0, &ok, &err), 0);
}

static void test_truncated_and_corrupt_zstd(void **state)
{
    (void)state;
    char text[4096];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)sprintf(text + n, "{\"i\":%d,\"pad\":\"%d%d%d\"}\n", i, i * 7, i * 13, i * 17);
    size_t zn;
    char *z = compress(text, n, &zn);
    char want[128];
    snprintf(want, sizeof want, "truncated zstd frame: input ends at byte offset %zu", zn - 3);
    expect_error(z, zn - 3, NULL, want);
    z[zn - 1] ^= 0x5a; /* the content checksum no longer matches */
    expect_error(z, zn, NULL, "corrupt zstd data between byte offsets");
    expect_error(z, zn, NULL, "checksum");
    z[zn - 1] ^= 0x5a;
    z[4] = (char)0xff; /* reserved bits of the frame header descriptor */
    expect_error(z, zn, NULL, "corrupt zstd data between byte offsets 0 and");
    /* another compressor's output is named, not parsed as JSON */
    expect_error("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8, NULL, "mem: gzip-compressed input");
    expect_error("BZh91AY&SY", 10, NULL, "mem: bzip2-compressed input");
    expect_error("\xfd" "7zXZ\0\0\x04", 8, NULL, "mem: xz-compressed input");
    /* a valid frame followed by garbage is not silently ignored */
    char *z2 = compress(text, n, &zn);
    char *tail = malloc(zn + 8);
    memcpy(tail, z2, zn);
    memcpy(tail + zn, "garbage!", 8);
    expect_error(tail, zn + 8, NULL, "corrupt zstd data");
    free(z);
    free(z2);
    free(tail);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    *n = fread(buf, 1, (size_t)size, f);
    buf[*n] = 0;
    fclose(f);
    return buf;
}

static void test_writer_atomic_roundtrip(void **state)
{
    (void)state;
    char dir[] = "/tmp/ws-stream-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], partial[300];
    snprintf(path, sizeof path, "%s/out.jsonl.zst", dir);
    snprintf(partial, sizeof partial, "%s.partial", path);
    ws_err err;
    ws_writer *w = ws_writer_open(path, NULL, &err);
    assert_non_null(w);
    json_t *rec = json_pack("{s:s, s:i, s:f, s:f, s:s, s:[f,f,f]}", "type", "x", "v", 1, "p", 0.1, "one",
                            1.0, "text", "caf\xc3\xa9 \"q\"\n\x01", "l", 1e300, -2.5e-8, 877.8);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(ws_writer_put(w, rec, &err), 0);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0); /* nothing under the final name until complete */
    assert_int_equal(ws_writer_close(w, &err), 0);
    assert_int_equal(stat(path, &st), 0);

    size_t n;
    char *z = slurp(path, &n);
    assert_int_equal(read_all(z, n, NULL, &err), 1000);
    ws_reader *r = ws_reader_open(path, NULL, &err);
    json_t *back;
    assert_int_equal(ws_reader_next(r, &back, &err), WS_RECORD);
    assert_true(json_equal(rec, back));
    json_decref(back);
    ws_reader_close(r);
    free(z);

    /* An interrupted stream keeps its complete records under .partial, as a valid stream. */
    w = ws_writer_open(path, NULL, &err);
    for (int i = 0; i < 10; i++)
        ws_writer_put(w, rec, &err);
    assert_int_equal(ws_writer_close_partial(w, &err), 0);
    z = slurp(partial, &n);
    assert_non_null(z);
    assert_int_equal(read_all(z, n, NULL, &err), 10);
    free(z);

    /* A discarded writer leaves no file behind. */
    char path2[256];
    snprintf(path2, sizeof path2, "%s/discarded.jsonl", dir);
    w = ws_writer_open(path2, NULL, &err);
    ws_writer_put(w, rec, &err);
    ws_writer_discard(w);
    assert_int_not_equal(stat(path2, &st), 0);

    json_decref(rec);
    unlink(path);
    unlink(partial);
    rmdir(dir);
}

static void test_serialisation(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:f, s:f, s:f, s:f, s:I, s:s, s:b, s:n, s:[]}", "a", 0.1, "b", 1.0, "c",
                          1.0 / 3.0, "d", 1e-7, "e", (json_int_t)-42, "f", "t\tab\\", "g", 1, "h", "i");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    assert_int_equal(ws_json_append(v, &buf, &len, &cap), 0);
    buf[len] = 0;
    assert_string_equal(buf, "{\"a\":0.1,\"b\":1.0,\"c\":0.3333333333333333,\"d\":1e-07,\"e\":-42,"
                             "\"f\":\"t\\tab\\\\\",\"g\":true,\"h\":null,\"i\":[]}");
    json_t *back = json_loads(buf, 0, NULL);
    assert_true(json_equal(v, back));
    json_decref(back);
    json_decref(v);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_plain_and_memory),
        cmocka_unit_test(test_bytes_zstd_frames),
        cmocka_unit_test(test_bytes_truncated_and_corrupt),
        cmocka_unit_test(test_bytes_files),
        cmocka_unit_test(test_plain_records),
        cmocka_unit_test(test_zstd_concatenated_frames),
        cmocka_unit_test(test_long_line_spans_buffers),
        cmocka_unit_test(test_overlong_line_is_recoverable),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_wrong_type_and_version),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_truncated_and_corrupt_zstd),
        cmocka_unit_test(test_writer_atomic_roundtrip),
        cmocka_unit_test(test_serialisation),
        cmocka_unit_test(test_bytes_interrupted), /* last: it raises the process's interrupt flag */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
