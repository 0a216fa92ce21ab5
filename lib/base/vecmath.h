/* vecmath: e^x and the normal distribution's cdf and pdf in single precision, written so that
 * the compiler can vectorise the loops that call them (no branches, no libm calls, no errno).
 *
 * The CPU backend's float build spends its softmax and GELU time here: glibc's exp and erf are
 * scalar calls, which took a sixth of a MiniLM training step. Accuracy (tests/unit/test_vecmath):
 * ws_expf within 2 units in the last place over its range; ws_normal_cdf within 3e-7 of the
 * exact cdf (Numerical Recipes' erfc approximation, fractional error below 1.2e-7, evaluated in
 * float), ws_normal_pdf within 2e-7. The double build (the gradient check) keeps libm. */
#ifndef WS_VECMATH_H
#define WS_VECMATH_H

#include <stdint.h>
#include <string.h>

/* Put before a function whose loops call these (or are otherwise long and elementwise): GCC then
 * compiles it also for AVX-512 (x86-64-v4) and AVX2 (v3) and picks the version for the CPU once,
 * at load. The build itself stays generic (SSE2: a quarter of AVX-512's width), so one binary
 * runs everywhere. A version's sums may round differently from another's (vector widths set the
 * order of a reduction), so bits are those of the CPU, as with OpenBLAS's kernels. Elsewhere
 * (clang, other architectures) the one generic version. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WS_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define WS_VECTOR_CLONES
#endif

/* A float's bits and back (also lib/io/safetensors' widening of f16 and bf16). */
static inline uint32_t ws_float_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float ws_bits_float(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* e^x for x <= 88. Below -87.3 it returns about 1e-38 rather than a subnormal or zero: a
 * softmax weight or tail probability of that size is zero for every use here. */
static inline float ws_expf(float x)
{
    x = x < -87.3f ? -87.3f : x;
    /* x = n ln2 + r, |r| <= ln2 / 2; adding 1.5 * 2^23 rounds x log2(e) to the integer n, which
     * then sits in the low bits of the sum */
    const float shifter = 12582912.0f;
    float t = x * 1.44269504088896341f + shifter;
    float n = t - shifter;
    int32_t ni = (int32_t)(ws_float_bits(t) - ws_float_bits(shifter));
    float r = x - n * 0.693145752f; /* ln2 in two parts, so that n ln2 is exact to float */
    r = r - n * 1.42860677e-06f;
    /* Taylor to r^7: the remainder is below 2e-8 relative for |r| <= 0.347 */
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return ws_bits_float(ws_float_bits(p) + ((uint32_t)ni << 23)); /* p * 2^n */
}

/* Phi(x) and phi(x) of the standard normal distribution: GELU(x) = x Phi(x), its derivative
 * Phi(x) + x phi(x). */
static inline float ws_normal_cdf(float x)
{
    float z = (x < 0 ? -x : x) * 0.707106781186547524f;
    float t = 1.0f / (1.0f + 0.5f * z);
    float q = 0.17087277f;
    q = q * t - 0.82215223f;
    q = q * t + 1.48851587f;
    q = q * t - 1.13520398f;
    q = q * t + 0.27886807f;
    q = q * t - 0.18628806f;
    q = q * t + 0.09678418f;
    q = q * t + 0.37409196f;
    q = q * t + 1.00002368f;
    q = q * t - 1.26551223f;
    float half_erfc = 0.5f * t * ws_expf(q - z * z); /* erfc(|x| / sqrt 2) / 2 = Phi(-|x|) */
    return x < 0 ? half_erfc : 1.0f - half_erfc;
}

static inline float ws_normal_pdf(float x)
{
    return 0.398942280401432678f * ws_expf(-0.5f * x * x);
}

#endif
