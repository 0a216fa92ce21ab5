/* Unit tests of lib/stream: reading plain and zstd records, every bad input, writing atomically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "stream.h"

/* A frame with a content checksum, as the project's writers make them. */
static char *compress(const char *text, size_t n, size_t *out_n)
{
    size_t cap = ZSTD_compressBound(n);
    char *z = malloc(cap);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    *out_n = ZSTD_compress2(cctx, z, cap, text, n);
    ZSTD_freeCCtx(cctx);
    assert_false(ZSTD_isError(*out_n));
    return z;
}

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
    expect_error(z, zn, NULL, "corrupt zstd data near byte offset");
    expect_error(z, zn, NULL, "checksum");
    z[zn - 1] ^= 0x5a;
    z[4] = (char)0xff; /* reserved bits of the frame header descriptor */
    expect_error(z, zn, NULL, "corrupt zstd data near byte offset 0");
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
        cmocka_unit_test(test_plain_records),
        cmocka_unit_test(test_zstd_concatenated_frames),
        cmocka_unit_test(test_long_line_spans_buffers),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_wrong_type_and_version),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_truncated_and_corrupt_zstd),
        cmocka_unit_test(test_writer_atomic_roundtrip),
        cmocka_unit_test(test_serialisation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
