/* Unit tests of lib/io/jsonarray: splitting one top-level JSON array (or object) into elements,
 * across every read boundary, plain and zstd, and every kind of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "jsonarray.h"
#include "stream.h"
#include "zstd_frame.h"

/* Every element serialised compactly and joined by '\n'; returns WS_EOF / WS_ERROR's code and
 * leaves the text in *out (caller frees). */
static int collect(const void *data, size_t n, const ws_jsonarray_opts *opts, char **out, ws_err *err)
{
    ws_jsonarray *a = ws_jsonarray_open_mem(data, n, "mem", opts, err);
    assert_non_null(a);
    char *text = NULL;
    size_t len = 0, cap = 0;
    json_t *v;
    int rc;
    while ((rc = ws_jsonarray_next(a, &v, err)) == WS_RECORD) {
        if (opts && opts->container == WS_JSON_OBJECT) {
            size_t klen;
            const char *key = ws_jsonarray_key(a, &klen);
            assert_non_null(key);
            json_t *k = json_stringn(key, klen);
            ws_json_append(k, &text, &len, &cap);
            json_decref(k);
            json_t *colon = json_string(":");
            ws_json_append(colon, &text, &len, &cap);
            json_decref(colon);
        }
        ws_json_append(v, &text, &len, &cap);
        json_decref(v);
        ws_json_append(json_null(), &text, &len, &cap); /* a separator that cannot occur inside */
    }
    ws_jsonarray_close(a);
    text = realloc(text, len + 1);
    text[len] = 0;
    *out = text;
    return rc;
}

static void expect_elements(const char *input, const ws_jsonarray_opts *opts, const char *want)
{
    ws_err err = {{0}};
    char *got;
    int rc = collect(input, strlen(input), opts, &got, &err);
    if (rc != WS_EOF)
        fail_msg("input %s: rc %d: %s", input, rc, err.msg);
    if (strcmp(got, want) != 0)
        fail_msg("input %s:\n got  %s\n want %s", input, got, want);
    free(got);
}

static void expect_error(const char *input, size_t n, const ws_jsonarray_opts *opts, const char *needle1,
                         const char *needle2)
{
    ws_err err = {{0}};
    char *got;
    int rc = collect(input, n, opts, &got, &err);
    free(got);
    if (rc != WS_ERROR)
        fail_msg("input '%.*s': expected an error, got rc %d", (int)n, input, rc);
    if (!strstr(err.msg, needle1) || (needle2 && !strstr(err.msg, needle2)))
        fail_msg("input '%.*s': error '%s' lacks '%s'%s%s", (int)n, input, err.msg, needle1,
                 needle2 ? " or " : "", needle2 ? needle2 : "");
}

#define TRICKY                                                                                     \
    "[{\"a\":\"x]}{[\\\"y\",\"b\":[1,[2,[3,{}]]]}, [[[]]], \"s]\\\\\", 12.5e1, -3, true, null,"    \
    " {\"c\":\"\\\\\\\\\\\"\"}, \"{\\u005d\", {\"d\":\"\\u00e9 caf\xc3\xa9 \\ud83d\\ude00\"}, []]"
#define TRICKY_WANT                                                                                \
    "{\"a\":\"x]}{[\\\"y\",\"b\":[1,[2,[3,{}]]]}null[[[]]]null\"s]\\\\\"null125.0null-3nulltruenull" \
    "nullnull{\"c\":\"\\\\\\\\\\\"\"}null\"{]\"null{\"d\":\"\xc3\xa9 caf\xc3\xa9 \xf0\x9f\x98\x80\"}null" \
    "[]null"

static void test_tricky_strings_and_nesting(void **state)
{
    (void)state;
    expect_elements(TRICKY, NULL, TRICKY_WANT);
}

/* Every chunk size from 1 byte up: escapes, strings and brackets split across reads. */
static void test_every_read_boundary(void **state)
{
    (void)state;
    const char *inputs[] = {TRICKY, "\xef\xbb\xbf [ {\"x\" : \"\\\\\"} , \"\\\"\" ]  \n"};
    const char *wants[] = {TRICKY_WANT, "{\"x\":\"\\\\\"}null\"\\\"\"null"};
    for (size_t i = 0; i < 2; i++) {
        for (size_t chunk = 1; chunk <= 40; chunk++) {
            ws_jsonarray_opts o = {.chunk = chunk};
            expect_elements(inputs[i], &o, wants[i]);
        }
    }
}

static void test_whitespace_and_empty(void **state)
{
    (void)state;
    expect_elements("\n\t [ \r\n {} ,\n [ ] ,\t1\n ]\n\n", NULL, "{}null[]null1null");
    expect_elements("[]", NULL, "");
    expect_elements("  [ \n ]  \n", NULL, "");
    expect_elements("[0]", NULL, "0null");
    expect_elements("[\"\"]", NULL, "\"\"null");
}

static void test_raw_extent_and_position(void **state)
{
    (void)state;
    const char *in = "[ {\"a\": [1, \"]\"]} ,\"x\" , 42 ]";
    ws_err err;
    ws_jsonarray *a = ws_jsonarray_open_mem(in, strlen(in), "mem", NULL, &err);
    const char *t;
    size_t n;
    assert_int_equal(ws_jsonarray_index(a), -1);
    assert_int_equal(ws_jsonarray_next_raw(a, &t, &n, &err), WS_RECORD);
    assert_int_equal(n, strlen("{\"a\": [1, \"]\"]}"));
    assert_memory_equal(t, "{\"a\": [1, \"]\"]}", n);
    assert_int_equal(ws_jsonarray_index(a), 0);
    assert_int_equal(ws_jsonarray_element_offset(a), 2);
    assert_int_equal(ws_jsonarray_next_raw(a, &t, &n, &err), WS_RECORD);
    assert_memory_equal(t, "\"x\"", n);
    assert_int_equal(ws_jsonarray_element_offset(a), 19);
    assert_int_equal(ws_jsonarray_next_raw(a, &t, &n, &err), WS_RECORD);
    assert_memory_equal(t, "42", n);
    assert_int_equal(ws_jsonarray_index(a), 2);
    assert_int_equal(ws_jsonarray_next_raw(a, &t, &n, &err), WS_EOF);
    assert_int_equal(ws_jsonarray_next_raw(a, &t, &n, &err), WS_EOF);
    assert_int_equal(ws_jsonarray_offset(a), strlen(in));
    assert_null(ws_jsonarray_key(a, NULL));
    ws_jsonarray_close(a);
}

static void test_truncated(void **state)
{
    (void)state;
#define E(s, a, b) expect_error(s, strlen(s), NULL, a, b)
    E("", "empty input: expected a JSON array", NULL);
    E("  \n ", "empty input", NULL);
    E("[", "truncated input", "byte offset 1 before the array's closing ']' (elements complete: 0)");
    E("[{\"a\":1}, {\"b\":", "truncated input: element [1] starting at byte offset 10", "(byte offset 15)");
    E("[{\"a\":\"x]", "element [0] starting at byte offset 1 is incomplete", NULL);
    E("[1, 2", "truncated input", "(elements complete: 1)");
    E("[1, 2,", "truncated input", NULL);
    E("[\"abc\\", "truncated input: element [0]", NULL);
}

static void test_garbage_and_malformed(void **state)
{
    (void)state;
    E("[1] x", "byte offset 4: trailing garbage after the array's closing ']': 'x'", NULL);
    E("[1]]", "trailing garbage", NULL);
    E("[1][2]", "trailing garbage", "'['");
    E("x[1]", "byte offset 0: expected a JSON array ('['), found 'x'", NULL);
    E("{\"a\":1}", "expected a JSON array ('['), found '{'", NULL);
    E("[1,]", "byte offset 3: trailing comma after element [0]", NULL);
    E("[,1]", "byte offset 1: expected element [0], found ','", NULL);
    E("[1 2]", "byte offset 3: expected ',' or ']' after element [0], found '2'", NULL);
    E("[{}{}]", "expected ',' or ']' after element [0], found '{'", NULL);
    E("[{\"a\":[1}]", "element [0] at byte offset 1: malformed JSON: '}' at byte offset 8 does not close '['",
      NULL);
    E("[1, {\"a\": tru}]", "element [1] at byte offset 4: malformed JSON near byte offset", "invalid token");
    E("[{\"a\":1,}]", "element [0] at byte offset 1: malformed JSON", NULL);
    E("[\"a\nb\"]", "element [0] at byte offset 1: malformed JSON", "unexpected newline");
    E("[01]", "element [0]", "malformed JSON");
    E("[NaN]", "element [0]", "invalid token");
    E("[\"\xff\"]", "element [0]", "malformed JSON");
    /* a BOM must be whole and first */
    E("\xef\xbb[]", "expected a JSON array", NULL);
    E(" \xef\xbb\xbf[]", "expected a JSON array", NULL);
    /* a NUL byte is not JSON whitespace */
    expect_error("[1]\0", 4, NULL, "trailing garbage", "byte 0x00");
}

static void test_errors_final_or_not(void **state)
{
    (void)state;
    /* an element Jansson rejects: reported, and the reader goes on with the next one */
    const char *in = "[1, x, {\"a\": NaN}, 3]";
    ws_err err;
    ws_jsonarray *a = ws_jsonarray_open_mem(in, strlen(in), "mem", NULL, &err);
    json_t *v;
    assert_int_equal(ws_jsonarray_next(a, &v, &err), WS_RECORD);
    json_decref(v);
    assert_int_equal(ws_jsonarray_next(a, &v, &err), WS_ERROR);
    assert_non_null(strstr(err.msg, "mem: element [1] at byte offset 4: malformed JSON near byte offset"));
    assert_null(v);
    assert_true(ws_jsonarray_can_continue(a));
    assert_int_equal(ws_jsonarray_next(a, &v, &err), WS_ERROR);
    assert_non_null(strstr(err.msg, "element [2] at byte offset 7"));
    assert_int_equal(ws_jsonarray_next(a, &v, &err), WS_RECORD);
    assert_int_equal(json_integer_value(v), 3);
    assert_int_equal(ws_jsonarray_index(a), 3);
    json_decref(v);
    assert_int_equal(ws_jsonarray_next(a, &v, &err), WS_EOF);
    ws_jsonarray_close(a);

    /* a structural error is final: every later call repeats it */
    in = "[1 2, 3]";
    a = ws_jsonarray_open_mem(in, strlen(in), "mem", NULL, &err);
    assert_int_equal(ws_jsonarray_next(a, &v, &err), WS_RECORD);
    json_decref(v);
    assert_int_equal(ws_jsonarray_next(a, &v, &err), WS_ERROR);
    assert_false(ws_jsonarray_can_continue(a));
    memset(&err, 0, sizeof err);
    assert_int_equal(ws_jsonarray_next(a, &v, &err), WS_ERROR);
    assert_non_null(strstr(err.msg, "expected ',' or ']' after element [0]"));
    ws_jsonarray_close(a);
}

static void test_element_bound_and_depth(void **state)
{
    (void)state;
    ws_jsonarray_opts o = {.max_element = 64, .chunk = 8};
    char big[256];
    snprintf(big, sizeof big, "[\"short\", \"%0100d\"]", 0);
    expect_error(big, strlen(big), &o, "element [1] at byte offset 10 is longer than 64 bytes", NULL);
    /* an element just under the bound passes */
    snprintf(big, sizeof big, "[\"%060d\"]", 7);
    char want[128];
    snprintf(want, sizeof want, "\"%060d\"null", 7);
    expect_elements(big, &o, want);

    ws_jsonarray_opts one_read = {.max_element = 64};
    snprintf(big, sizeof big, "[\"%0100d\"]", 0);
    expect_error(big, strlen(big), &one_read, "element [0] at byte offset 1 is longer than 64 bytes", NULL);

    size_t depth = WS_JSONARRAY_MAX_DEPTH + 1;
    char *deep = malloc(2 * depth + 3), *p = deep;
    *p++ = '[';
    for (size_t i = 0; i < depth; i++)
        *p++ = '[';
    for (size_t i = 0; i < depth; i++)
        *p++ = ']';
    *p++ = ']';
    expect_error(deep, (size_t)(p - deep), NULL, "element [0] at byte offset 1: nested deeper than 2048", NULL);
    free(deep);
}

static void test_zstd_input(void **state)
{
    (void)state;
    size_t zn, zn2;
    char *z = compress(TRICKY, strlen(TRICKY), &zn);
    ws_err err;
    char *got;
    assert_int_equal(collect(z, zn, NULL, &got, &err), WS_EOF);
    assert_string_equal(got, TRICKY_WANT);
    free(got);
    ws_jsonarray *a = ws_jsonarray_open_mem(z, zn, "z", NULL, &err);
    json_t *v;
    assert_int_equal(ws_jsonarray_next(a, &v, &err), WS_RECORD);
    json_decref(v);
    assert_true(ws_jsonarray_is_zstd(a));
    assert_int_equal(ws_jsonarray_input_bytes(a), zn);
    ws_jsonarray_close(a);

    /* two frames read as one stream, with a 3-byte window */
    const char *p1 = "[{\"a\": \"one", *p2 = "\"}, 2]";
    char *z1 = compress(p1, strlen(p1), &zn), *z2 = compress(p2, strlen(p2), &zn2);
    char *both = malloc(zn + zn2);
    memcpy(both, z1, zn);
    memcpy(both + zn, z2, zn2);
    ws_jsonarray_opts o = {.chunk = 3};
    assert_int_equal(collect(both, zn + zn2, &o, &got, &err), WS_EOF);
    assert_string_equal(got, "{\"a\":\"one\"}null2null");
    free(got);

    /* truncated and corrupt frames, and a truncated array inside a complete frame */
    expect_error(both, zn + zn2 - 5, NULL, "truncated zstd frame", NULL);
    expect_error(z1, zn, NULL, "truncated input: element [0] starting at byte offset 1", NULL);
    both[zn + 6] ^= 0x55;
    both[zn + 7] ^= 0x55;
    expect_error(both, zn + zn2, NULL, "zstd", NULL);
    expect_error("\x28\xb5\x2f\xfd", 4, NULL, "truncated zstd frame", NULL);
    free(both);
    free(z1);
    free(z2);
    free(z);
}

static void test_object_mode(void **state)
{
    (void)state;
    ws_jsonarray_opts o = {.container = WS_JSON_OBJECT};
    expect_elements(" { \"B01\" : {\"attributes\": [\"x\"]}, \"k\\\"}2\":[1] ,\"\\u00e9\":3, \"B01\": null }", &o,
                    "\"B01\"\":\"{\"attributes\":[\"x\"]}null\"k\\\"}2\"\":\"[1]null\"\xc3\xa9\"\":\"3null"
                    "\"B01\"\":\"nullnull");
    expect_elements("{}", &o, "");
    for (size_t chunk = 1; chunk < 12; chunk++) {
        ws_jsonarray_opts oc = {.container = WS_JSON_OBJECT, .chunk = chunk};
        expect_elements("{\"a\\\\\": [\"}\"], \"b\": \"\\\"\"}", &oc, "\"a\\\\\"\":\"[\"}\"]null\"b\"\":\"\"\\\"\"null");
    }
#define EO(s, a, b) expect_error(s, strlen(s), &o, a, b)
    EO("[1]", "expected a JSON object ('{'), found '['", NULL);
    EO("{\"a\" 1}", "byte offset 5: expected ':' after the key of member [0], found '1'", NULL);
    EO("{1: 2}", "expected the key string of member [0], found '1'", NULL);
    EO("{\"a\": }", "expected element [0], found '}'", NULL);
    EO("{\"a\": 1,}", "trailing comma", NULL);
    EO("{\"a\": 1", "truncated input", "object's closing '}'");
    EO("{\"a\": 1} 2", "trailing garbage after the object's closing '}'", NULL);
    EO("{\"a\\x\": 1}", "member [0]: malformed key at byte offset 1", NULL);
}

static void test_files(void **state)
{
    (void)state;
    char path[] = "/tmp/test_jsonarray_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *in = "[{\"asin\": \"B1\"}, {\"asin\": \"B2\"}]";
    assert_int_equal(write(fd, in, strlen(in)), (ssize_t)strlen(in));
    close(fd);
    ws_err err;
    ws_jsonarray *a = ws_jsonarray_open(path, NULL, &err);
    assert_non_null(a);
    assert_string_equal(ws_jsonarray_name(a), path);
    json_t *v;
    long n = 0;
    int rc;
    while ((rc = ws_jsonarray_next(a, &v, &err)) == WS_RECORD) {
        n++;
        json_decref(v);
    }
    assert_int_equal(rc, WS_EOF);
    assert_int_equal(n, 2);
    ws_jsonarray_close(a);
    unlink(path);
    assert_null(ws_jsonarray_open("/nonexistent/raw.json", NULL, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/raw.json: cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tricky_strings_and_nesting),
        cmocka_unit_test(test_every_read_boundary),
        cmocka_unit_test(test_whitespace_and_empty),
        cmocka_unit_test(test_raw_extent_and_position),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_garbage_and_malformed),
        cmocka_unit_test(test_errors_final_or_not),
        cmocka_unit_test(test_element_bound_and_depth),
        cmocka_unit_test(test_zstd_input),
        cmocka_unit_test(test_object_mode),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
