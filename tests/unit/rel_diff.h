/* rel_diff: how far apart two float arrays are, as ||a - b|| / ||a|| (||a - b|| when a is all
 * zero), in double. The measure of the CPU-vs-CUDA parity tests. */
#ifndef WS_TEST_REL_DIFF_H
#define WS_TEST_REL_DIFF_H

#include <math.h>
#include <stddef.h>

static inline double rel_diff(const float *a, const float *b, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        s += (double)a[i] * a[i];
    }
    return s > 0 ? sqrt(d / s) : sqrt(d);
}

#endif
