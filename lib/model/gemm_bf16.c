/* gemm_bf16: bf16 inputs, fp32 accumulation (gemm_bf16.h).
 *
 * The layout follows AVX512_BF16's dot product: vdpbf16ps multiplies, in each 32-bit lane, a pair
 * of bf16 values of one operand by the pair in the same lane of the other and adds both products
 * into that lane's fp32 sum. So both operands are packed as pairs along k: a 32-bit word holds
 * op(X)(i, 2p) in its low half and op(X)(i, 2p + 1) in its high half (a zero when K is odd).
 *
 * Blocking (after BLIS and OpenBLAS): the columns go NC at a time; for those, all of op(B) is
 * packed once, in KC-deep blocks, and shared by the threads. Each thread then takes its run of
 * MC-row blocks of C through every block of k, packing its block of A for each and running the
 * microkernel over it: an MR x NR tile of C in 2 x MR vector accumulators, fed by one broadcast
 * pair of A per row and two vectors of B pairs per step. With MR = 12, NR = 32 that is 24
 * accumulators of AVX-512's 32 registers, enough independent sums to keep both vector pipes busy
 * through the instruction's latency. An NR-wide panel of B (KC/2 x 32 words = 16 KiB) stays in
 * L1 while the A block (48 KiB) streams from L2, and the MC x NC block of C stays in L2 through
 * all the blocks of k: with the blocks of k outside the row blocks (B packed one block of k at a
 * time), a large C went back to memory once per block of k, at a third less rate with a batch's
 * 4,600 rows.
 *
 * Threads share out whole MC-row blocks of C in a fixed order; an element's sum runs through
 * the K blocks in order whichever thread holds it, so the bits do not depend on the threads. */
#include "gemm_bf16.h"

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>

enum {
    MR = 12,  /* rows of C per microkernel tile */
    NR = 32,  /* columns per tile: two vectors of 16 fp32 sums */
    KC = 256, /* depth of a packed block (even: whole pairs) */
    MC = 96,  /* rows of a thread's A block: 8 tiles */
    NC = 512  /* columns of the shared B block */
};

/* Below this many multiply-adds the threads cost more than they save. */
#define PARALLEL_MIN_WORK (1 << 18)

#if defined(__x86_64__)
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

int ws_gemm_bf16_supported(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

/* The first n of 16 lanes (none when n <= 0). */
static inline __mmask16 first_lanes(int n)
{
    return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

/* Transpose a 16 x 16 block of 32-bit words held as 16 vectors (r[x] = row x). Level by level
 * (b = 8, 4, 2, 1), rows x and x + b (x without bit b) swap their off-diagonal b x b blocks:
 * row x takes row x + b's low block into its high half, row x + b takes row x's high block into
 * its low half; after the four levels every element has crossed the diagonal. */
BF16_TARGET static void transpose16(__m512i r[16])
{
#pragma GCC unroll 4
    for (int b = 8; b >= 1; b /= 2) {
        int32_t take_low[16], take_high[16]; /* lanes 0-15: the upper row, 16-31: the lower one */
        for (int c = 0; c < 16; c++) {
            take_low[c] = c & b ? 16 + c - b : c;
            take_high[c] = c & b ? 16 + c : c + b;
        }
        __m512i low = _mm512_loadu_si512(take_low), high = _mm512_loadu_si512(take_high);
#pragma GCC unroll 16
        for (int x = 0; x < 16; x++)
            if (!(x & b)) {
                __m512i upper = r[x], lower = r[x + b];
                r[x] = _mm512_permutex2var_epi32(upper, low, lower);
                r[x + b] = _mm512_permutex2var_epi32(upper, high, lower);
            }
    }
}

/* Pack a panel of op(X): dst[p * width + i] = the bf16 pair (x(i, 2p), x(i, 2p + 1)) for p < kc/2
 * rounded up, i < width, where x(i, k) = src[i * stride_i + k * stride_k] for i < n_index and 0
 * beyond (so that a partial tile computes zeros). pairs_contiguous: stride_k == 1 (a row of A, a
 * row of B^T); else stride_i == 1 (a column of A^T, a row of B). */
BF16_TARGET static void pack_panel(uint32_t *dst, int width, int n_index, int kc, const float *src, size_t stride_i,
                                   size_t stride_k, int pairs_contiguous)
{
    int kp = (kc + 1) / 2;
    if (pairs_contiguous) {
        /* 16 indices x 32 consecutive k at a time: each index's 32 values convert to 16 pairs
         * (a row of words), and the 16 x 16 words are transposed into one vector per step p */
        for (int i0 = 0; i0 < width; i0 += 16) {
            int rows = n_index - i0;
            __mmask16 stored = first_lanes(width - i0);
            for (int k0 = 0; k0 < kc; k0 += 32) {
                int left = kc - k0;
                __m512i words[16];
                for (int x = 0; x < 16; x++) {
                    if (x >= rows) {
                        words[x] = _mm512_setzero_si512();
                        continue;
                    }
                    const float *row = src + (size_t)(i0 + x) * stride_i + k0;
                    __m512 lo = _mm512_maskz_loadu_ps(first_lanes(left), row);
                    __m512 hi = _mm512_maskz_loadu_ps(first_lanes(left - 16), row + 16);
                    words[x] = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
                }
                transpose16(words);
                int n_pairs = (left + 1) / 2 < 16 ? (left + 1) / 2 : 16;
                for (int q = 0; q < n_pairs; q++)
                    _mm512_mask_storeu_epi32(dst + (size_t)(k0 / 2 + q) * width + i0, stored, words[q]);
            }
        }
        return;
    }
    /* two rows k = 2p and 2p + 1, 16 indices at a time: convert both (row 2p in the low 16 bf16,
     * row 2p + 1 in the high 16), then interleave them into pairs */
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
                                                22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (int p = 0; p < kp; p++) {
        const float *even = src + (size_t)(2 * p) * stride_k, *odd = even + stride_k;
        int has_odd = 2 * p + 1 < kc;
        for (int i0 = 0; i0 < width; i0 += 16) {
            __mmask16 valid = first_lanes(n_index - i0);
            __m512 v0 = _mm512_maskz_loadu_ps(valid, even + i0);
            __m512 v1 = has_odd ? _mm512_maskz_loadu_ps(valid, odd + i0) : _mm512_setzero_ps();
            __m512i halves = (__m512i)_mm512_cvtne2ps_pbh(v1, v0);
            _mm512_mask_storeu_epi32(dst + (size_t)p * width + i0, first_lanes(width - i0),
                                     _mm512_permutexvar_epi16(interleave, halves));
        }
    }
}

/* One MR x NR tile: C[m, n] = alpha (A panel . B panel) + beta C, m <= MR rows and n <= NR columns
 * stored (beta == 0: C not read). a: kp steps of MR pairs; b: kp steps of NR pairs. */
BF16_TARGET static void microkernel(int kp, const uint32_t *a, const uint32_t *b, float *c, size_t ldc, int m, int n,
                                    float alpha, float beta)
{
    __m512 acc[MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < kp; p++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512(b), b1 = (__m512bh)_mm512_load_si512(b + 16);
#pragma GCC unroll 12
        for (int i = 0; i < MR; i++) {
            __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
        a += MR;
        b += NR;
    }
    __mmask16 cols0 = first_lanes(n), cols1 = first_lanes(n - 16);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
        if (i >= m)
            break;
        float *row = c + (size_t)i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);
        if (beta != 0) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(cols0, row), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(cols1, row + 16), r1);
        }
        _mm512_mask_storeu_ps(row, cols0, r0);
        _mm512_mask_storeu_ps(row + 16, cols1, r1);
    }
}

/* A product as the blocked loops see it: op(A)(i, k) = A[i * a_stride_i + k * a_stride_k] and
 * op(B)(k, j) = B[j * b_stride_j + k * b_stride_k]; pairs_contiguous as pack_panel's. */
typedef struct product {
    int M, N, K;
    float alpha, beta;
    const float *A, *B;
    size_t a_stride_i, a_stride_k, b_stride_j, b_stride_k;
    int a_pairs_contiguous, b_pairs_contiguous;
    float *C;
    size_t ldc;
} product;

/* Rows ic .. ic + MC - 1 of C, columns jc .. jc + NC - 1, block kb of k: pack the A block, then
 * every tile. b_block: that block of k of the packed columns. */
BF16_TARGET static void row_block(const product *p, int ic, int jc, int kb, const uint32_t *b_block,
                                  uint32_t *a_block)
{
    int M = p->M, N = p->N, pc = kb * KC, kc = p->K - pc < KC ? p->K - pc : KC, kp = (kc + 1) / 2;
    int mc = M - ic < MC ? M - ic : MC, m_panels = (mc + MR - 1) / MR;
    int nc = N - jc < NC ? N - jc : NC, n_panels = (nc + NR - 1) / NR;
    /* the first block of k applies beta; the later ones add to what it left */
    float beta = kb == 0 ? p->beta : 1.0f;
    for (int ir = 0; ir < m_panels; ir++) {
        int i = ic + ir * MR;
        pack_panel(a_block + (size_t)ir * kp * MR, MR, M - i < MR ? M - i : MR, kc,
                   p->A + (size_t)i * p->a_stride_i + (size_t)pc * p->a_stride_k, p->a_stride_i, p->a_stride_k,
                   p->a_pairs_contiguous);
    }
    for (int jr = 0; jr < n_panels; jr++) {
        int j = jc + jr * NR, n = N - j < NR ? N - j : NR;
        for (int ir = 0; ir < m_panels; ir++) {
            int i = ic + ir * MR, m = M - i < MR ? M - i : MR;
            microkernel(kp, a_block + (size_t)ir * kp * MR, b_block + (size_t)jr * kp * NR,
                        p->C + (size_t)i * p->ldc + j, p->ldc, m, n, p->alpha, beta);
        }
    }
}

BF16_TARGET static void gemm_blocked(const product *p, int threads, uint32_t *b_blocks, uint32_t *a_blocks,
                                     size_t a_block_words)
{
    int N = p->N, K = p->K;
    int m_blocks = (p->M + MC - 1) / MC, k_blocks = (K + KC - 1) / KC, kp_max = (K < KC ? K + 1 : KC) / 2;
#pragma omp parallel num_threads(threads)
    {
        uint32_t *a_block = a_blocks + (size_t)omp_get_thread_num() * a_block_words;
        for (int jc = 0; jc < N; jc += NC) {
            int nc = N - jc < NC ? N - jc : NC, n_panels = (nc + NR - 1) / NR;
            size_t b_block_words = (size_t)kp_max * n_panels * NR; /* one block of k of these columns */
            /* all of K for these columns, packed once */
#pragma omp for schedule(static)
            for (int task = 0; task < k_blocks * n_panels; task++) {
                int kb = task / n_panels, jr = task % n_panels, pc = kb * KC, kc = K - pc < KC ? K - pc : KC;
                int j = jc + jr * NR;
                pack_panel(b_blocks + kb * b_block_words + (size_t)jr * ((kc + 1) / 2) * NR, NR,
                           N - j < NR ? N - j : NR, kc, p->B + (size_t)j * p->b_stride_j + (size_t)pc * p->b_stride_k,
                           p->b_stride_j, p->b_stride_k, p->b_pairs_contiguous);
            }
            /* each MC x NC block of C stays in L2 through all the blocks of k; the loop's end
             * waits for every thread before the next columns' packing overwrites B */
#pragma omp for schedule(static)
            for (int ib = 0; ib < m_blocks; ib++)
                for (int kb = 0; kb < k_blocks; kb++)
                    row_block(p, ib * MC, jc, kb, b_blocks + kb * b_block_words, a_block);
        }
    }
}

/* The packing buffers of the products a thread calls, kept from one product to the next and grown
 * when one needs more (K x NC bf16 values of B, about K KiB, and 48 KiB of A per thread). Allocated afresh
 * for every product they cost a page fault per 4 KiB, as long as a small product's arithmetic.
 * They live as long as the thread: the program's, or one of OpenMP's, which last as long. */
static _Thread_local uint32_t *kept_buffers;
static _Thread_local size_t kept_words;

static uint32_t *packing_buffers(size_t words)
{
    if (words > kept_words) {
        uint32_t *grown = aligned_alloc(64, words * sizeof *grown);
        if (!grown)
            return NULL;
        free(kept_buffers);
        kept_buffers = grown;
        kept_words = words;
    }
    return kept_buffers;
}

int ws_gemm_bf16(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    if (!ws_gemm_bf16_supported())
        return -1;
    if (M <= 0 || N <= 0)
        return 0;
    if (K <= 0 || alpha == 0) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[(size_t)i * ldc + j] = beta == 0 ? 0 : beta * C[(size_t)i * ldc + j];
        return 0;
    }
    /* One thread for a small product, and inside another parallel region (the attention's
     * blocks): OpenMP would give the nested region one thread anyway. */
    int threads = (double)M * N * K < PARALLEL_MIN_WORK || omp_get_active_level() >= omp_get_max_active_levels()
                      ? 1
                      : omp_get_max_threads();
    /* One buffer for the call, as large as the product needs: the shared B blocks (all of K for
     * NC columns), then an A block per thread, each a whole number of 64-byte lines. */
    int kp = (K < KC ? K + 1 : KC) / 2, nc = N < NC ? N : NC, mc = M < MC ? M : MC;
    size_t b_words = (size_t)((K + KC - 1) / KC) * kp * ((nc + NR - 1) / NR * NR);
    size_t a_words = (size_t)kp * ((mc + MR - 1) / MR * MR);
    b_words = (b_words + 15) / 16 * 16, a_words = (a_words + 15) / 16 * 16;
    uint32_t *buffers = packing_buffers(b_words + (size_t)threads * a_words);
    if (!buffers)
        return -1;
    int a_plain = trans_a == CblasNoTrans, b_plain = trans_b == CblasNoTrans;
    const product p = {.M = M, .N = N, .K = K, .alpha = alpha, .beta = beta, .A = A, .B = B,
                       .a_stride_i = a_plain ? (size_t)lda : 1, .a_stride_k = a_plain ? 1 : (size_t)lda,
                       .b_stride_j = b_plain ? 1 : (size_t)ldb, .b_stride_k = b_plain ? (size_t)ldb : 1,
                       .a_pairs_contiguous = a_plain, .b_pairs_contiguous = !b_plain, .C = C, .ldc = (size_t)ldc};
    gemm_blocked(&p, threads, buffers, buffers + b_words, a_words);
    return 0;
}

#else /* no AVX-512 outside x86-64 */

int ws_gemm_bf16_supported(void)
{
    return 0;
}

int ws_gemm_bf16(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb,
        (void)beta, (void)C, (void)ldc;
    return -1;
}

#endif
