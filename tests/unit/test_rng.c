/* lib/base/rng: named streams are independent and repeatable; the policy sampler draws from
 * softmax(logp / T) (frequencies within 4 standard errors over 200,000 draws), takes the argmax
 * at T = 0 (lowest index on ties) without drawing, ignores a constant shift and survives scores
 * whose exponentials overflow. lib/base/pyrandom reproduces CPython's random.seed(n) +
 * random.shuffle / getrandbits: the expected values were printed by python3 (3.11) with
 *   random.seed(s); x = list(range(n)); random.shuffle(x)
 * and the hash h = (h * 1000003 + x[i]) mod 2^61 over the whole permutation; the shell test
 * test_goals.sh compares against python3 itself on the goal order. */
#include "pyrandom.h"
#include "rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

static void test_streams(void **state)
{
    (void)state;
    ws_rng a, b, c;
    ws_rng_seed(&a, 5, "prices");
    ws_rng_seed(&b, 5, "prices");
    ws_rng_seed(&c, 5, "goals");
    int same = 1, differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = ws_rng_next(&a), y = ws_rng_next(&b), z = ws_rng_next(&c);
        same &= x == y;
        differ += x != z;
    }
    assert_true(same);
    assert_int_equal(differ, 100);
}

static void test_softmax_frequencies(void **state)
{
    (void)state;
    const double logp[4] = {log(0.1), log(0.2), log(0.3), log(0.4)};
    for (int t = 0; t < 2; t++) {
        double temperature = t ? 2.0 : 1.0, p[4], total = 0;
        for (int j = 0; j < 4; j++)
            total += p[j] = exp(logp[j] / temperature);
        long count[4] = {0}, n = 200000;
        ws_rng r;
        ws_rng_seed(&r, 1, "test-softmax");
        for (long i = 0; i < n; i++) {
            int k = ws_rng_softmax(&r, logp, 4, temperature);
            assert_true(k >= 0 && k < 4);
            count[k]++;
        }
        for (int j = 0; j < 4; j++) {
            double want = p[j] / total, se = sqrt(want * (1 - want) / (double)n);
            printf("# T %.0f: action %d drawn %.4f, softmax %.4f\n", temperature, j, (double)count[j] / (double)n,
                   want);
            assert_true(fabs((double)count[j] / (double)n - want) < 4 * se);
        }
    }
}

static void test_softmax_argmax_shift_overflow(void **state)
{
    (void)state;
    ws_rng r, untouched;
    ws_rng_seed(&r, 2, "test-softmax");
    untouched = r;
    const double tie[3] = {-1.0, 0.5, 0.5};
    assert_int_equal(ws_rng_softmax(&r, tie, 3, 0), 1);
    assert_int_equal(ws_rng_softmax(&r, tie, 1, 0), 0);
    assert_true(ws_rng_next(&r) == ws_rng_next(&untouched)); /* the argmax drew nothing */

    /* a constant shift of every score: the same draws from the same state */
    const double base[5] = {0.3, -1.2, 2.0, 0.0, 1.1}, shifted[5] = {100.3, 98.8, 102.0, 100.0, 101.1};
    ws_rng a, b;
    ws_rng_seed(&a, 3, "test-softmax");
    b = a;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(ws_rng_softmax(&a, base, 5, 0.7), ws_rng_softmax(&b, shifted, 5, 0.7));

    /* logits far past exp's range: the largest wins nearly always, never an invalid index */
    const double huge[3] = {1e4, 1e4 - 50, -1e4};
    for (int i = 0; i < 1000; i++)
        assert_int_equal(ws_rng_softmax(&a, huge, 3, 1.0), 0);
}

static void test_python_shuffle(void **state)
{
    (void)state;
    static const struct {
        uint64_t seed;
        size_t n;
        size_t head[8];
        uint64_t hash;
    } cases[] = {
        {233, 6910, {3963, 2638, 2193, 1856, 4358, 6149, 2504, 3220}, 2062935093337192365ull},
        {233, 10, {5, 9, 0, 1, 4, 7, 6, 3}, 1164566446435372427ull},
        {0, 2, {0, 1}, 1},
        {5, 1000, {910, 516, 275, 950, 612, 970, 52, 75}, 173069401942057322ull},
        {4294967296ull, 7, {5, 1, 4, 6, 3, 2, 0}, 1958908238163409015ull},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t *x = malloc(cases[c].n * sizeof *x);
        assert_non_null(x);
        for (size_t i = 0; i < cases[c].n; i++)
            x[i] = i;
        ws_pyrandom r;
        ws_pyrandom_seed(&r, cases[c].seed);
        ws_pyrandom_shuffle(&r, x, cases[c].n);
        uint64_t h = 0;
        for (size_t i = 0; i < cases[c].n; i++) {
            if (i < 8)
                assert_int_equal(x[i], cases[c].head[i]);
            h = (uint64_t)(((unsigned __int128)h * 1000003u + x[i]) % (1ull << 61));
        }
        assert_int_equal(h, cases[c].hash);
        free(x);
    }
    ws_pyrandom r;
    ws_pyrandom_seed(&r, 233);
    assert_int_equal(ws_pyrandom_getrandbits(&r, 1), 1);
    assert_int_equal(ws_pyrandom_getrandbits(&r, 13), 6573);
    assert_int_equal(ws_pyrandom_getrandbits(&r, 32), 2698614761u);
    assert_int_equal(ws_pyrandom_getrandbits(&r, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_streams), cmocka_unit_test(test_softmax_frequencies),
                                       cmocka_unit_test(test_softmax_argmax_shift_overflow),
                                       cmocka_unit_test(test_python_shuffle)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
