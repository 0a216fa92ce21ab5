/* gemm_f32: fp32 products, each element summed in one fixed order (gemm_f32.h).
 *
 * Blocking (as gemm_bf16's, after BLIS): op(B) is packed in KC-deep blocks of NR-column panels
 * (k-major: a step is 16 values of one row of op(B)), shared by the threads: all of k for as many
 * columns as B_BYTES_ALL_K holds, or one block of k at a time (gemm() says which and why). Each
 * thread takes an equal share of C's MR-row panels, MC rows at a time, and for each block of k
 * runs the microkernel over every tile: an MR x NR tile of C in 12
 * of AVX2's 16 vector registers (two vectors of 8 sums per row), fed per step by one broadcast of
 * A per row and two vectors of B: 12 fused multiply-adds to 8 loads, enough independent sums to
 * keep both FMA pipes busy through their latency. An NR-wide panel of B (KC x 16 values = 16 KiB)
 * stays in L1 while the rows of A stream from L2.
 *
 * Where op(A) = A (every product but the weight gradients'), the kernel broadcasts from A's rows
 * where they are: packing them would be a transpose, as long as the arithmetic of a product with
 * few columns (an attention head's 32). op(A) = A^T (dout^T) is packed into MR-row panels, a block
 * of k at a time. A tile past C's last row or column computes on zeros (the rows copied into a
 * zeroed block, B's panels padded with zero columns) and stores only C's elements, so an element
 * goes through the same operations in a partial tile as in a whole one: its bits depend on its
 * row of op(A), its column of op(B) and K, nothing else. */
#include "gemm_f32.h"

#include <omp.h>
#include <stddef.h>
#include <string.h>

#include "scratch.h"

enum {
    MR = 6,    /* rows of C per microkernel tile */
    NR = 16,   /* columns per tile: two vectors of 8 sums */
    KC = 256,  /* depth of a block of k */
    MC = 72,   /* rows of a thread's block (12 tiles): its A block, 72 KiB, stays in L2 */
    NC = 1024, /* columns of op(B) packed a block of k at a time (a KC x NC block: 1 MiB) */
    B_BYTES_ALL_K = 3 << 20, /* bytes of op(B) packed all of k at a time (K x the columns) */
    PREFETCH_MIN_STEPS = 128 /* steps of k from which a tile prefetches its C (tile_product) */
};

/* Below this many multiply-adds the threads cost more than they save (waking one takes tens of
 * microseconds, the kernel does 2^18 in about ten). */
#define PARALLEL_MIN_WORK (1 << 18)

/* A product as the blocked loops see it: op(A)(i, k) = A[i * a_stride_i + k * a_stride_k] and
 * op(B)(k, j) = B[j * b_stride_j + k * b_stride_k]. */
typedef struct product {
    int M, N, K;
    float alpha, beta;
    const float *A, *B;
    size_t a_stride_i, a_stride_k, b_stride_j, b_stride_k;
    int a_in_rows, b_in_rows; /* op(A) = A: k along A's rows; op(B) = B: j along B's rows */
    float *C;
    size_t ldc;
} product;

#if defined(__x86_64__)
#include <immintrin.h>

#define F32_TARGET __attribute__((target("avx2,fma")))

int ws_gemm_f32_supported(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

int ws_gemm_f32_preferred(void)
{
    return ws_gemm_f32_supported() && !__builtin_cpu_supports("avx512f");
}

/* One MR x NR tile: C[m, n] = alpha (A rows . B panel) + beta C over kc steps, m <= MR rows and
 * n <= NR columns stored (beta == 0: C not read). b: kc steps of NR values; row i's value at step
 * k is a[i * a_row + k * a_step]: a packed panel (a_row 1, a_step MR) or A's rows in place (a_row
 * lda, a_step 1). Always inlined with a_step constant, so that each layout compiles to broadcasts
 * from fixed offsets; the sums run in the same order either way. */
F32_TARGET static inline __attribute__((always_inline)) void tile_product(int kc, const float *a, size_t a_row,
                                                                          size_t a_step, const float *b, float *c,
                                                                          size_t ldc, int m, int n, float alpha,
                                                                          float beta)
{
    /* A long tile asks for its rows of C now, to arrive while the sums run: C is stored or added
     * to only after kc steps, and a large product's C (the FFN's input: 1,920 x 1,536 values, 11
     * MiB) is mostly in L3 or memory by then: the forward's products 1-12% faster for it (AVX2 EPYC,
     * alternating with the code before). A short tile (an attention head's 32 steps) measured
     * 0.92-1.06 of its rate without, within the noise, and does not. A row's n values lie in the
     * lines of its first and last. */
    if (kc >= PREFETCH_MIN_STEPS)
        for (int i = 0; i < m; i++) {
            _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + (size_t)i * ldc + n - 1), _MM_HINT_T0);
        }
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++)
        acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i * a_row);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
        a += a_step;
        b += NR;
    }
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i cols0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes);
    __m256i cols1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lanes);
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        if (i >= m)
            break;
        float *row = c + (size_t)i * ldc;
        __m256 r0 = _mm256_mul_ps(va, acc[i][0]), r1 = _mm256_mul_ps(va, acc[i][1]);
        if (n == NR) { /* the same operations as below, without the masks' slow stores */
            if (beta != 0) {
                r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), r1);
            }
            _mm256_storeu_ps(row, r0);
            _mm256_storeu_ps(row + 8, r1);
        } else {
            if (beta != 0) {
                r0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(row, cols0), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(row + 8, cols1), r1);
            }
            _mm256_maskstore_ps(row, cols0, r0);
            _mm256_maskstore_ps(row + 8, cols1, r1);
        }
    }
}

F32_TARGET static void kernel_packed(int kc, const float *a, const float *b, float *c, size_t ldc, int m, int n,
                                     float alpha, float beta)
{
    tile_product(kc, a, 1, MR, b, c, ldc, m, n, alpha, beta);
}

F32_TARGET static void kernel_rows(int kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, int m,
                                   int n, float alpha, float beta)
{
    tile_product(kc, a, lda, 1, b, c, ldc, m, n, alpha, beta);
}

/* op(A) = A^T in place: a step's MR values are consecutive in a row of A, the steps lda apart */
F32_TARGET static void kernel_columns(int kc, const float *a, size_t lda, const float *b, float *c, size_t ldc,
                                      int m, int n, float alpha, float beta)
{
    tile_product(kc, a, 1, lda, b, c, ldc, m, n, alpha, beta);
}

/* Transpose the 8 x 8 block r[0..7] (r[x] = row x) in place: pairs of rows interleaved, then
 * pairs of pairs, then the 128-bit halves swapped across. */
F32_TARGET static inline void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int x = 0; x < 8; x += 2) {
        t[x] = _mm256_unpacklo_ps(r[x], r[x + 1]);
        t[x + 1] = _mm256_unpackhi_ps(r[x], r[x + 1]);
    }
    for (int x = 0; x < 8; x += 4) {
        u[x] = _mm256_shuffle_ps(t[x], t[x + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[x + 1] = _mm256_shuffle_ps(t[x], t[x + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[x + 2] = _mm256_shuffle_ps(t[x + 1], t[x + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[x + 3] = _mm256_shuffle_ps(t[x + 1], t[x + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int x = 0; x < 4; x++) {
        r[x] = _mm256_permute2f128_ps(u[x], u[x + 4], 0x20);
        r[x + 4] = _mm256_permute2f128_ps(u[x], u[x + 4], 0x31);
    }
}

/* Panel jr of block kb of op(B)'s columns j0 .. j0 + n - 1 (n <= NR), steps pc .. pc + kc - 1:
 * dst[k * NR + x] = op(B)(pc + k, j0 + x), zero for x >= n. */
F32_TARGET static void pack_b_panel(float *dst, const product *p, int j0, int n, int pc, int kc)
{
    if (p->b_in_rows) { /* op(B) = B: each step's values are contiguous */
        for (int k = 0; k < kc; k++) {
            memcpy(dst + (size_t)k * NR, p->B + (size_t)(pc + k) * p->b_stride_k + j0, (size_t)n * sizeof *dst);
            memset(dst + (size_t)k * NR + n, 0, (size_t)(NR - n) * sizeof *dst);
        }
        return;
    }
    /* op(B) = B^T (the forward's weights): each column's steps are contiguous, so 8 columns x 8
     * steps are read as 8 vectors and transposed; a value at a time, this packing took 6% of an
     * evaluation (the weights are packed at every call) */
    int k8 = n == NR ? kc / 8 * 8 : 0;
    for (int x0 = 0; x0 < NR && k8 > 0; x0 += 8) {
        const float *col = p->B + (size_t)(j0 + x0) * p->b_stride_j + pc;
        for (int k0 = 0; k0 < k8; k0 += 8) {
            __m256 r[8];
            for (int x = 0; x < 8; x++)
                r[x] = _mm256_loadu_ps(col + (size_t)x * p->b_stride_j + k0);
            transpose8(r);
            for (int k = 0; k < 8; k++)
                _mm256_store_ps(dst + (size_t)(k0 + k) * NR + x0, r[k]);
        }
    }
    for (int x = 0; x < NR; x++) { /* the steps past the last 8, or a partial panel's */
        const float *col = p->B + (size_t)(j0 + x) * p->b_stride_j + pc;
        for (int k = k8; k < kc; k++)
            dst[(size_t)k * NR + x] = x < n ? col[k] : 0;
    }
}

/* op(A)'s rows i0 .. i0 + mc - 1 (MR-row panels; rows past M zero), steps pc .. pc + kc - 1:
 * panel r's dst[r * kc * MR + k * MR + x] = op(A)(i0 + r * MR + x, pc + k). */
static void pack_a_block(float *dst, const product *p, int i0, int mc, int pc, int kc)
{
    for (int r0 = 0; r0 < mc; r0 += MR) {
        int m = p->M - (i0 + r0) < MR ? p->M - (i0 + r0) : MR;
        float *panel = dst + (size_t)(r0 / MR) * kc * MR;
        for (int k = 0; k < kc; k++) {
            const float *src = p->A + (size_t)(pc + k) * p->a_stride_k + (size_t)(i0 + r0) * p->a_stride_i;
            if (m == MR && p->a_stride_i == 1) /* A^T: the step's values are consecutive */
                memcpy(panel + (size_t)k * MR, src, MR * sizeof *panel);
            else
                for (int x = 0; x < MR; x++)
                    panel[(size_t)k * MR + x] = x < m ? src[(size_t)x * p->a_stride_i] : 0;
        }
    }
}

/* Rows row_first .. row_end - 1 of C (whole MR-row panels but at M), columns jc .. jc + nc - 1, the
 * blocks of k from pc_first to pc_end, in order: b_packed holds those columns' panels for them
 * (each block kc_max x the padded columns), a_buf is the thread's A block. The kernel reads op(A)
 * where it is, but for a partial panel (packed with its zero rows) and for A^T with more than
 * A_IN_PLACE_PANELS panels of columns: there each tile would read a cache line per step, which
 * packing once per block turns into a contiguous panel. */
enum { A_IN_PLACE_PANELS = 2 };
F32_TARGET static void row_blocks(const product *p, int row_first, int row_end, int jc, int nc, int pc_first,
                                  int pc_end, const float *b_packed, float *a_buf)
{
    int M = p->M, N = p->N, K = p->K, kc_max = K < KC ? K : KC, n_panels = (nc + NR - 1) / NR;
    int pack_all = !p->a_in_rows && n_panels > A_IN_PLACE_PANELS;
    for (int ic = row_first; ic < row_end; ic += MC) {
        int mc = row_end - ic < MC ? row_end - ic : MC, m_panels = (mc + MR - 1) / MR;
        int last_i = ic + (m_panels - 1) * MR; /* the block's last panel, partial where M - last_i < MR */
        for (int pc = pc_first; pc < pc_end; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC;
            /* the first block of k applies beta; the later ones add to what it left */
            float beta = pc == 0 ? p->beta : 1.0f;
            const float *b_block = b_packed + (size_t)((pc - pc_first) / KC) * kc_max * n_panels * NR;
            if (pack_all)
                pack_a_block(a_buf, p, ic, mc, pc, kc);
            else if (M - last_i < MR)
                pack_a_block(a_buf, p, last_i, MR, pc, kc);
            for (int jr = 0; jr < n_panels; jr++) {
                int j = jc + jr * NR, n = N - j < NR ? N - j : NR;
                const float *b = b_block + (size_t)jr * kc * NR;
                for (int ir = 0; ir < m_panels; ir++) {
                    int i = ic + ir * MR, m = M - i < MR ? M - i : MR;
                    float *c = p->C + (size_t)i * p->ldc + j;
                    if (pack_all || m < MR)
                        kernel_packed(kc, a_buf + (pack_all ? (size_t)ir * kc * MR : 0), b, c, p->ldc, m, n,
                                      p->alpha, beta);
                    else if (p->a_in_rows)
                        kernel_rows(kc, p->A + (size_t)i * p->a_stride_i + pc, p->a_stride_i, b, c, p->ldc, m, n,
                                    p->alpha, beta);
                    else
                        kernel_columns(kc, p->A + (size_t)pc * p->a_stride_k + i, p->a_stride_k, b, c, p->ldc, m,
                                       n, p->alpha, beta);
                }
            }
        }
    }
}

/* The packing buffers of the products a thread calls: packed op(B) (up to B_BYTES_ALL_K), then an
 * A block per thread (MC x KC values, 72 KiB). */
static _Thread_local ws_scratch packing_buffers;

static int gemm(const product *p)
{
    int M = p->M, N = p->N, K = p->K, m_panels = (M + MR - 1) / MR, kc_max = K < KC ? K : KC;
    /* one thread for a small product, and inside another parallel region (attention's blocks) */
    int threads = (double)M * N * K < PARALLEL_MIN_WORK || omp_get_active_level() >= omp_get_max_active_levels()
                      ? 1
                      : omp_get_max_threads();
    threads = threads < m_panels ? threads : m_panels;
    /* Two orders of the loops. Where op(A) is read in place, op(B) is packed for all of k, as many
     * columns at a time as B_BYTES_ALL_K holds (every product of the model at once), and each row
     * block goes through every block of k, its C staying in L2; the order of BLIS, a block of k
     * of op(B) at a time, passed each row block's C through memory once per block of k, 15-30%
     * slower on the forward's products. Where A^T is packed, that order would pack it again for
     * every block of columns, so the blocks of k go outside and A^T is packed once per
     * block of columns of NC: the weight gradients' op(B) (a batch's 1,920 tokens deep) went
     * from memory for each row block, all of k at once, and ran at two thirds of sgemm's rate. */
    int all_k = p->a_in_rows;
    int block_columns = all_k ? (int)(B_BYTES_ALL_K / ((size_t)K * sizeof(float))) / NR * NR : NC;
    block_columns = block_columns < NR ? NR : block_columns;
    int nc_max = N < block_columns ? N : block_columns, k_blocks = all_k ? (K + KC - 1) / KC : 1;
    size_t b_floats = (size_t)k_blocks * kc_max * ((nc_max + NR - 1) / NR * NR);
    size_t a_floats = (size_t)(MC < M ? MC : m_panels * MR) * kc_max;
    b_floats = (b_floats + 15) / 16 * 16, a_floats = (a_floats + 15) / 16 * 16; /* whole cache lines each */
    float *buffers = ws_scratch_get(&packing_buffers, (b_floats + (size_t)threads * a_floats) * sizeof *buffers);
    if (!buffers)
        return -1;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        int thread = omp_get_thread_num(), n_threads = omp_get_num_threads();
        /* each thread's rows: an equal share of the MR-row panels */
        int row_first = m_panels * thread / n_threads * MR, row_end = m_panels * (thread + 1) / n_threads * MR;
        row_end = row_end < M ? row_end : M;
        float *a_buf = buffers + b_floats + (size_t)thread * a_floats;
        for (int jc = 0; jc < N; jc += block_columns) {
            int nc = N - jc < block_columns ? N - jc : block_columns, n_panels = (nc + NR - 1) / NR;
            for (int pc_first = 0; pc_first < K; pc_first += k_blocks * KC) {
                int pc_end = all_k ? K : (K - pc_first < KC ? K : pc_first + KC);
#pragma omp for schedule(static)
                for (int t = 0; t < k_blocks * n_panels; t++) {
                    int kb = t / n_panels, jr = t % n_panels, j = jc + jr * NR, pc = pc_first + kb * KC;
                    int kc = K - pc < KC ? K - pc : KC;
                    pack_b_panel(buffers + (size_t)kb * kc_max * n_panels * NR + (size_t)jr * kc * NR, p, j,
                                 N - j < NR ? N - j : NR, pc, kc);
                }
                row_blocks(p, row_first, row_end, jc, nc, pc_first, pc_end, buffers, a_buf);
                /* every thread done with these blocks before the next ones' packing overwrites them */
#pragma omp barrier
            }
        }
    }
    return 0;
}

#else /* AVX2 is x86-64's */

int ws_gemm_f32_supported(void)
{
    return 0;
}

int ws_gemm_f32_preferred(void)
{
    return 0;
}

static int gemm(const product *p)
{
    (void)p;
    return -1;
}

#endif

int ws_gemm_f32(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    if (!ws_gemm_f32_supported())
        return -1;
    if (M <= 0 || N <= 0)
        return 0;
    if (K <= 0 || alpha == 0) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[(size_t)i * ldc + j] = beta == 0 ? 0 : beta * C[(size_t)i * ldc + j];
        return 0;
    }
    int a_plain = trans_a == CblasNoTrans, b_plain = trans_b == CblasNoTrans;
    const product p = {.M = M, .N = N, .K = K, .alpha = alpha, .beta = beta, .A = A, .B = B,
                       .a_stride_i = a_plain ? (size_t)lda : 1, .a_stride_k = a_plain ? 1 : (size_t)lda,
                       .b_stride_j = b_plain ? 1 : (size_t)ldb, .b_stride_k = b_plain ? (size_t)ldb : 1,
                       .a_in_rows = a_plain, .b_in_rows = b_plain, .C = C, .ldc = (size_t)ldc};
    return gemm(&p);
}
