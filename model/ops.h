/* ops.h — the model's operations as forward/backward pairs (docs/ARCHITECTURE.md, Conventions).
 * Argument order: outputs, then inputs and weights, then sizes. Gradients take
 * a `d` prefix. Every *_backward ACCUMULATES (+=) into its gradient outputs;
 * those with a trailing `beta` scale the input gradient by it first, as sgemm does
 * (beta 0 overwrites without reading, so the caller need not zero the buffer).
 * BT = batch x time rows, C = channels, OC = output channels, V = vocab.
 */
#ifndef POSBENCH_OPS_H
#define POSBENCH_OPS_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* GCC turns a loop that copies a row (of elements, fixed-size memcpys or vector moves
 * alike) into one memmove call per row. The head splits copy rows of 16-32 floats, 130k of
 * them per paper training step; the functions that do are marked SHORT_ROWS, which keeps
 * them loops (measured: about 1% of the step, within the machine's noise). */
#if defined(__GNUC__) && !defined(__clang__)
#define SHORT_ROWS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define SHORT_ROWS
#endif

/* OpenMP queries that also build without OpenMP (one thread). */
static inline int omp_max_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
static inline int omp_thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}
static inline int omp_nested(void) {   /* 1 inside a parallel region */
#ifdef _OPENMP
    return omp_in_parallel();
#else
    return 0;
#endif
}
/* Scratch of n floats owned by the calling thread, NOT zeroed (it holds whatever the last
 * user left: callers write every entry they read): slot k's buffer grows to the largest n
 * asked and is kept for the thread's life (a new buffer is filled with NaN, so a read before a
 * write shows in the tests), so a step reuses resident pages where a zeroed
 * allocation per call faulted them in again (measured: page faults under memset were about 3%
 * of a 2-thread `paper` step). One buffer per (thread, slot): a caller holds distinct slots. */
enum { SCRATCH_SLOTS = 4 };
float *thread_scratch(int slot, size_t n);
/* Inside a parallel region: this thread's share [*lo, *hi) of n items, split evenly. */
static inline void omp_slice(int n, int *lo, int *hi) {
#ifdef _OPENMP
    int nth = omp_get_num_threads(), id = omp_get_thread_num();
#else
    int nth = 1, id = 0;
#endif
    *lo = (int)((long)n * id / nth);
    *hi = (int)((long)n * (id + 1) / nth);
}

/* 1 when an op runs on its caller's thread alone: inside a parallel region already (a
 * data-parallel shard, data_parallel.c) or with one OpenMP thread. libgomp would still build a
 * team of one for a region opened there: measured about 2.5 us nested and 1.3 us at the top
 * level, for the ~80 regions of a `quick` shard's step (6% of its 2-thread step). */
static inline int ops_serial(void) { return omp_nested() || omp_max_threads() <= 1; }

/* Threads an op's per-thread partial sums need: 1 when ops_serial(), else the team's. */
static inline int ops_team_size(void) { return ops_serial() ? 1 : omp_max_threads(); }

static inline int omp_team_size(void) {   /* threads of the current team */
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* Slice id of nth of [0, n) as OpenMP's schedule(static) without a chunk splits it (the
 * first n % nth slices one item longer), so a loop moved between the two keeps which rows
 * each thread's partial sums hold. */
static inline void static_slice(long n, int id, int nth, long *lo, long *hi) {
    long q = n / nth, r = n % nth;
    if (id < r) {
        q++;
        r = 0;
    }
    *lo = q * id + r;
    *hi = *lo + q;
}

/* FOR_SLICES(n, id, lo, hi, STMT): runs STMT once per slice of [0, n), with `int id` the
 * slice's number (for per-thread partials, < ops_team_size()) and `long lo, hi` its bounds:
 * one slice on the calling thread when ops_serial() (no region opened), else one per thread
 * of a new team, split as static_slice. FOR_SLICES_IF(par, ...): the same, serial also when
 * par is 0 (a loop too small for a team). STMT may not hold a #pragma: put such loops in a
 * function that STMT calls. */
#define FOR_SLICES(n, id, lo, hi, ...) FOR_SLICES_IF(1, n, id, lo, hi, __VA_ARGS__)
#define FOR_SLICES_IF(par, n, id, lo, hi, ...)                                      \
    do {                                                                            \
        long for_slices_n_ = (n);                                                   \
        if (!(par) || ops_serial()) {                                               \
            int id = 0;                                                             \
            long lo = 0, hi = for_slices_n_;                                        \
            (void)id, (void)lo, (void)hi;                                           \
            __VA_ARGS__;                                                            \
        } else {                                                                    \
            _Pragma("omp parallel") {                                               \
                int id = omp_thread_id();                                           \
                long lo, hi;                                                        \
                static_slice(for_slices_n_, id, omp_team_size(), &lo, &hi);         \
                (void)id;                                                           \
                __VA_ARGS__;                                                        \
            }                                                                       \
        }                                                                           \
    } while (0)

/* a * b + c in one rounding where the CPU has FMA. -std=c11 turns off the
 * compiler's own contraction, so the kernels ask for it explicitly. */
#ifdef __FMA__
#define FMAF(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define FMAF(a, b, c) ((a) * (b) + (c))
#endif

/* e^x without a libm call, so loops over it vectorise (libm's expf does not,
 * without -ffast-math). Cephes' expf: x = n ln2 + r, |r| <= ln2/2, e^r by a
 * degree-7 polynomial, 2^n written into the exponent bits. Within 1.4 ulp of
 * exp over [-87.3, 88.4]; below that 0 (so exp(-INFINITY) = 0 for masking),
 * above +INFINITY; NaN stays NaN. */
static inline float expf_fast(float x) {
    const float hi = 88.3762626647949f, lo = -87.3365447504f;
    const float shifter = 12582912.0f;   /* 1.5 * 2^23: t - shifter is x log2(e) rounded to an integer */
    float xc = x > hi ? hi : x;
    xc = xc < lo ? lo : xc;
    float t = FMAF(xc, 1.44269504088896341f, shifter);
    int32_t ti;
    memcpy(&ti, &t, sizeof ti);
    float n = t - shifter;
    float r = FMAF(n, -0.693359375f, xc);   /* ln2 in two parts: r = x - n ln2 */
    r = FMAF(n, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = FMAF(p, r, 1.3981999507e-3f);
    p = FMAF(p, r, 8.3334519073e-3f);
    p = FMAF(p, r, 4.1665795894e-2f);
    p = FMAF(p, r, 1.6666665459e-1f);
    p = FMAF(p, r, 5.0000001201e-1f);
    p = FMAF(p * r, r, r) + 1.0f;
    /* ti - bits(shifter) = n; unsigned, so a NaN input (garbage n) is not signed overflow */
    uint32_t e = ((uint32_t)ti - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &e, sizeof scale);
    float y = p * scale;
    y = x < lo ? 0.0f : y;
    return x > hi ? INFINITY : y;
}

/* Row-major C = alpha * op(A) op(B) + beta * C, op = transpose when trans* != 0.
 * sgemm goes to cblas_sgemm when built with BLAS; sgemm_naive is the oracle. */
void sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
           int ldb, float beta, float *C, int ldc);
void sgemm_naive(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);
/* sgemm with the rows of C split over the OpenMP threads in slices of 16, one
 * single-thread sgemm each; plain sgemm on one thread, for M < 32 x threads, or inside
 * a parallel region. The linear layers' fp32 products use it. OpenBLAS's own threads
 * ran the 13 products of a quick training step (512 token rows) on 2 threads in 0.61-1.04
 * ms over four runs, sometimes no faster than one thread (1.01 ms); split, 0.57-0.60 ms.
 * The paper step's (2048 rows): 7.4-10.3 ms, split 7.3-8.0 ms (dev/bench_gemm.c times
 * both, SkylakeX kernels). */
void sgemm_split_rows(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc);

/* out (BT, C) = scale * wte[tokens] */
void encoder_forward(float *out, const int *tokens, const float *wte, float scale, int BT, int C);
/* dwte (V, C) += scale * dout rows scattered by token */
void encoder_backward(float *dwte, const float *dout, const int *tokens, float scale, int BT, int C);

/* out (BT, C) = (inp - mean) * rstd * w + b;  mean, rstd (BT) saved for backward */
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                       int BT, int C);
void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                        const float *mean, const float *rstd, int BT, int C);

/* The linear layers' products (matmul_forward, matmul_residual_forward, matmul_backward):
 * sgemm in fp32 (the default), or sgemm_bf16 (model/gemm_bf16.h: bf16 inputs, fp32
 * accumulation) once ops_set_bf16(1) — `precision = bf16` training. A process-wide
 * setting: train.c turns it on for its training steps and off again. */
void ops_set_bf16(int on);
int ops_bf16(void);

/* out (BT, OC) = inp (BT, C) @ w^T (w: OC x C, nn.Linear layout) + bias (OC, may be NULL) */
void matmul_forward(float *out, const float *inp, const float *w, const float *bias, int BT, int C, int OC);
/* out (BT, OC) = resid (BT, OC) + inp @ w^T + bias: a linear layer and the residual
 * add in one pass over out (out may be resid). */
void matmul_residual_forward(float *out, const float *inp, const float *w, const float *bias, const float *resid,
                             int BT, int C, int OC);
/* dinp (BT,C) = beta dinp + dout @ w;  dw (OC,C) += dout^T @ inp;  dbias (OC) += colsum(dout)
 * (dinp, dbias may be NULL) */
void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
                     int BT, int C, int OC, float beta);

/* out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (GELU, tanh approximation) */
void gelu_forward(float *out, const float *inp, size_t N);
/* dinp = beta dinp + gelu'(inp) dout */
void gelu_backward(float *dinp, const float *inp, const float *dout, size_t N, float beta);
/* Training's pair, bitwise the same as the two above: the forward keeps gelu'(x) in place of x
 * (the MLP's backward needs nothing else of x), so the backward is one multiply and no exp.
 *   out = gelu(x);  x <- gelu'(x)                                (N)
 *   dinp = slope dout  (dinp may be dout)                        (N) */
void gelu_forward_keep_slope(float *out, float *x, size_t N);
void gelu_backward_kept(float *dinp, const float *slope, const float *dout, size_t N);

/* out = a + b */
void residual_forward(float *out, const float *a, const float *b, size_t N);

/* losses (BT) = logsumexp(logits) - logits[target]; lse (BT) saved. logits (BT, V) */
void crossentropy_forward(float *losses, float *lse, const float *logits, const int *targets, int BT, int V);
/* dlogits (BT, V) = beta dlogits + dloss * (softmax(logits) - onehot(target)) */
void crossentropy_backward(float *dlogits, const float *logits, const float *lse, const int *targets, float dloss,
                           int BT, int V, float beta);

/* Layout changes between token-major (B, T, C) and head-major (B, NH, T, hs). */
/* q, k, v (B,NH,T,hs) = qkv (B,T,3C); v NULL: v is not copied (training reads it in place) */
void split_heads(float *q, float *k, float *v, const float *qkv, int B, int T, int NH, int hs);
/* qkv (B,T,3C) = q, k, v (B,NH,T,hs): the inverse of split_heads (writes, does not accumulate);
 * v NULL: qkv's v part is left as it is (training's attention backward writes it there) */
void merge_heads(float *qkv, const float *q, const float *k, const float *v, int B, int T, int NH, int hs);
void merge_heads_grad(float *dqkv, const float *dq, const float *dk, const float *dv, int B, int T, int NH, int hs);
void heads_to_tokens(float *out, const float *inp, int B, int T, int NH, int hs);   /* (B,NH,T,hs)->(B,T,C) */
void tokens_to_heads(float *out, const float *inp, int B, int T, int NH, int hs);   /* (B,T,C)->(B,NH,T,hs) */

#endif
