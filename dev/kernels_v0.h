/* kernels_v0.h — earlier versions of posbench's kernels, kept under dev/ as the
 * baselines dev/bench_kernels.c validates and times the current ones against
 * (llm.c's dev/ pattern, docs/ARCHITECTURE.md, Conventions). Same signatures as model/attention.h and
 * model/ops.h with a _v0 suffix. Not part of posbench.
 */
#ifndef POSBENCH_KERNELS_V0_H
#define POSBENCH_KERNELS_V0_H
#include <stddef.h>
#include "../methods/method.h"

/* dev/attention_v0.c: full (T, T) cblas_sgemm per head; 64 x 128 sgemm tiles at eval */
void attention_forward_v0(float *out, float *att, const float *q, const float *k, const float *v, int B, int NH,
                          int T, int hs, const PosMethod *pm, const PosCtx *ctx);
void attention_backward_v0(float *dq, float *dk, float *dv, float *dscores, float *dbias, const float *dout,
                           const float *att, const float *q, const float *k, const float *v, int B, int NH, int T,
                           int hs, const PosMethod *pm, const PosCtx *ctx);
void attention_forward_tiled_v0(float *out, const float *q, const float *k, const float *v, int B, int NH, int T,
                                int hs, const PosMethod *pm, const PosCtx *ctx);

/* dev/attention_v1.c: register-blocked causal kernels, P (B, NH, T, T) materialised
 * for the backward (att and dscores as (B, NH, T, T), dbias (NH, T, T)) */
void attention_forward_v1(float *out, float *att, const float *q, const float *k, const float *v, int B, int NH,
                          int T, int hs, const PosMethod *pm, const PosCtx *ctx);
void attention_backward_v1(float *dq, float *dk, float *dv, float *dscores, float *dbias, const float *dout,
                           const float *att, const float *q, const float *k, const float *v, int B, int NH, int T,
                           int hs, const PosMethod *pm, const PosCtx *ctx);

/* dev/ops_v0.c: libm tanhf / expf, scalar reductions */
void gelu_forward_v0(float *out, const float *inp, size_t N);
void gelu_backward_v0(float *dinp, const float *inp, const float *dout, size_t N);
void layernorm_forward_v0(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                          int BT, int C);
void layernorm_backward_v0(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                           const float *mean, const float *rstd, int BT, int C);
void crossentropy_forward_v0(float *losses, float *lse, const float *logits, const int *targets, int BT, int V);
void crossentropy_backward_v0(float *dlogits, const float *logits, const float *lse, const int *targets, float dloss,
                              int BT, int V);

/* dev/gemm_bf16_v1.c: bf16 rows along K, one vdpbf16ps dot product per C element
 * (model/gemm_bf16.c's first version; same contract as sgemm_bf16) */
void sgemm_bf16_v1(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc);

/* dev/bench_kernels.c, shared with dev/bench_gemm.c: one "ok"/"FAIL" line (max |got -
 * want| / (atol + rtol |want|) <= 1; a failure counts); the clock of the timings (process
 * CPU time with one thread, else wall time). */
void check(const char *what, const float *got, const float *want, size_t n, double rtol, double atol);
double clock_now(void);

/* dev/bench_gemm.c: the matrix products on the model's shapes: sgemm_bf16_v1 and
 * sgemm_bf16 checked against the naive product (the bf16 bound of
 * model/gemm_bf16.h), then timed against OpenBLAS's fp32 sgemm */
void gemm_check_and_time(int reps, int quick);

#endif
