/* Unit tests of lib/io/safetensors: round trips, the reference writer's exact bytes, dtype
 * conversion, every corrupt-file case the reader refuses, and atomic writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "safetensors.h"
#include "test_files.h"

/* ------------------------------------------------------------------ helpers */

/* Entries of dir whose name contains `needle`. */
static int count_entries(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, needle))
            n++;
    closedir(d);
    return n;
}

/* A file from a header text and a data block: 8-byte little-endian length, header, data. */
static unsigned char *build(const char *header, const void *data, size_t data_len, size_t *n)
{
    size_t h = strlen(header);
    unsigned char *buf = malloc(8 + h + data_len + 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, header, h);
    if (data_len)
        memcpy(buf + 8 + h, data, data_len);
    *n = 8 + h + data_len;
    return buf;
}

static void expect_mem_error(const void *buf, size_t n, const char *needle)
{
    ws_err err = {{0}};
    ws_st_file *f = ws_st_open_mem(buf, n, "bad.safetensors", &err);
    if (f) {
        ws_st_close(f);
        fail_msg("file accepted, expected an error containing '%s'", needle);
    }
    if (!strstr(err.msg, needle) || !strstr(err.msg, "bad.safetensors"))
        fail_msg("error '%s' does not contain '%s' (and the file name)", err.msg, needle);
}

static void expect_header_error(const char *header, size_t data_len, const char *needle)
{
    unsigned char zeros[256] = {0};
    assert_true(data_len <= sizeof zeros);
    size_t n;
    unsigned char *buf = build(header, zeros, data_len, &n);
    expect_mem_error(buf, n, needle);
    free(buf);
}

/* A small model-like set of tensors written to dir/name; returns the path (static buffer). */
static const float W[6] = {0.5f, -1.25f, 3.0f, 1e-30f, -0.0f, 65504.0f};
static const float B[3] = {1.0f, 2.0f, -3.5f};
static const float S[1] = {42.0f};

static void write_sample(const char *path, int reverse)
{
    ws_err err;
    ws_st_writer *w = ws_st_writer_new(&err);
    assert_non_null(w);
    int64_t sw[2] = {2, 3}, sb[1] = {3}, sz[2] = {0, 5};
    if (!reverse) {
        assert_int_equal(ws_st_writer_add(w, "encoder.layer.0.weight", W, 2, sw, &err), 0);
        assert_int_equal(ws_st_writer_add(w, "encoder.layer.0.bias", B, 1, sb, &err), 0);
        assert_int_equal(ws_st_writer_add(w, "scale", S, 0, NULL, &err), 0);
        assert_int_equal(ws_st_writer_add(w, "empty", NULL, 2, sz, &err), 0);
        assert_int_equal(ws_st_writer_meta(w, "step", "12", &err), 0);
        assert_int_equal(ws_st_writer_meta(w, "format", "test", &err), 0);
    } else {
        assert_int_equal(ws_st_writer_meta(w, "format", "test", &err), 0);
        assert_int_equal(ws_st_writer_meta(w, "step", "12", &err), 0);
        assert_int_equal(ws_st_writer_add(w, "empty", NULL, 2, sz, &err), 0);
        assert_int_equal(ws_st_writer_add(w, "scale", S, 0, NULL, &err), 0);
        assert_int_equal(ws_st_writer_add(w, "encoder.layer.0.bias", B, 1, sb, &err), 0);
        assert_int_equal(ws_st_writer_add(w, "encoder.layer.0.weight", W, 2, sw, &err), 0);
    }
    if (ws_st_writer_write(w, path, &err))
        fail_msg("%s", err.msg);
    ws_st_writer_free(w);
}

/* ------------------------------------------------------------------ tests */

static void test_roundtrip(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir, "ws-st");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_sample(path, 0);
    assert_int_equal(count_entries(dir, ".tmp-"), 0);

    ws_err err;
    ws_st_file *f = ws_st_open(path, &err);
    if (!f)
        fail_msg("%s", err.msg);
    assert_string_equal(ws_st_name(f), path);
    assert_int_equal(ws_st_count(f), 4);
    /* file order = name order for one dtype */
    assert_string_equal(ws_st_tensor_at(f, 0)->name, "empty");
    assert_string_equal(ws_st_tensor_at(f, 1)->name, "encoder.layer.0.bias");
    assert_string_equal(ws_st_tensor_at(f, 2)->name, "encoder.layer.0.weight");
    assert_string_equal(ws_st_tensor_at(f, 3)->name, "scale");
    assert_null(ws_st_tensor_at(f, 4));

    const ws_st_tensor *t = ws_st_find(f, "encoder.layer.0.weight");
    assert_non_null(t);
    assert_int_equal(t->dtype, WS_ST_F32);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    assert_int_equal(t->numel, 6);
    assert_int_equal(t->nbytes, 24);
    float out[6];
    int64_t sw[2] = {2, 3};
    assert_int_equal(ws_st_read_f32(f, "encoder.layer.0.weight", 2, sw, out, &err), 0);
    assert_memory_equal(out, W, sizeof W); /* bit-exact, -0.0 and denormal-range values too */
    int64_t sb[1] = {3};
    assert_int_equal(ws_st_read_f32(f, "encoder.layer.0.bias", 1, sb, out, &err), 0);
    assert_memory_equal(out, B, sizeof B);
    assert_int_equal(ws_st_read_f32(f, "scale", 0, NULL, out, &err), 0);
    assert_true(out[0] == 42.0f);
    t = ws_st_find(f, "empty");
    assert_int_equal(t->numel, 0);
    assert_int_equal(t->nbytes, 0);
    assert_null(ws_st_find(f, "missing"));
    assert_null(ws_st_find(f, ""));

    assert_int_equal(ws_st_meta_count(f), 2);
    const char *k, *v;
    assert_int_equal(ws_st_meta_at(f, 0, &k, &v), 0);
    assert_string_equal(k, "format");
    assert_string_equal(v, "test");
    assert_int_equal(ws_st_meta_at(f, 1, &k, &v), 0);
    assert_string_equal(k, "step");
    assert_int_equal(ws_st_meta_at(f, 2, &k, &v), -1);
    assert_string_equal(ws_st_meta_get(f, "step"), "12");
    assert_null(ws_st_meta_get(f, "nope"));

    /* errors of the typed read */
    int64_t wrong[2] = {3, 2};
    assert_int_equal(ws_st_read_f32(f, "encoder.layer.0.weight", 2, wrong, out, &err), -1);
    assert_non_null(strstr(err.msg, "tensor 'encoder.layer.0.weight' has shape [2, 3], expected [3, 2]"));
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(ws_st_read_f32(f, "nope", 1, sb, out, &err), -1);
    assert_non_null(strstr(err.msg, "tensor 'nope' not found"));
    ws_st_close(f);
    rm_rf(dir);
}

static void test_deterministic_bytes(void **state)
{
    (void)state;
    char dir[64], a[128], b[128];
    make_tmpdir(dir, sizeof dir, "ws-st");
    snprintf(a, sizeof a, "%s/a.safetensors", dir);
    snprintf(b, sizeof b, "%s/b.safetensors", dir);
    write_sample(a, 0);
    write_sample(b, 1); /* same content, added in the opposite order */
    size_t na, nb;
    unsigned char *x = read_file(a, &na), *y = read_file(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(x, y, na);
    /* the header is padded with spaces to a multiple of 8 and starts with sorted metadata */
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h |= (uint64_t)x[i] << (8 * i);
    assert_int_equal(h % 8, 0);
    const char *start = "{\"__metadata__\":{\"format\":\"test\",\"step\":\"12\"},\"empty\":"
                        "{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[0,0]},";
    assert_memory_equal(x + 8, start, strlen(start));
    free(x);
    free(y);
    rm_rf(dir);
}

/* The byte sequences of the reference implementation's own serialisation tests. */
static void test_reference_bytes(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir, "ws-st");
    snprintf(path, sizeof path, "%s/r.safetensors", dir);
    ws_err err;
    const float data[6] = {0, 1, 2, 3, 4, 5};
    static const unsigned char attn_0[] = {
        64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
        116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
        58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
        101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
        0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64};
    static const unsigned char attn0[] = {
        72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
        121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
        91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
        115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
        32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
        160, 64};
    static const unsigned char empty[] = {8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32};
    static const unsigned char framework[] = {
        40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
        95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
        116, 34, 125, 125, 32, 32, 32, 32, 32};
    struct {
        const char *name;
        int ndim;
        int64_t shape[4];
        const char *meta;
        const unsigned char *bytes;
        size_t n;
    } cases[] = {
        {"attn.0", 3, {1, 2, 3}, NULL, attn_0, sizeof attn_0},
        {"attn0", 4, {1, 1, 2, 3}, NULL, attn0, sizeof attn0},
        {NULL, 0, {0}, NULL, empty, sizeof empty},
        {NULL, 0, {0}, "pt", framework, sizeof framework},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ws_st_writer *w = ws_st_writer_new(&err);
        if (cases[c].name)
            assert_int_equal(ws_st_writer_add(w, cases[c].name, data, cases[c].ndim, cases[c].shape, &err), 0);
        if (cases[c].meta)
            assert_int_equal(ws_st_writer_meta(w, "framework", cases[c].meta, &err), 0);
        assert_int_equal(ws_st_writer_write(w, path, &err), 0);
        ws_st_writer_free(w);
        size_t n;
        unsigned char *got = read_file(path, &n);
        assert_int_equal(n, cases[c].n);
        assert_memory_equal(got, cases[c].bytes, n);
        ws_st_file *f = ws_st_open(path, &err);
        assert_non_null(f);
        ws_st_close(f);
        free(got);
    }
    rm_rf(dir);
}

static void test_json_escaping(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir, "ws-st");
    snprintf(path, sizeof path, "%s/e.safetensors", dir);
    ws_err err;
    const char *names[] = {"quote\"back\\slash", "nl\ntab\tcr\r\x01\x1f", "caf\xc3\xa9/\xe2\x9d\xa4", ""};
    const float one = 1.0f;
    ws_st_writer *w = ws_st_writer_new(&err);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ws_st_writer_add(w, names[i], &one, 0, NULL, &err), 0);
    assert_int_equal(ws_st_writer_meta(w, "k\"\x02", "v\\\n\xc3\xa9", &err), 0);
    assert_int_equal(ws_st_writer_write(w, path, &err), 0);
    ws_st_writer_free(w);
    size_t n;
    unsigned char *bytes = read_file(path, &n);
    bytes[n] = 0;
    char *h = (char *)bytes + 8;
    assert_non_null(strstr(h, "\"quote\\\"back\\\\slash\""));
    assert_non_null(strstr(h, "\"nl\\ntab\\tcr\\r\\u0001\\u001f\""));
    assert_non_null(strstr(h, "\"caf\xc3\xa9/\xe2\x9d\xa4\"")); /* UTF-8 and '/' verbatim */
    assert_non_null(strstr(h, "\"k\\\"\\u0002\":\"v\\\\\\n\xc3\xa9\""));
    free(bytes);
    ws_st_file *f = ws_st_open(path, &err);
    assert_non_null(f);
    for (int i = 0; i < 4; i++)
        assert_non_null(ws_st_find(f, names[i]));
    assert_string_equal(ws_st_meta_get(f, "k\"\x02"), "v\\\n\xc3\xa9");
    ws_st_close(f);
    rm_rf(dir);
}

static void test_writer_errors(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir, "ws-st");
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    ws_err err;
    float x[4] = {0};
    int64_t s1[1] = {4}, neg[1] = {-1};
    ws_st_writer *w = ws_st_writer_new(&err);
    assert_int_equal(ws_st_writer_add(w, "__metadata__", x, 1, s1, &err), -1);
    assert_non_null(strstr(err.msg, "reserved"));
    assert_int_equal(ws_st_writer_add(w, "bad\xff", x, 1, s1, &err), -1);
    assert_non_null(strstr(err.msg, "UTF-8"));
    assert_int_equal(ws_st_writer_add(w, "n", x, 1, neg, &err), -1);
    assert_non_null(strstr(err.msg, "negative dimension"));
    assert_int_equal(ws_st_writer_add(w, "n", x, 9, s1, &err), -1);
    assert_int_equal(ws_st_writer_add(w, "n", NULL, 1, s1, &err), -1);
    assert_non_null(strstr(err.msg, "no data"));
    assert_int_equal(ws_st_writer_meta(w, "k", "1", &err), 0);
    assert_int_equal(ws_st_writer_meta(w, "k", "2", &err), -1);
    assert_non_null(strstr(err.msg, "metadata 'k' given twice"));
    assert_int_equal(ws_st_writer_add(w, "a", x, 1, s1, &err), 0);
    assert_int_equal(ws_st_writer_add(w, "a", x, 1, s1, &err), 0);
    assert_int_equal(ws_st_writer_write(w, path, &err), -1);
    assert_non_null(strstr(err.msg, "tensor 'a' added twice"));
    assert_int_equal(access(path, F_OK), -1); /* nothing written */
    assert_int_equal(count_entries(dir, ".tmp-"), 0);
    ws_st_writer_free(w);
    rm_rf(dir);
}

static uint16_t f16_bits[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0x8000, 0x3555};
static void test_dtype_conversion(void **state)
{
    (void)state;
    unsigned char data[64 + 16 + 16 + 8];
    size_t at = 0;
    for (int i = 0; i < 8; i++) { /* F16 */
        data[at++] = (unsigned char)f16_bits[i];
        data[at++] = (unsigned char)(f16_bits[i] >> 8);
    }
    uint16_t bf[4] = {0x3f80, 0xc040, 0x7f80, 0x0001}; /* 1, -3, inf, smallest bf16 denormal */
    for (int i = 0; i < 4; i++) {
        data[at++] = (unsigned char)bf[i];
        data[at++] = (unsigned char)(bf[i] >> 8);
    }
    double dd[2] = {0.1, -1e300};
    for (int i = 0; i < 2; i++) {
        uint64_t b;
        memcpy(&b, &dd[i], 8);
        for (int k = 0; k < 8; k++)
            data[at++] = (unsigned char)(b >> (8 * k));
    }
    int64_t iv = 7;
    for (int k = 0; k < 8; k++)
        data[at++] = (unsigned char)((uint64_t)iv >> (8 * k));
    const char *header =
        "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,4],\"data_offsets\":[0,16]},"
        "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[16,24]},"
        "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[24,40]},"
        "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[40,48]}}";
    size_t n;
    unsigned char *buf = build(header, data, at, &n);
    ws_err err;
    ws_st_file *f = ws_st_open_mem(buf, n, "conv", &err);
    if (!f)
        fail_msg("%s", err.msg);
    float out[8];
    int64_t sh[2] = {2, 4};
    assert_int_equal(ws_st_read_f32(f, "h", 2, sh, out, &err), 0);
    assert_true(out[0] == 1.0f);
    assert_true(out[1] == -2.0f);
    assert_true(out[2] == 65504.0f);
    assert_true(out[3] == ldexpf(1.0f, -24));          /* smallest subnormal */
    assert_true(out[4] == ldexpf(1023.0f, -24));       /* largest subnormal */
    assert_true(isinf(out[5]) && out[5] > 0);
    assert_true(out[6] == 0.0f && signbit(out[6]));
    assert_true(out[7] == 1365.0f / 4096.0f); /* 0x3555 = 0.333251953125 */
    int64_t s4[1] = {4}, s2[1] = {2}, s1[1] = {1};
    assert_int_equal(ws_st_read_f32(f, "b", 1, s4, out, &err), 0);
    assert_true(out[0] == 1.0f && out[1] == -3.0f && isinf(out[2]));
    assert_true(out[3] == ldexpf(1.0f, -133));
    assert_int_equal(ws_st_read_f32(f, "d", 1, s2, out, &err), 0);
    assert_true(out[0] == 0.1f);
    assert_true(isinf(out[1]) && out[1] < 0);
    assert_int_equal(ws_st_read_f32(f, "i", 1, s1, out, &err), -1);
    assert_non_null(strstr(err.msg, "conv: tensor 'i': dtype I64 cannot be read as float"));
    assert_int_equal(ws_st_find(f, "i")->dtype, WS_ST_I64);
    ws_st_close(f);
    free(buf);

    /* every NaN payload of F16 stays a NaN */
    for (uint32_t m = 1; m < 0x400; m += 37) {
        uint16_t h = (uint16_t)(0x7c00 | m);
        unsigned char d2[2] = {(unsigned char)h, (unsigned char)(h >> 8)};
        buf = build("{\"x\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[0,2]}}", d2, 2, &n);
        f = ws_st_open_mem(buf, n, "nan", &err);
        assert_non_null(f);
        assert_int_equal(ws_st_read_f32(f, "x", 0, NULL, out, &err), 0);
        assert_true(isnan(out[0]));
        ws_st_close(f);
        free(buf);
    }
}

static void test_dtype_names(void **state)
{
    (void)state;
    for (int d = 0; d < WS_ST_NDTYPES; d++) {
        ws_st_dtype back;
        assert_int_equal(ws_st_dtype_parse(ws_st_dtype_name((ws_st_dtype)d), &back), 0);
        assert_int_equal(back, d);
        assert_true(ws_st_dtype_bits((ws_st_dtype)d) >= 4);
    }
    ws_st_dtype x;
    assert_int_equal(ws_st_dtype_parse("F33", &x), -1);
    assert_int_equal(ws_st_dtype_parse("f32", &x), -1);
    assert_string_equal(ws_st_dtype_name(WS_ST_NDTYPES), "?");
    /* sub-byte and packed dtypes are known, sized in bits */
    expect_header_error("{\"x\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2,
                        "tensor 'x': 3 elements of F4 do not fill whole bytes");
    unsigned char z[3] = {0};
    size_t n;
    unsigned char *buf = build("{\"x\":{\"dtype\":\"F6_E2M3\",\"shape\":[4],\"data_offsets\":[0,3]}}", z, 3, &n);
    ws_err err;
    ws_st_file *f = ws_st_open_mem(buf, n, "f6", &err);
    assert_non_null(f);
    assert_int_equal(ws_st_find(f, "x")->nbytes, 3);
    float out[4];
    assert_int_equal(ws_st_tensor_to_f32(f, ws_st_find(f, "x"), out, &err), -1);
    ws_st_close(f);
    free(buf);
}

static void test_header_corruption(void **state)
{
    (void)state;
    /* the length field */
    unsigned char tiny[7] = {0};
    expect_mem_error(tiny, 7, "7 bytes, too short");
    expect_mem_error(tiny, 0, "0 bytes, too short");
    unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
    expect_mem_error(huge, 16, "header length 18446744073709551615 runs past the end of the file (16 bytes)");
    unsigned char past[16] = {9, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
    expect_mem_error(past, 16, "header length 9 runs past the end");
    /* any other file: no JSON object after the length */
    unsigned char other[16] = {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0};
    expect_mem_error(other, 16, "not a safetensors file (no JSON header after the first 8 bytes)");
    /* over the 100 MB limit: a lazily mapped region, never touched past the first bytes */
    size_t big = (size_t)WS_ST_MAX_HEADER + 16;
    unsigned char *region = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(region != MAP_FAILED);
    uint64_t hl = WS_ST_MAX_HEADER + 1;
    for (int i = 0; i < 8; i++)
        region[i] = (unsigned char)(hl >> (8 * i));
    region[8] = '{';
    expect_mem_error(region, big, "header length 100000001 is over the 100000000-byte limit");
    munmap(region, big);

    /* the JSON */
    expect_header_error("{\"a\":", 0, "malformed JSON header");
    expect_header_error("{} x", 0, "malformed JSON header");
    expect_header_error("{\"a\xff\":1}", 0, "malformed JSON header"); /* not UTF-8 */
    expect_header_error("[1, 2]", 0, "header is not a JSON object");
    expect_header_error("", 0, "malformed JSON header");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                        8, "duplicate name \"a\"");
    expect_header_error("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "duplicate name \"k\"");
    /* the metadata */
    expect_header_error("{\"__metadata__\":{\"k\":1}}", 0, "metadata 'k' is not a string");
    expect_header_error("{\"__metadata__\":{\"k\":null}}", 0, "metadata 'k' is not a string");
    expect_header_error("{\"__metadata__\":[\"k\"]}", 0, "\"__metadata__\" is not a JSON object");
    /* tensor entries */
    expect_header_error("{\"t\":7}", 0, "tensor 't': header entry is not a JSON object");
    expect_header_error("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 't': header entry has no \"dtype\"");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor 't': header entry has no \"shape\"");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 't': header entry has no \"data_offsets\"");
    expect_header_error("{\"t\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 't': unknown dtype \"F33\"");
    expect_header_error("{\"t\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 't': \"dtype\" is not a string");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]}}", 4, "tensor 't': \"shape\" is not an array");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "tensor 't': shape entry 0 is not a non-negative integer");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4, "shape entry 0 is not a non-negative integer");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1,\"2\"],\"data_offsets\":[0,8]}}", 8, "shape entry 1 is not");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
                        "tensor 't': shape has 9 dimensions, more than the 8 supported");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4611686018427387904],\"data_offsets\":[0,4]}}",
                        4, "tensor 't': element count of shape [4611686018427387904, 4611686018427387904] overflows");
    expect_header_error("{\"t\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}}",
                        4, "tensor 't': byte size of shape [4611686018427387904] overflows");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4,
                        "malformed JSON header"); /* an integer past 64 bits */
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
                        "tensor 't': \"data_offsets\" is not two non-negative integers");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, "is not two non-negative integers");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, "is not two non-negative integers");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"a\":0}}}", 4, "is not two non-negative integers");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4,
                        "tensor 't': data_offsets [4, 0] end before they begin");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8,
                        "tensor 't': dtype F32 and shape [2] need 8 bytes but data_offsets [0, 4] span 4");
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,8]}}", 8, "need 4 bytes");
    /* offsets against the data block and each other */
    expect_header_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
                        "tensor 't': data_offsets [0, 8] run past the end of the data (4 bytes)");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                        12, "tensor 'b': data_offsets [4, 12] overlap tensor 'a' (which ends at 8)");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                        8, "overlap tensor 'a'");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                        12, "tensor 'b': 4 unused bytes before its data (offset 8)");
    expect_header_error("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
                        "tensor 'b': 4 unused bytes before its data");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 5,
                        "1 bytes after the last tensor's data");
    expect_header_error("{}", 3, "3 bytes after the last tensor's data");

    /* accepted: unknown fields in an entry, null metadata, whitespace around, zero-size tensors
     * sharing an offset, an empty name */
    const char *ok[] = {
        "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":[1]}}",
        "  {\"__metadata__\":null,\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}  ",
        ("{\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"y\":{\"dtype\":\"U8\",\"shape\":[0,3],"
         "\"data_offsets\":[0,0]},\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"),
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        unsigned char d[4] = {0};
        size_t n;
        unsigned char *buf = build(ok[i], d, 4, &n);
        ws_err err;
        ws_st_file *f = ws_st_open_mem(buf, n, "ok", &err);
        if (!f)
            fail_msg("case %zu: %s", i, err.msg);
        ws_st_close(f);
        free(buf);
    }
}

/* Truncating a valid file anywhere, or flipping any header byte, never crashes; truncation is
 * always refused (the data block must be tiled exactly). */
static void test_truncation_and_flips(void **state)
{
    (void)state;
    char dir[64], path[128], cut[160];
    make_tmpdir(dir, sizeof dir, "ws-st");
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
    write_sample(path, 0);
    size_t n;
    unsigned char *bytes = read_file(path, &n);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h |= (uint64_t)bytes[i] << (8 * i);
    ws_err err;
    for (size_t len = 0; len < n; len++) {
        /* through a real file (the mmap path) at a few points, in memory everywhere */
        int via_file = len == 0 || len == 5 || len == 8 || len == 8 + h / 2 || len == 8 + h || len == n - 1;
        ws_st_file *f;
        if (via_file) {
            write_file(cut, bytes, len);
            f = ws_st_open(cut, &err);
        } else {
            unsigned char *copy = malloc(len ? len : 1); /* exact size: ASan sees any over-read */
            memcpy(copy, bytes, len);
            f = ws_st_open_mem(copy, len, cut, &err);
            free(copy);
        }
        if (f)
            fail_msg("truncated at %zu of %zu bytes: accepted", len, n);
        assert_non_null(strstr(err.msg, cut));
        if (len < 8)
            assert_non_null(strstr(err.msg, "too short"));
        else if (len < 8 + h)
            assert_non_null(strstr(err.msg, "runs past the end of the file"));
        else
            assert_non_null(strstr(err.msg, "run past the end of the data"));
    }
    /* one byte appended */
    unsigned char *longer = malloc(n + 1);
    memcpy(longer, bytes, n);
    longer[n] = 0;
    expect_mem_error(longer, n + 1, "1 bytes after the last tensor's data");
    free(longer);

    /* every header byte replaced by a few others */
    const unsigned char subst[] = {0, ' ', '"', '{', '}', '[', ']', ',', ':', '0', '9', '-', 'x', 0x80, 0xff};
    int accepted = 0, refused = 0;
    for (size_t pos = 0; pos < 8 + h; pos++)
        for (size_t s = 0; s < sizeof subst; s++) {
            if (bytes[pos] == subst[s])
                continue;
            unsigned char *copy = malloc(n);
            memcpy(copy, bytes, n);
            copy[pos] = subst[s];
            ws_st_file *f = ws_st_open_mem(copy, n, "flip", &err);
            if (f) {
                accepted++;
                for (size_t i = 0; i < ws_st_count(f); i++) { /* whatever it says must be readable */
                    const ws_st_tensor *t = ws_st_tensor_at(f, i);
                    assert_true((const unsigned char *)t->data + t->nbytes <= copy + n);
                    assert_true((const unsigned char *)t->data >= copy + 8);
                }
                ws_st_close(f);
            } else {
                refused++;
                assert_non_null(strstr(err.msg, "flip"));
            }
            free(copy);
        }
    assert_true(refused > 0);
    assert_true(accepted > 0); /* e.g. a changed letter of a name or of a metadata value */
    free(bytes);
    rm_rf(dir);
}

static void test_open_errors(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir, "ws-st");
    ws_err err;
    snprintf(path, sizeof path, "%s/none.safetensors", dir);
    assert_null(ws_st_open(path, &err));
    assert_non_null(strstr(err.msg, "none.safetensors: cannot open: No such file"));
    assert_null(ws_st_open(dir, &err));
    assert_non_null(strstr(err.msg, "not a regular file"));
    snprintf(path, sizeof path, "%s/empty.safetensors", dir);
    write_file(path, "", 0);
    assert_null(ws_st_open(path, &err));
    assert_non_null(strstr(err.msg, "empty.safetensors: 0 bytes, too short"));
    rm_rf(dir);
}

static void test_atomic_write(void **state)
{
    (void)state;
    char dir[64], path[128], sub[128];
    make_tmpdir(dir, sizeof dir, "ws-st");
    ws_err err;
    float x[1000];
    for (int i = 0; i < 1000; i++)
        x[i] = (float)i;
    int64_t s[1] = {1000};
    ws_st_writer *w = ws_st_writer_new(&err);
    assert_int_equal(ws_st_writer_add(w, "x", x, 1, s, &err), 0);

    /* the directory does not exist: nothing created */
    snprintf(path, sizeof path, "%s/no/such/dir/m.safetensors", dir);
    assert_int_equal(ws_st_writer_write(w, path, &err), -1);
    assert_non_null(strstr(err.msg, "cannot create"));

    /* the final name is a directory: refused before a temporary file is made */
    snprintf(sub, sizeof sub, "%s/taken", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(path, sizeof path, "%s/taken/inner", dir);
    write_file(path, "x", 1);
    assert_int_equal(ws_st_writer_write(w, sub, &err), -1);
    assert_non_null(strstr(err.msg, "is a directory"));
    assert_int_equal(count_entries(dir, ".tmp-"), 0);

    /* a write that fails half-way (file size limit) leaves the old file intact, no temporary */
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    write_file(path, "old contents", 12);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {2000, 2000};
        setrlimit(RLIMIT_FSIZE, &rl);
        ws_err e2;
        int rc = ws_st_writer_write(w, path, &e2);
        _exit(rc == -1 && strstr(e2.msg, "write failed") ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    size_t n;
    unsigned char *old = read_file(path, &n);
    assert_int_equal(n, 12);
    assert_memory_equal(old, "old contents", 12);
    free(old);
    assert_int_equal(count_entries(dir, ".tmp-"), 0);

    /* and a complete write replaces it */
    assert_int_equal(ws_st_writer_write(w, path, &err), 0);
    ws_st_file *f = ws_st_open(path, &err);
    assert_non_null(f);
    assert_int_equal(ws_st_find(f, "x")->numel, 1000);
    ws_st_close(f);
    assert_int_equal(count_entries(dir, ".tmp-"), 0);
    ws_st_writer_free(w);
    rm_rf(dir);
}

static void test_shape_str(void **state)
{
    (void)state;
    char buf[64];
    int64_t s[3] = {2, 30, 400};
    assert_string_equal(ws_st_shape_str(3, s, buf, sizeof buf), "[2, 30, 400]");
    assert_string_equal(ws_st_shape_str(0, s, buf, sizeof buf), "[]");
    assert_string_equal(ws_st_shape_str(3, s, buf, 6), "[2, 3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_deterministic_bytes),
        cmocka_unit_test(test_reference_bytes),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_dtype_conversion),
        cmocka_unit_test(test_dtype_names),
        cmocka_unit_test(test_header_corruption),
        cmocka_unit_test(test_truncation_and_flips),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_shape_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
