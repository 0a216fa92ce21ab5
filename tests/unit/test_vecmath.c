/* lib/base/vecmath against libm in double precision, over the ranges the CPU backend feeds it:
 * e^x to 2 units in the last place, the normal cdf to 3e-7 and pdf to 2e-7 absolute, on a dense grid
 * and at the edges. */
#include "vecmath.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

/* distance in units of the last place of the float nearest to `exact` */
static double ulps(float got, double exact)
{
    float nearest = (float)exact;
    double ulp = (double)nextafterf(nearest, INFINITY) - (double)nearest;
    return fabs((double)got - exact) / ulp;
}

static void test_expf(void **state)
{
    (void)state;
    double worst = 0, worst_x = 0;
    for (int i = 0; i <= 2000000; i++) {
        float x = -87.0f + 175.0f * (float)i / 2000000; /* [-87, 88] */
        double u = ulps(ws_expf(x), exp((double)x));
        if (u > worst)
            worst = u, worst_x = x;
    }
    printf("# ws_expf: worst %.2f ulp at x = %.6g\n", worst, worst_x);
    assert_true(worst <= 2.0);
    assert_true(ws_expf(0.0f) == 1.0f);
    /* below the range: a tiny positive number, never a NaN, an infinity or a negative */
    float low[] = {-87.3f, -100.0f, -1e30f, -INFINITY};
    for (size_t i = 0; i < sizeof low / sizeof *low; i++)
        assert_true(ws_expf(low[i]) > 0 && ws_expf(low[i]) < 2e-38f);
}

static void test_normal(void **state)
{
    (void)state;
    double worst_cdf = 0, worst_pdf = 0, at_cdf = 0, at_pdf = 0;
    for (int i = 0; i <= 2000000; i++) {
        float x = -12.0f + 24.0f * (float)i / 2000000;
        double cdf = 0.5 * erfc(-(double)x / sqrt(2.0)), pdf = exp(-0.5 * (double)x * x) / sqrt(2 * M_PI);
        double e1 = fabs(ws_normal_cdf(x) - cdf), e2 = fabs(ws_normal_pdf(x) - pdf);
        if (e1 > worst_cdf)
            worst_cdf = e1, at_cdf = x;
        if (e2 > worst_pdf)
            worst_pdf = e2, at_pdf = x;
    }
    printf("# ws_normal_cdf: worst %.3g at %.4g; ws_normal_pdf: worst %.3g at %.4g\n", worst_cdf, at_cdf, worst_pdf,
           at_pdf);
    assert_true(worst_cdf < 3e-7);
    assert_true(worst_pdf < 2e-7);
    /* GELU's tails: x Phi(x) -> 0 for large negative x, -> x for large positive */
    assert_true(fabsf(-30.0f * ws_normal_cdf(-30.0f)) < 1e-30f);
    assert_true(ws_normal_cdf(30.0f) == 1.0f);
    assert_true(fabsf(ws_normal_cdf(0.0f) - 0.5f) < 1e-7f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_expf), cmocka_unit_test(test_normal)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
