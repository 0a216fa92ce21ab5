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
 * pair of A per row and two vectors of B pairs per step. Where A's k runs along its rows (op(A) =
 * A: every product but the weight gradients') its block is only converted to pairs, row by row,
 * and the kernel broadcasts each row's pair from there; A^T (the weight gradients' dout^T) is
 * packed into panels, all of it before the row blocks, shared (pack_by_rows). With
 * MR = 12, NR = 32 that is 24 accumulators of AVX-512's 32 registers, enough independent sums to
 * keep both vector pipes busy through the instruction's latency. An NR-wide panel of B (KC/2 x 32
 * words = 16 KiB) stays in L1 while the A block (48 KiB) streams from L2, and the MC x NC block of
 * C stays in L2 through all the blocks of k: with the blocks of k outside the row blocks (B packed
 * one block of k at a time), a large C went back to memory once per block of k, at a third less
 * rate with a batch's 4,600 rows.
 *
 * Threads share out whole MC-row blocks of C in a fixed order; an element's sum runs through
 * the K blocks in order whichever thread holds it, so the bits do not depend on the threads. */
#include "gemm_bf16.h"

#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "scratch.h"

enum {
    MR = 12,  /* rows of C per microkernel tile */
    NR = 32,  /* columns per tile: two vectors of 16 fp32 sums */
    KC = 256, /* depth of a packed block (even: whole pairs) */
    MC = 96,  /* rows of a thread's A block: 8 tiles */
    NC = 1536, /* columns of the shared B block */
    A_ROW_WORDS = KC / 2 /* words between rows of an A block converted in place (convert_rows) */
};

static ws_bf16_kernel best(void);

/* The kernel in use: the best unless ws_gemm_bf16_use chose another (set by one thread, before
 * products run). */
static ws_bf16_kernel chosen_kernel = WS_BF16_BEST;

const char *ws_gemm_bf16_kernel_name(ws_bf16_kernel k)
{
    return k == WS_BF16_AMX ? "amx" : k == WS_BF16_AVX512 ? "avx512" : k == WS_BF16_NONE ? "none" : "best";
}

int ws_gemm_bf16_supported(void)
{
    return best() != WS_BF16_NONE;
}

ws_bf16_kernel ws_gemm_bf16_kernel(void)
{
    return chosen_kernel == WS_BF16_BEST ? best() : chosen_kernel;
}

int ws_gemm_bf16_use(ws_bf16_kernel k)
{
    /* AMX's packing is AVX-512's: a CPU that runs AMX runs both */
    if (k != WS_BF16_BEST && (k == WS_BF16_NONE || k > best()))
        return -1;
    chosen_kernel = k;
    return 0;
}

/* Below this many multiply-adds the threads cost more than they save (waking a sleeping thread
 * takes tens of microseconds): AVX-512's kernel does 2^18 in a few microseconds, AMX 2^24 in
 * some 30 (384 x 384 x 32 took 35 us on one thread and 3.7 times that on two). */
#define PARALLEL_MIN_WORK (1 << 18)
#define PARALLEL_MIN_WORK_AMX (1 << 24)

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/* The best kernel of this CPU, found once: AVX-512 with AVX512_BF16 (which the packing needs
 * either way), and AMX where cpuid has AMX-TILE and AMX-BF16 (leaf 7: EDX bits 24 and 22) and
 * Linux grants the process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM, from Linux 5.16;
 * without it the first tile instruction faults). */
enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
static ws_bf16_kernel best_kernel;
static pthread_once_t best_kernel_once = PTHREAD_ONCE_INIT;
static void find_best_kernel(void)
{
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16"))) {
        best_kernel = WS_BF16_NONE;
        return;
    }
    best_kernel = WS_BF16_AVX512;
    unsigned eax, ebx, ecx, edx;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (edx >> 24 & 1) && (edx >> 22 & 1) &&
        syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0)
        best_kernel = WS_BF16_AMX;
}

static ws_bf16_kernel best(void)
{
    pthread_once(&best_kernel_once, find_best_kernel);
    return best_kernel;
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

/* The 16 pair words of a row's next 32 values, k_left of them present (zeros past them): word q
 * holds row[2q] in its low half and row[2q + 1] in its high half. */
BF16_TARGET static inline __m512i row_pairs(const float *row, int k_left)
{
    __m512 lo = _mm512_maskz_loadu_ps(first_lanes(k_left), row);
    __m512 hi = _mm512_maskz_loadu_ps(first_lanes(k_left - 16), row + 16);
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

/* The 16 x 16 block of pair words of op(X) at indices i0 .. i0 + 15 and k from k0 (16 pairs), where
 * x(i, k) = src[i * stride_i + k * stride_k] for i < n_index and k < n_k, zero beyond. index_major: out[x] holds index i0 + x's 16 pairs
 * (a row of an AMX tile); else out[q] holds pair p0 + q of the 16 indices (a step of the AVX-512
 * panels). pairs_contiguous: stride_k == 1 (a row of A, a row of B^T); else stride_i == 1 (a
 * column of A^T, a row of B). Each layout is read in its natural order and transposed when the
 * other is wanted. Where sums is not NULL (stride_i == 1 only), sums[x] = the fp32 sum of index
 * i0 + x's 32 values, k ascending, for the indices below n_index. */
BF16_TARGET static void pair_block(__m512i out[16], const float *src, int i0, int k0, size_t stride_i,
                                   size_t stride_k, int n_index, int n_k, int pairs_contiguous, int index_major,
                                   float *sums)
{
    n_index -= i0;
    int k_left = n_k - k0;
    if (n_index <= 0 || k_left <= 0) { /* all padding: no address of src is formed */
        for (int x = 0; x < 16; x++)
            out[x] = _mm512_setzero_si512();
        if (sums)
            _mm512_mask_storeu_ps(sums, first_lanes(n_index), _mm512_setzero_ps());
        return;
    }
    src += (size_t)i0 * stride_i + (size_t)k0 * stride_k;
    if (pairs_contiguous) {
        /* each index's 32 consecutive k convert to its 16 pairs */
        for (int x = 0; x < 16; x++) {
            if (x >= n_index) {
                out[x] = _mm512_setzero_si512();
                continue;
            }
            out[x] = row_pairs(src + (size_t)x * stride_i, k_left);
        }
        if (!index_major)
            transpose16(out);
        return;
    }
    /* two rows k = 2q and 2q + 1, 16 indices each: convert both (row 2q in the low 16 bf16, row
     * 2q + 1 in the high 16), then interleave them into pairs */
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
                                                22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    __mmask16 valid = first_lanes(n_index);
    __m512 sum = _mm512_setzero_ps();
    for (int q = 0; q < 16; q++) {
        if (2 * q >= k_left) {
            out[q] = _mm512_setzero_si512();
            continue;
        }
        const float *even = src + (size_t)(2 * q) * stride_k;
        __m512 v0 = _mm512_maskz_loadu_ps(valid, even);
        __m512 v1 = 2 * q + 1 < k_left ? _mm512_maskz_loadu_ps(valid, even + stride_k) : _mm512_setzero_ps();
        out[q] = _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(v1, v0));
        if (sums)
            sum = _mm512_add_ps(_mm512_add_ps(sum, v0), v1);
    }
    if (sums)
        _mm512_mask_storeu_ps(sums, valid, sum);
    if (index_major)
        transpose16(out);
}

/* Pack a panel of op(X) whose k runs along the rows in memory (B^T: the forward's weights) for
 * the AVX-512 kernel and AMX's B tiles: dst[p * width + i] = the bf16 pair (x(i, 2p), x(i, 2p + 1))
 * for p < kp_out, i < width, x as pair_block's (stride_k 1) for i < n_index and k < kc, zero
 * beyond (so that a partial tile computes zeros, and pairs padded to a whole tile add nothing).
 * Operands whose k runs down the rows are packed whole instead (pack_by_rows). */
BF16_TARGET static void pack_panel(uint32_t *dst, int width, int n_index, int kc, int kp_out, const float *src,
                                   size_t stride_i)
{
    for (int i0 = 0; i0 < width; i0 += 16) {
        __mmask16 stored = first_lanes(width - i0);
        for (int p0 = 0; p0 < kp_out; p0 += 16) {
            __m512i block[16];
            pair_block(block, src, i0, 2 * p0, stride_i, 1, n_index, kc, 1, 0, NULL);
            int n_pairs = kp_out - p0 < 16 ? kp_out - p0 : 16;
            for (int q = 0; q < n_pairs; q++)
                _mm512_mask_storeu_epi32(dst + (size_t)(p0 + q) * width + i0, stored, block[q]);
        }
    }
}

/* One MR x NR tile: C[m, n] = alpha (A panel . B panel) + beta C, m <= MR rows and n <= NR columns
 * stored (beta == 0: C not read), or + bias[n] where bias is not NULL (rounded once, as beta C
 * would be with C holding the bias and beta 1). b: kp steps of NR pairs; a: row i's pair p at
 * a[i * a_row + p * a_step], either a packed panel (a_row 1, a_step MR: pack_panel's) or rows of
 * A converted in place (a_row A_ROW_WORDS, a_step 1: convert_rows'). Always inlined with those
 * two constants, so that each layout compiles to broadcasts at fixed offsets; the sums run in
 * the same order either way. */
BF16_TARGET static inline __attribute__((always_inline)) void
tile_product(int kp, const uint32_t *a, size_t a_row, size_t a_step, const uint32_t *b, float *c, size_t ldc, int m,
             int n, float alpha, float beta, const float *bias)
{
    __m512 acc[MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < kp; p++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512(b), b1 = (__m512bh)_mm512_load_si512(b + 16);
#pragma GCC unroll 12
        for (int i = 0; i < MR; i++) {
            __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i * a_row]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
        a += a_step;
        b += NR;
    }
    __mmask16 cols0 = first_lanes(n), cols1 = first_lanes(n - 16);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __m512 bias0 = bias ? _mm512_maskz_loadu_ps(cols0, bias) : _mm512_setzero_ps();
    __m512 bias1 = bias ? _mm512_maskz_loadu_ps(cols1, bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
        if (i >= m)
            break;
        float *row = c + (size_t)i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);
        if (bias) {
            r0 = _mm512_add_ps(r0, bias0);
            r1 = _mm512_add_ps(r1, bias1);
        } else if (beta != 0) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(cols0, row), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(cols1, row + 16), r1);
        }
        _mm512_mask_storeu_ps(row, cols0, r0);
        _mm512_mask_storeu_ps(row + 16, cols1, r1);
    }
}

BF16_TARGET static void microkernel(int kp, const uint32_t *a, const uint32_t *b, float *c, size_t ldc, int m, int n,
                                    float alpha, float beta, const float *bias)
{
    tile_product(kp, a, 1, MR, b, c, ldc, m, n, alpha, beta, bias);
}

BF16_TARGET static void microkernel_rows(int kp, const uint32_t *a, const uint32_t *b, float *c, size_t ldc, int m,
                                         int n, float alpha, float beta, const float *bias)
{
    tile_product(kp, a, A_ROW_WORDS, 1, b, c, ldc, m, n, alpha, beta, bias);
}

/* Rows of A whose k runs along them (op(A) = A), converted to pair words in place of packing:
 * dst[r * A_ROW_WORDS + q] = the pair (A(r, 2q), A(r, 2q + 1)) for r < rows, q < (kc + 1) / 2
 * (a zero for an odd kc's last high half), and zero rows from rows to padded_rows (the tile's
 * rows past A's end compute zeros that are never stored). This is pair_block's conversion
 * without its transpose, which cost more than the conversion: a product with few columns (one
 * attention head's 32) spent more time packing its A than multiplying. */
BF16_TARGET static void convert_rows(uint32_t *dst, const float *src, size_t lda, int rows, int padded_rows, int kc)
{
    int kp = (kc + 1) / 2;
    for (int r = 0; r < padded_rows; r++) {
        uint32_t *out = dst + (size_t)r * A_ROW_WORDS;
        const float *row = src + (size_t)r * lda;
        for (int q0 = 0; q0 < kp; q0 += 16) {
            __m512i pairs = r < rows ? row_pairs(row + 2 * q0, kc - 2 * q0) : _mm512_setzero_si512();
            _mm512_mask_storeu_epi32(out + q0, first_lanes(kp - q0), pairs);
        }
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
    const float *bias; /* NULL, or added to every row of C (beta is then 0) */
    const ws_gemm_epilogue *epilogue; /* NULL, or run on each finished block of C */
    /* NULL, or (op(A) = A^T) row_sums[i] += the sum of op(A)'s row i, taken as A is packed:
     * chunk_sums[c * M + i] holds the sum of its 32 values k = 32c .. 32c + 31 (pair_block's),
     * then add_row_sums adds the chunks in order */
    float *row_sums, *chunk_sums;
} product;

/* The threads' share of row_sums (after A's packing): each row's chunks added in double, in
 * order, so that the bits do not depend on the threads. */
static void add_row_sums(const product *p)
{
    int chunks = (p->K + 31) / 32;
#pragma omp for schedule(static) nowait
    for (int i = 0; i < p->M; i++) {
        double sum = 0;
        for (int c = 0; c < chunks; c++)
            sum += p->chunk_sums[(size_t)c * p->M + i];
        p->row_sums[i] += (float)sum;
    }
}

/* Rows i .. i + m - 1, columns j .. j + n - 1 of C are final. */
static void finished(const product *p, int i, int j, int m, int n)
{
    if (p->epilogue)
        p->epilogue->apply(p->epilogue->arg, p->C + (size_t)i * p->ldc + j, p->ldc, i, j, m, n);
}

/* Rows ic .. ic + mc - 1 of C (mc <= MC), columns jc .. jc + NC - 1, block kb of k: convert the A
 * block's rows (op(A) = A) into a_block, then every tile; op(A) = A^T comes packed already, a_block
 * pointing at that block of k's panels (pack_by_rows), row ic's first. b_block: that block of k
 * of the packed columns. */
BF16_TARGET static void row_block(const product *p, int ic, int mc, int jc, int kb, const uint32_t *b_block,
                                  uint32_t *a_block)
{
    int M = p->M, N = p->N, pc = kb * KC, kc = p->K - pc < KC ? p->K - pc : KC, kp = (kc + 1) / 2;
    int m_panels = (mc + MR - 1) / MR;
    int nc = N - jc < NC ? N - jc : NC, n_panels = (nc + NR - 1) / NR;
    /* the first block of k applies beta (or adds the bias); the later ones add to what it left */
    float beta = kb == 0 ? p->beta : 1.0f;
    const float *bias = kb == 0 ? p->bias : NULL;
    int a_in_rows = p->a_pairs_contiguous;
    if (a_in_rows)
        convert_rows(a_block, p->A + (size_t)ic * p->a_stride_i + pc, p->a_stride_i, mc, m_panels * MR, kc);
    for (int jr = 0; jr < n_panels; jr++) {
        int j = jc + jr * NR, n = N - j < NR ? N - j : NR;
        for (int ir = 0; ir < m_panels; ir++) {
            int i = ic + ir * MR, m = M - i < MR ? M - i : MR;
            float *c = p->C + (size_t)i * p->ldc + j;
            const uint32_t *b = b_block + (size_t)jr * kp * NR;
            const float *bias_j = bias ? bias + j : NULL;
            if (a_in_rows)
                microkernel_rows(kp, a_block + (size_t)ir * MR * A_ROW_WORDS, b, c, p->ldc, m, n, p->alpha, beta,
                                 bias_j);
            else
                microkernel(kp, a_block + (size_t)ir * kp * MR, b, c, p->ldc, m, n, p->alpha, beta, bias_j);
        }
    }
}

/* An operand whose k runs down its rows (op(A) = A^T, op(B) = B), all of it packed once into
 * pack_panel's panels of `width` indices (MR for A, NR for B): for each block of k, a block of
 * block_words at dst + kb * block_words, panel after panel (so that any run of panels, a
 * thread's rows of A, is contiguous). The threads take 32 whole rows of the operand (16 pairs) at
 * a time across all its indices, so that each row is read in order. Packed one panel or block at
 * a time instead (as each thread reached it), every block read a few dozen values from each of
 * 256 rows thousands of bytes apart and waited on memory: the weight gradients' products ran
 * 5-10 points of the peak below the others. */
BF16_TARGET static void pack_by_rows(uint32_t *dst, size_t block_words, int width, const float *src, size_t stride_i,
                                     size_t stride_k, int n_index, int K, float *chunk_sums)
{
    int step = width < 16 ? width : 16, padded = (n_index + width - 1) / width * width;
#pragma omp for schedule(static)
    for (int chunk = 0; chunk < (K + 31) / 32; chunk++) {
        int k0 = chunk * 32, kb = k0 / KC, pc = kb * KC, kc = K - pc < KC ? K - pc : KC, kp = (kc + 1) / 2;
        int p0 = (k0 - pc) / 2, n_pairs = kp - p0 < 16 ? kp - p0 : 16;
        for (int i = 0; i < padded; i += step) {
            __m512i block[16];
            pair_block(block, src, i, k0, stride_i, stride_k, n_index < i + step ? n_index : i + step, K, 0, 0,
                       chunk_sums ? chunk_sums + (size_t)chunk * n_index + i : NULL);
            uint32_t *out = dst + (size_t)kb * block_words + ((size_t)(i / width) * kp + p0) * width + i % width;
            for (int q = 0; q < n_pairs; q++)
                _mm512_mask_storeu_epi32(out + (size_t)q * width, first_lanes(step), block[q]);
        }
    }
}

/* a_blocks: an A block per thread where op(A) = A (its rows converted there), a_block_words
 * each; else all of A^T packed (pack_by_rows), block of k after block of k, a_block_words each. */
BF16_TARGET static void gemm_blocked(const product *p, int threads, uint32_t *b_blocks, uint32_t *a_blocks,
                                     size_t a_block_words)
{
    int M = p->M, N = p->N, K = p->K;
    int m_panels = (M + MR - 1) / MR, k_blocks = (K + KC - 1) / KC, kp_max = (K < KC ? K + 1 : KC) / 2;
#pragma omp parallel num_threads(threads)
    {
        int thread = omp_get_thread_num(), n_threads = omp_get_num_threads();
        uint32_t *a_block = a_blocks + (size_t)thread * a_block_words;
        /* Each thread's rows of C: an equal share of the MR-row panels, taken MC rows at a time.
         * Whole MC-row blocks dealt out in turn left one thread a block more than the other
         * (a batch's 1,632 rows are 17 blocks: a twentieth of the two threads' time idle). */
        int row_first = m_panels * thread / n_threads * MR, row_end = m_panels * (thread + 1) / n_threads * MR;
        row_end = row_end < M ? row_end : M;
        if (!p->a_pairs_contiguous) { /* all of A^T, once; the loop's end waits for it */
            pack_by_rows(a_blocks, a_block_words, MR, p->A, p->a_stride_i, p->a_stride_k, M, K, p->chunk_sums);
            if (p->row_sums)
                add_row_sums(p);
        }
        for (int jc = 0; jc < N; jc += NC) {
            int nc = N - jc < NC ? N - jc : NC, n_panels = (nc + NR - 1) / NR;
            size_t b_block_words = (size_t)kp_max * n_panels * NR; /* one block of k of these columns */
            /* all of K for these columns, packed once */
            if (p->b_pairs_contiguous) {
#pragma omp for schedule(static)
                for (int task = 0; task < k_blocks * n_panels; task++) {
                    int kb = task / n_panels, jr = task % n_panels, pc = kb * KC, kc = K - pc < KC ? K - pc : KC;
                    int j = jc + jr * NR;
                    pack_panel(b_blocks + kb * b_block_words + (size_t)jr * ((kc + 1) / 2) * NR, NR,
                               N - j < NR ? N - j : NR, kc, (kc + 1) / 2, p->B + (size_t)j * p->b_stride_j + pc,
                               p->b_stride_j);
                }
            } else {
                pack_by_rows(b_blocks, b_block_words, NR, p->B + (size_t)jc * p->b_stride_j, p->b_stride_j,
                             p->b_stride_k, nc, K, NULL);
            }
            /* each MC x NC block of C stays in L2 through all the blocks of k */
            for (int ic = row_first; ic < row_end; ic += MC) {
                int mc = row_end - ic < MC ? row_end - ic : MC;
                for (int kb = 0; kb < k_blocks; kb++) {
                    int kp = ((K - kb * KC < KC ? K - kb * KC : KC) + 1) / 2;
                    row_block(p, ic, mc, jc, kb, b_blocks + kb * b_block_words,
                              p->a_pairs_contiguous ? a_block
                                                    : a_blocks + kb * a_block_words + (size_t)(ic / MR) * kp * MR);
                }
                finished(p, ic, jc, mc, nc);
            }
            /* every thread's rows done before the next columns' packing overwrites B */
#pragma omp barrier
        }
    }
}

/* AMX: the product on Intel's tile unit, where the CPU has one (AMX-TILE and AMX-BF16). One
 * TDPBF16PS multiplies a 16 x 16-pair tile of A by a 16-pair x 16 tile of B into a 16 x 16 tile of
 * fp32 sums: 3.7 TFLOP/s on one core of the Xeon measured, 30 times its AVX512_BF16 dot products
 * (make bench-gemm), so the products here are bound by reading and converting the operands. The
 * kernel keeps a 32 x 32 block of C in four tiles through all of k: two A tiles (16 rows each) and
 * two B tiles (16 columns each) per step of 16 pairs. B is packed as for the AVX-512 kernel
 * (NR = 32 columns of pairs, a tile is 16 of its rows read with a 128-byte stride), its pairs
 * padded with zeros to a whole tile; A as tiles (16 rows of 16 pairs, 1 KiB each). Columns go
 * AMX_NC_WORDS of packed B at a time, shared by the threads (in L2); each thread takes whole
 * 32-row blocks of C, so every element is summed in one order whatever the threads. */
#define AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))
enum { AMX_ROWS = 32, AMX_NC_WORDS = 1 << 19 /* 2 MiB of packed B: L2 holds it */ };

/* The tile configuration every thread loads before its first tile instruction (palette 1): eight
 * tiles of 16 rows x 64 bytes: 0-3 the sums, 4-5 A, 6-7 B. */
typedef struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
} tile_config;

/* A constant, not a local filled before the load: GCC 12 drops the stores into such a local in
 * an out-of-line copy of this function (it does not see ldtilecfg read them), and the load then
 * faults; inlined into gemm_amx, as now, the stores happen to stay. */
static const tile_config AMX_CONFIG = {
    .palette = 1,
    .bytes_per_row = {64, 64, 64, 64, 64, 64, 64, 64},
    .rows = {16, 16, 16, 16, 16, 16, 16, 16},
};

AMX_TARGET static void amx_begin(void)
{
    _tile_loadconfig(&AMX_CONFIG);
}

/* Pack rows i0 .. i0 + 15 of A (op(A) = A, its k along its rows; A^T is pack_by_k's) as
 * kp_pad / 16 tiles: dst[q * 256 + x * 16 + w] = pair 16 q + w of row i0 + x. */
AMX_TARGET static void pack_a_tiles(uint32_t *dst, const float *src, int i0, int n_index, int K, int kp_pad,
                                    size_t stride_i)
{
    for (int p0 = 0; p0 < kp_pad; p0 += 16) {
        __m512i block[16];
        pair_block(block, src, i0, 2 * p0, stride_i, 1, n_index, K, 1, 1, NULL);
        for (int x = 0; x < 16; x++)
            _mm512_store_si512(dst + (size_t)p0 * 16 + x * 16, block[x]);
    }
}

/* C[m, n] = alpha sums + beta C for the m x n corner of a 32 x 32 block of sums (beta == 0: C not
 * read), or alpha sums + bias[n] when there is a bias (the sum rounded once, as beta C would be
 * with C holding the bias and beta 1). */
AMX_TARGET static void store_block(const float *sums, float *c, size_t ldc, int m, int n, float alpha, float beta,
                                   const float *bias)
{
    __mmask16 cols0 = first_lanes(n), cols1 = first_lanes(n - 16);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __m512 bias0 = bias ? _mm512_maskz_loadu_ps(cols0, bias) : _mm512_setzero_ps();
    __m512 bias1 = bias ? _mm512_maskz_loadu_ps(cols1, bias + 16) : _mm512_setzero_ps();
    for (int i = 0; i < m; i++) {
        float *row = c + (size_t)i * ldc;
        __m512 r0 = _mm512_mul_ps(va, _mm512_load_ps(sums + i * 32));
        __m512 r1 = _mm512_mul_ps(va, _mm512_load_ps(sums + i * 32 + 16));
        if (bias) {
            r0 = _mm512_add_ps(r0, bias0);
            r1 = _mm512_add_ps(r1, bias1);
        } else if (beta != 0) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(cols0, row), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(cols1, row + 16), r1);
        }
        _mm512_mask_storeu_ps(row, cols0, r0);
        _mm512_mask_storeu_ps(row + 16, cols1, r1);
    }
}

/* A 32 x 32 block of sums over kp_pad pairs: a holds the block's two 16-row tile panels one after
 * the other, b a packed 32-column panel. */
AMX_TARGET static void amx_kernel(int kp_pad, const uint32_t *a, const uint32_t *b, float sums[32 * 32])
{
    const uint32_t *a_low = a + (size_t)kp_pad * 16;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int p0 = 0; p0 < kp_pad; p0 += 16) {
        _tile_loadd(4, a + (size_t)p0 * 16, 64);
        _tile_loadd(5, a_low + (size_t)p0 * 16, 64);
        _tile_loadd(6, b + (size_t)p0 * NR, NR * 4);
        _tile_loadd(7, b + (size_t)p0 * NR + 16, NR * 4);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, sums, 128);
    _tile_stored(1, sums + 16, 128);
    _tile_stored(2, sums + 16 * 32, 128);
    _tile_stored(3, sums + 16 * 32 + 16, 128);
}

/* The buffer words the AMX product needs: packed B for amx_columns(K) columns, then per thread a
 * 32-row block of A tiles. */
static int amx_pairs(int K)
{
    return ((K + 1) / 2 + 15) / 16 * 16;
}

static int amx_columns(int N, int K)
{
    int nc = AMX_NC_WORDS / amx_pairs(K) / NR * NR;
    nc = nc < NR ? NR : nc;
    return N < nc ? (N + NR - 1) / NR * NR : nc;
}

/* An operand whose k runs down its rows (op(A) = A^T, op(B) = B) is packed by k: the threads take
 * 16 pairs of k (32 rows) at a time across all its indices, so that each reads whole rows in
 * order. Packed an index block at a time instead, a block read 128 bytes of every row of the
 * operand, rows kilobytes apart: the weight gradients' products (dout^T inp, K = the batch's
 * tokens) ran at half the rate of the others. */
AMX_TARGET static void pack_by_k(uint32_t *dst, const float *src, int width_pad, int n_index, int K, int kp_pad,
                                 size_t stride_i, size_t stride_k, int a_tiles, float *chunk_sums)
{
#pragma omp for schedule(static)
    for (int p0 = 0; p0 < kp_pad; p0 += 16)
        for (int i0 = 0; i0 < width_pad; i0 += 16) {
            __m512i block[16];
            pair_block(block, src, i0, 2 * p0, stride_i, stride_k, n_index, K, 0, a_tiles,
                       chunk_sums ? chunk_sums + (size_t)(p0 / 16) * n_index + i0 : NULL);
            if (a_tiles) { /* A's 32-row blocks, each two 16-row tile panels (pack_a_tiles's) */
                uint32_t *tiles = dst + (size_t)(i0 / 32) * AMX_ROWS * kp_pad + (size_t)(i0 / 16 % 2) * kp_pad * 16;
                for (int x = 0; x < 16; x++)
                    _mm512_store_si512(tiles + (size_t)p0 * 16 + x * 16, block[x]);
            } else { /* B's NR-column panels (pack_panel's) */
                uint32_t *panel = dst + (size_t)(i0 / NR) * kp_pad * NR + i0 % NR;
                int n_pairs = kp_pad - p0 < 16 ? kp_pad - p0 : 16;
                for (int q = 0; q < n_pairs; q++)
                    _mm512_storeu_si512(panel + (size_t)(p0 + q) * NR, block[q]);
            }
        }
}

AMX_TARGET static void gemm_amx(const product *p, int threads, uint32_t *b_block, uint32_t *a_blocks,
                                size_t a_block_words)
{
    int M = p->M, N = p->N, K = p->K, kp_pad = amx_pairs(K), NC_AMX = amx_columns(N, K);
    int m_blocks = (M + AMX_ROWS - 1) / AMX_ROWS, a_by_k = !p->a_pairs_contiguous;
#pragma omp parallel num_threads(threads)
    {
        uint32_t *a_tiles = a_blocks + (a_by_k ? 0 : (size_t)omp_get_thread_num() * a_block_words);
        float sums[32 * 32] __attribute__((aligned(64)));
        amx_begin();
        if (a_by_k) { /* all of A, once */
            pack_by_k(a_blocks, p->A, m_blocks * AMX_ROWS, M, K, kp_pad, p->a_stride_i, p->a_stride_k, 1,
                      p->chunk_sums);
            if (p->row_sums)
                add_row_sums(p);
        }
        for (int jc = 0; jc < N; jc += NC_AMX) {
            int nc = N - jc < NC_AMX ? N - jc : NC_AMX, n_panels = (nc + NR - 1) / NR;
            if (p->b_pairs_contiguous) {
#pragma omp for schedule(static)
                for (int jr = 0; jr < n_panels; jr++) {
                    int j = jc + jr * NR;
                    pack_panel(b_block + (size_t)jr * kp_pad * NR, NR, N - j < NR ? N - j : NR, K, kp_pad,
                               p->B + (size_t)j * p->b_stride_j, p->b_stride_j);
                }
            } else {
                pack_by_k(b_block, p->B + (size_t)jc * p->b_stride_j, n_panels * NR, N - jc < nc ? N - jc : nc, K,
                          kp_pad, p->b_stride_j, p->b_stride_k, 0, NULL);
            }
            /* the loops' ends wait for every thread before the next columns' packing overwrites B */
#pragma omp for schedule(static)
            for (int ib = 0; ib < m_blocks; ib++) {
                int i = ib * AMX_ROWS, m = M - i < AMX_ROWS ? M - i : AMX_ROWS;
                if (a_by_k)
                    a_tiles = a_blocks + (size_t)ib * AMX_ROWS * kp_pad;
                else
                    for (int half = 0; half < 2; half++)
                        pack_a_tiles(a_tiles + (size_t)half * kp_pad * 16, p->A, i + 16 * half, M < i + 32 ? M : i + 32,
                                     K, kp_pad, p->a_stride_i);
                for (int jr = 0; jr < n_panels; jr++) {
                    int j = jc + jr * NR;
                    amx_kernel(kp_pad, a_tiles, b_block + (size_t)jr * kp_pad * NR, sums);
                    store_block(sums, p->C + (size_t)i * p->ldc + j, p->ldc, m, N - j < NR ? N - j : NR, p->alpha,
                                p->beta, p->bias ? p->bias + j : NULL);
                }
                finished(p, i, jc, m, nc);
            }
        }
        _tile_release();
    }
}

/* The packing buffers of the products a thread calls (AVX-512: K x NC bf16 values of B, about K
 * KiB, and 48 KiB of A per thread; AMX: up to 2 MiB of B and K KiB of A per thread, or all of A
 * once, M x K bf16 values, where it is packed by k). */
static _Thread_local ws_scratch packing_buffers;

/* C = alpha op(A) op(B) + beta C, or + bias (each row) where bias is not NULL (beta 0); row_sums
 * (op(A) = A^T only) as ws_gemm_bf16_row_sums'. */
static int gemm(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta, const float *bias, float *C, int ldc,
                const ws_gemm_epilogue *epilogue, float *row_sums)
{
    if (!ws_gemm_bf16_supported())
        return -1;
    if (M <= 0 || N <= 0)
        return 0;
    int amx = ws_gemm_bf16_kernel() == WS_BF16_AMX;
    if (K <= 0)
        row_sums = NULL; /* nothing to add */
    if (K <= 0 || (alpha == 0 && !row_sums)) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[(size_t)i * ldc + j] = bias ? bias[j] : beta == 0 ? 0 : beta * C[(size_t)i * ldc + j];
        if (epilogue)
            epilogue->apply(epilogue->arg, C, (size_t)ldc, 0, 0, M, N);
        return 0;
    }
    /* One thread for a small product, and inside another parallel region (the attention's
     * blocks): OpenMP would give the nested region one thread anyway. */
    int threads = (double)M * N * K < (amx ? PARALLEL_MIN_WORK_AMX : PARALLEL_MIN_WORK) ||
                          omp_get_active_level() >= omp_get_max_active_levels()
                      ? 1
                      : omp_get_max_threads();
    /* One buffer for the call, as large as the product needs: the shared B blocks (all of K for
     * the columns packed at a time), then an A block per thread, each a whole number of 64-byte
     * lines. */
    size_t b_words, a_words;
    if (amx) {
        b_words = (size_t)amx_columns(N, K) * amx_pairs(K);
        a_words = (size_t)AMX_ROWS * amx_pairs(K);
        if (trans_a != CblasNoTrans) /* A packed whole, shared (pack_by_k) */
            a_words *= (size_t)(M + AMX_ROWS - 1) / AMX_ROWS;
    } else {
        int kp = (K < KC ? K + 1 : KC) / 2, nc = N < NC ? N : NC, mc = M < MC ? M : MC;
        b_words = (size_t)((K + KC - 1) / KC) * kp * ((nc + NR - 1) / NR * NR);
        a_words = trans_a == CblasNoTrans ? (size_t)A_ROW_WORDS * ((mc + MR - 1) / MR * MR)
                                          : (size_t)kp * ((M + MR - 1) / MR * MR);
    }
    b_words = (b_words + 15) / 16 * 16, a_words = (a_words + 15) / 16 * 16;
    /* A^T packed whole: shared, once (AMX: one buffer; AVX-512: all its rows for each block of k) */
    size_t a_copies = trans_a == CblasNoTrans ? (size_t)threads : amx ? 1 : (size_t)((K + KC - 1) / KC);
    size_t sums_words = row_sums ? (size_t)(K + 31) / 32 * M : 0; /* fp32 sums in 32-bit words */
    uint32_t *buffers = ws_scratch_get(&packing_buffers, (b_words + a_copies * a_words + sums_words) * sizeof *buffers);
    if (!buffers)
        return -1;
    int a_plain = trans_a == CblasNoTrans, b_plain = trans_b == CblasNoTrans;
    const product p = {.M = M, .N = N, .K = K, .alpha = alpha, .beta = beta, .A = A, .B = B,
                       .a_stride_i = a_plain ? (size_t)lda : 1, .a_stride_k = a_plain ? 1 : (size_t)lda,
                       .b_stride_j = b_plain ? 1 : (size_t)ldb, .b_stride_k = b_plain ? (size_t)ldb : 1,
                       .a_pairs_contiguous = a_plain, .b_pairs_contiguous = !b_plain, .C = C, .ldc = (size_t)ldc,
                       .bias = bias, .epilogue = epilogue, .row_sums = row_sums,
                       .chunk_sums = row_sums ? (float *)(buffers + b_words + a_copies * a_words) : NULL};
    if (amx)
        gemm_amx(&p, threads, buffers, buffers + b_words, a_words);
    else
        gemm_blocked(&p, threads, buffers, buffers + b_words, a_words);
    return 0;
}

#else /* no AVX-512 outside x86-64 */

static ws_bf16_kernel best(void)
{
    return WS_BF16_NONE;
}

static int gemm(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta, const float *bias, float *C, int ldc,
                const ws_gemm_epilogue *epilogue, float *row_sums)
{
    (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb,
        (void)beta, (void)bias, (void)C, (void)ldc, (void)epilogue, (void)row_sums;
    return -1;
}

#endif

int ws_gemm_bf16(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    return gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, NULL, C, ldc, NULL, NULL);
}

int ws_gemm_bf16_epilogue(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int M, int N, int K,
                          float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                          const float *bias, float *C, int ldc, const ws_gemm_epilogue *epilogue)
{
    return gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, bias ? 0 : beta, bias, C, ldc, epilogue, NULL);
}

int ws_gemm_bf16_row_sums(enum CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc, float *row_sums)
{
    return gemm(CblasTrans, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, NULL, C, ldc, NULL, row_sums);
}
