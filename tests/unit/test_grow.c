/* lib/base/grow: room left means no reallocation, doubling from the first capacity, one call
 * that grows past several doublings, refused sizes that leave the array and its capacity as they
 * were, and the contents kept across each growth. */
#include "grow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

static void test_room_left_keeps_the_block(void **state)
{
    (void)state;
    size_t cap = 0;
    int *a = ws_grow(NULL, &cap, 1, sizeof *a, 8);
    assert_non_null(a);
    assert_int_equal(cap, 8);
    for (size_t need = 1; need <= 8; need++) {
        assert_ptr_equal(ws_grow(a, &cap, need, sizeof *a, 8), a);
        assert_int_equal(cap, 8);
    }
    free(a);
}

static void test_doubles_from_first_cap_and_keeps_contents(void **state)
{
    (void)state;
    size_t cap = 0;
    int *a = NULL;
    size_t caps_seen[8], n_caps = 0;
    for (int i = 0; i < 100; i++) { /* appended one at a time, as the call sites do */
        int *grown = ws_grow(a, &cap, (size_t)i + 1, sizeof *a, 3);
        assert_non_null(grown);
        a = grown;
        if (n_caps == 0 || caps_seen[n_caps - 1] != cap)
            caps_seen[n_caps++] = cap;
        a[i] = i * 7;
    }
    const size_t want[] = {3, 6, 12, 24, 48, 96, 192};
    assert_int_equal(n_caps, sizeof want / sizeof *want);
    for (size_t k = 0; k < n_caps; k++)
        assert_int_equal(caps_seen[k], want[k]);
    for (int i = 0; i < 100; i++)
        assert_int_equal(a[i], i * 7);
    free(a);
}

static void test_one_call_fits_a_larger_need(void **state)
{
    (void)state;
    size_t cap = 0;
    char *s = ws_grow(NULL, &cap, 1000, 1, 16); /* from nothing: 16, 32, ..., 1024 */
    assert_non_null(s);
    assert_int_equal(cap, 1024);
    for (size_t i = 0; i < 1000; i++)
        s[i] = (char)('a' + i % 26);
    s = ws_grow(s, &cap, 5000, 1, 16); /* from 1024: 2048, 4096, 8192 */
    assert_non_null(s);
    assert_int_equal(cap, 8192);
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(s[i], 'a' + i % 26);
    free(s);
    assert_int_equal(ws_grow_cap(4096, 4097, 16), 8192);
    assert_int_equal(ws_grow_cap(5, 5, 16), 5); /* a capacity not from doubling is kept when enough */
    assert_int_equal(ws_grow_cap(0, 1, 0), 1);   /* no first capacity: 1 */
}

static void test_empty_request_is_not_null(void **state)
{
    (void)state;
    size_t cap = 0;
    double *d = ws_grow(NULL, &cap, 0, sizeof *d, 4); /* NULL means failure only */
    assert_non_null(d);
    assert_int_equal(cap, 4);
    assert_ptr_equal(ws_grow(d, &cap, 0, sizeof *d, 4), d);
    free(d);
}

static void test_overflow_refused(void **state)
{
    (void)state;
    size_t cap = 0;
    uint64_t *a = ws_grow(NULL, &cap, 4, sizeof *a, 4);
    assert_non_null(a);
    for (int i = 0; i < 4; i++)
        a[i] = 0x0123456789abcdefu + (uint64_t)i;
    /* cap * 8 bytes would wrap size_t: refused before realloc sees a small wrapped size */
    assert_null(ws_grow(a, &cap, SIZE_MAX / 4, sizeof *a, 4));
    assert_int_equal(cap, 4);
    /* the capacity's doubling itself would wrap: it stops at SIZE_MAX, which is refused */
    assert_int_equal(ws_grow_cap(SIZE_MAX / 2 + 2, SIZE_MAX / 2 + 3, 1), SIZE_MAX);
    assert_null(ws_grow(a, &cap, SIZE_MAX, 1, 4));
    assert_int_equal(cap, 4);
    /* past PTRDIFF_MAX bytes without wrapping: refused too */
    assert_null(ws_realloc_array(a, (size_t)PTRDIFF_MAX / 8 + 1, 8));
    assert_null(ws_realloc_array(a, 0, 8)); /* realloc(a, 0) would free it */
    for (int i = 0; i < 4; i++) /* a is still the caller's, untouched */
        assert_true(a[i] == 0x0123456789abcdefu + (uint64_t)i);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_room_left_keeps_the_block),
        cmocka_unit_test(test_doubles_from_first_cap_and_keeps_contents),
        cmocka_unit_test(test_one_call_fits_a_larger_need),
        cmocka_unit_test(test_empty_request_is_not_null),
        cmocka_unit_test(test_overflow_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
