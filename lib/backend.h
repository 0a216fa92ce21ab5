/* backend: the numerical kernels of the choice model, the boundary a GPU backend fills.
 *
 * Every layer of lib/model is a forward and a backward call here, on plain row-major arrays the
 * model owns (host memory for the CPU backend, device memory for a GPU one). The CPU backend
 * (backend_cpu.c) is the readable reference: OpenBLAS for matrix products, OpenMP across
 * sequences and rows, fixed reduction orders so that the same thread count gives the same bits.
 *
 * Conventions (as llm.c): a forward writes its outputs; a backward ADDS into the gradients of
 * its inputs and parameters (so branches that meet, such as residuals, simply accumulate); the
 * caller zeroes gradients. Linear weights are [out, in] (the Hugging Face layout).
 * Sequences are packed without padding: sequence s occupies rows seq_start[s] ..
 * seq_start[s] + seq_len[s] - 1 of a [T, C] matrix, so attention needs no padding mask.
 *
 * ws_real is float; the gradient check compiles the model and this backend with
 * WS_REAL=double. */
#ifndef WS_BACKEND_H
#define WS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#ifndef WS_REAL
#define WS_REAL float
#endif
typedef WS_REAL ws_real;

/* Call first thing in main() of a tool that runs the model. OpenMP threads that spin-wait at
 * barriers (libgomp's default) collapse when the machine is busier than its cores: a training
 * step measured 7x slower with two other processes running. Unless the user chose an
 * OMP_WAIT_POLICY, the tool re-executes itself once with PASSIVE (the runtime reads it only at
 * start-up). Nothing may have been read from stdin before this call. */
void ws_backend_init(char **argv);

/* Threads for the kernels (OpenMP loops and BLAS alike); 0 means one per core. The same count
 * gives the same bits; another count may change the last bits of matrix products. */
void ws_backend_set_threads(int n);
int ws_backend_threads(void);

/* out[T, OC] = inp[T, IC] . w[OC, IC]^T + b (b may be NULL) */
void ws_matmul_forward(ws_real *out, const ws_real *inp, const ws_real *w, const ws_real *b, int T, int IC, int OC);
/* dinp += dout . w; dw += dout^T . inp; db += column sums of dout (dinp, db may be NULL) */
void ws_matmul_backward(ws_real *dinp, ws_real *dw, ws_real *db, const ws_real *dout, const ws_real *inp,
                        const ws_real *w, int T, int IC, int OC);

/* out[t] = wte[ids[t]] + wpe[pos[t]] + wtt[0] (token type 0 throughout) */
void ws_embedding_forward(ws_real *out, const int32_t *ids, const int32_t *pos, int T, int C, const ws_real *wte,
                          const ws_real *wpe, const ws_real *wtt);
void ws_embedding_backward(ws_real *dwte, ws_real *dwpe, ws_real *dwtt, const ws_real *dout, const int32_t *ids,
                           const int32_t *pos, int T, int C);

/* BERT's LayerNorm (biased variance, eps inside the square root); mean and rstd are saved. */
void ws_layernorm_forward(ws_real *out, ws_real *mean, ws_real *rstd, const ws_real *inp, const ws_real *w,
                          const ws_real *b, int T, int C, ws_real eps);
void ws_layernorm_backward(ws_real *dinp, ws_real *dw, ws_real *db, const ws_real *dout, const ws_real *inp,
                           const ws_real *w, const ws_real *mean, const ws_real *rstd, int T, int C);

/* GELU with erf, as BERT's "gelu" */
void ws_gelu_forward(ws_real *out, const ws_real *inp, size_t n);
void ws_gelu_backward(ws_real *dinp, const ws_real *inp, const ws_real *dout, size_t n);

/* out = a + b */
void ws_add_forward(ws_real *out, const ws_real *a, const ws_real *b, size_t n);

/* Multi-head self-attention within each packed sequence. q, k, v: [T, C]; out: [T, C];
 * att: the softmax probabilities, NH * len^2 per sequence at att + att_start[s]. */
void ws_attention_forward(ws_real *out, ws_real *att, const ws_real *q, const ws_real *k, const ws_real *v,
                          const int *seq_start, const int *seq_len, const size_t *att_start, int n_seq, int C,
                          int NH);
void ws_attention_backward(ws_real *dq, ws_real *dk, ws_real *dv, const ws_real *dout, const ws_real *att,
                           const ws_real *q, const ws_real *k, const ws_real *v, const int *seq_start,
                           const int *seq_len, const size_t *att_start, int n_seq, int C, int NH);

/* The state-action bi-attention of WebShop's choice model, for one action (rows of `act`,
 * length La) over its state (rows of `mem`, length Ls):
 *   att[t,u] = act[t].w_in + mem[u].w_mem + (act[t] * scale).mem[u]
 *   out1[t] = sum_u softmax_u(att[t,:]) mem[u];  w2 = softmax_t(max_u att[t,u]);  out2 = sum_t w2[t] act[t]
 *   feat[t] = [act[t], out1[t], act[t] * out1[t], out2 * out1[t]]          (4C)
 * Saved for backward: p1 [La, Ls] (row softmax), w2 [La], argmax [La], out1 [La, C], out2 [C];
 * mem_dot [Ls] is scratch. */
typedef struct ws_biattn_saved {
    ws_real *p1, *w2, *out1, *out2, *mem_dot;
    int *argmax;
} ws_biattn_saved;
void ws_biattn_forward(ws_real *feat, ws_biattn_saved *saved, const ws_real *act, int La, const ws_real *mem, int Ls,
                       const ws_real *w_in, const ws_real *w_mem, const ws_real *scale, int C);
/* dact, dmem, dw_in, dw_mem, dscale are accumulated. scratch: WS_BIATTN_SCRATCH(La, Ls, C) reals. */
#define WS_BIATTN_SCRATCH(La, Ls, C) ((size_t)(La) * (Ls) + 2 * (size_t)(La) * (C) + (size_t)(La) + (size_t)(C))
void ws_biattn_backward(ws_real *dact, ws_real *dmem, ws_real *dw_in, ws_real *dw_mem, ws_real *dscale,
                        const ws_real *dfeat, const ws_biattn_saved *saved, const ws_real *act, int La,
                        const ws_real *mem, int Ls, const ws_real *w_in, const ws_real *w_mem,
                        const ws_real *scale, int C, ws_real *scratch);

/* ReLU / LeakyReLU (slope 0.01, as PyTorch's default) on n values; backward from the output. */
void ws_relu_forward(ws_real *out, const ws_real *inp, size_t n, ws_real slope);
void ws_relu_backward(ws_real *dinp, const ws_real *inp, const ws_real *dout, size_t n, ws_real slope);

#endif
