/* lib/base/strmap and hash: FNV-1a's published test vectors (rng's stream names depend on them);
 * dense indices in first-added order, duplicates, empty keys and keys with NUL bytes, growth
 * through many rehashes with every key still found, and an emptied map. */
#include "strmap.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hash.h"

static void test_fnv1a_vectors(void **state)
{
    (void)state;
    assert_true(ws_fnv1a("", 0) == 0xcbf29ce484222325ULL);
    assert_true(ws_fnv1a("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(ws_fnv1a("foobar", 6) == 0x85944171f73967e8ULL);
    assert_true(ws_hash_bytes("a", 1) != ws_fnv1a("a", 1));
}

static void test_indices(void **state)
{
    (void)state;
    ws_strmap m = {0};
    int added;
    assert_int_equal(ws_strmap_find(&m, "x", 1), -1);
    assert_int_equal(ws_strmap_add(&m, "red", 3, &added), 0);
    assert_true(added);
    assert_int_equal(ws_strmap_add(&m, "", 0, &added), 1);
    assert_true(added);
    assert_int_equal(ws_strmap_add(&m, "a\0b", 3, &added), 2);
    assert_true(added);
    assert_int_equal(ws_strmap_add(&m, "a", 1, &added), 3); /* a prefix of "a\0b" is another key */
    assert_true(added);
    assert_int_equal(ws_strmap_add(&m, "red", 3, &added), 0);
    assert_false(added);
    assert_int_equal(ws_strmap_find(&m, "a\0b", 3), 2);
    assert_int_equal(ws_strmap_find(&m, "", 0), 1);
    assert_int_equal(ws_strmap_find(&m, "re", 2), -1);
    assert_int_equal(ws_strmap_count(&m), 4);
    size_t len;
    assert_string_equal(ws_strmap_key(&m, 0, &len), "red");
    assert_int_equal(len, 3);
    assert_memory_equal(ws_strmap_key(&m, 2, &len), "a\0b", 4); /* NUL-terminated after its bytes */
    assert_int_equal(len, 3);
    assert_true(ws_strmap_bytes(&m) > 0);
    ws_strmap_free(&m);
    assert_int_equal(ws_strmap_count(&m), 0);
    assert_int_equal(ws_strmap_find(&m, "red", 3), -1);
    assert_int_equal(ws_strmap_add(&m, "blue", 4, NULL), 0); /* usable again */
    ws_strmap_free(&m);
}

static void test_growth(void **state)
{
    (void)state;
    enum { N = 200000 };
    ws_strmap m = {0};
    char key[32];
    for (int i = 0; i < N; i++) {
        int n = snprintf(key, sizeof key, "term-%d", i * 7919);
        assert_int_equal(ws_strmap_add(&m, key, (size_t)n, NULL), i);
    }
    for (int i = N - 1; i >= 0; i--) {
        int n = snprintf(key, sizeof key, "term-%d", i * 7919);
        assert_int_equal(ws_strmap_find(&m, key, (size_t)n), i);
        assert_string_equal(ws_strmap_key(&m, (size_t)i, NULL), key);
    }
    assert_int_equal(ws_strmap_find(&m, "term-1", 6), -1);
    assert_true(m.n_slots >= 2 * (size_t)N); /* at most half full */
    ws_strmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fnv1a_vectors), cmocka_unit_test(test_indices),
                                       cmocka_unit_test(test_growth)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
