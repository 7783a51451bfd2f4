/* ops.c — forward/backward of every op of the model except attention
 * (attention.c). Matrix products go through sgemm (cblas_sgemm when built with
 * BLAS); elementwise and row-wise loops use OpenMP. The model never calls
 * sgemm from inside its own OpenMP regions except in attention, where the
 * OpenMP flavour of OpenBLAS then runs single-threaded (no oversubscription).
 */
#include "ops.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef USE_BLAS
#include <cblas.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif
#include "../common/util.h"
#include "gemm_bf16.h"
#ifdef __AVX512F__
#include <immintrin.h>
#endif


void sgemm_naive(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc) {
    int par = (long)M * N * K > 32768 && !omp_nested();
#pragma omp parallel for schedule(static) if (par)
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int p = 0; p < K; p++) {
                float a = transA ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
                float b = transB ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
                acc += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = alpha * acc + (beta == 0.0f ? 0.0f : beta * *c);
        }
    }
}

void sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
           int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
#ifdef USE_BLAS
    if (K <= 0) { /* BLAS leaves C untouched for K = 0 only if beta = 1 */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
#else
    sgemm_naive(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

float *thread_scratch(int slot, size_t n) {
    static _Thread_local float *buf[SCRATCH_SLOTS];
    static _Thread_local size_t cap[SCRATCH_SLOTS];
    if (slot < 0 || slot >= SCRATCH_SLOTS) die_internal("thread_scratch: slot %d", slot);
    if (n > cap[slot]) {
        free(buf[slot]);
        buf[slot] = xmalloc_floats(n);
        cap[slot] = n;
        for (size_t i = 0; i < n; i++) buf[slot][i] = NAN;   /* a read before a write shows in the tests */
    }
    return buf[slot];
}

static int use_bf16;
void ops_set_bf16(int on) { use_bf16 = on; }
int ops_bf16(void) { return use_bf16; }

/* See ops.h. OpenBLAS's OpenMP build runs one thread inside a parallel region, so each
 * slice is a single-thread product. */
void sgemm_split_rows(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc) {
    int nth = omp_max_threads();
    if (ops_serial() || M < 32 * nth || K <= 0) {
        sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#pragma omp parallel num_threads(nth)
    {
        int nb = M / 16, b0, b1;   /* slices of whole 16-row blocks, of the team the runtime gave */
        omp_slice(nb, &b0, &b1);
        int lo = b0 * 16, hi = b1 == nb ? M : b1 * 16;   /* the last slice takes the rows past nb * 16 */
        const float *a = transA ? A + lo : A + (size_t)lo * lda;   /* row i of op(A): column i of A when transposed */
        sgemm(transA, transB, hi - lo, N, K, alpha, a, lda, B, ldb, beta, C + (size_t)lo * ldc, ldc);
    }
}

/* The linear layers' product: split by rows in fp32, or the bf16 kernels (their own
 * threading) when on. */
static void mm(int transA, int transB, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
               float beta, float *C, int ldc) {
    if (use_bf16) sgemm_bf16(transA, transB, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    else sgemm_split_rows(transA, transB, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

static void encoder_rows(float *out, const int *tokens, const float *wte, float scale, long t0, long t1, int C) {
    for (long t = t0; t < t1; t++) {
        const float *w = wte + (size_t)tokens[t] * C;
        float *o = out + (size_t)t * C;
        for (int c = 0; c < C; c++) o[c] = scale * w[c];
    }
}

void encoder_forward(float *out, const int *tokens, const float *wte, float scale, int BT, int C) {
    FOR_SLICES(BT, id, lo, hi, encoder_rows(out, tokens, wte, scale, lo, hi, C));
}

void encoder_backward(float *dwte, const float *dout, const int *tokens, float scale, int BT, int C) {
    /* rows repeat across tokens, so threads split the channels, not the rows */
    FOR_SLICES(C, id, c0, c1, for (int t = 0; t < BT; t++) {
        float *dw = dwte + (size_t)tokens[t] * C;
        const float *d = dout + (size_t)t * C;
        for (long c = c0; c < c1; c++) dw[c] += scale * d[c];
    });
}

/* Row reductions: without -ffast-math the compiler may not reorder a float
 * sum, so a plain loop adds one element at a time. `omp simd reduction` allows
 * the vector partial sums; the order is fixed by the binary, so results stay
 * bitwise reproducible from run to run. */
static float sum_row(const float *x, int n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int c = 0; c < n; c++) s += x[c];
    return s;
}

/* sum_c (x[c] - m)^2 */
static float sumsq_dev_row(const float *x, float m, int n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int c = 0; c < n; c++) s = FMAF(x[c] - m, x[c] - m, s);
    return s;
}

static void layernorm_rows(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                           long t0, long t1, int C) {
    for (long t = t0; t < t1; t++) {
        const float *x = inp + (size_t)t * C;
        float m = sum_row(x, C) / C;
        float v = sumsq_dev_row(x, m, C) / C;
        float s = 1.0f / sqrtf(v + 1e-5f);
        float *o = out + (size_t)t * C;
        for (int c = 0; c < C; c++) o[c] = FMAF((x[c] - m) * s, w[c], b[c]);
        mean[t] = m;
        rstd[t] = s;
    }
}

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                       int BT, int C) {
    FOR_SLICES(BT, id, lo, hi, layernorm_rows(out, mean, rstd, inp, w, b, lo, hi, C));
}

/* Rows [t0, t1) of layernorm_backward: dinp += their gradient, pdw and pdb (C each) += their
 * dw and db terms. */
static void layernorm_backward_rows(float *dinp, float *pdw, float *pdb, const float *dout, const float *inp,
                                    const float *w, const float *mean, const float *rstd, long t0, long t1, int C) {
    for (long t = t0; t < t1; t++) {
        const float *x = inp + (size_t)t * C, *d = dout + (size_t)t * C;
        float m = mean[t], s = rstd[t];
        float mdx = 0.0f, mdxx = 0.0f;   /* sums of dxhat and dxhat * xhat */
#pragma omp simd reduction(+ : mdx, mdxx)
        for (int c = 0; c < C; c++) {
            float xh = (x[c] - m) * s, dxh = d[c] * w[c];
            mdx += dxh;
            mdxx = FMAF(dxh, xh, mdxx);
            pdw[c] = FMAF(d[c], xh, pdw[c]);
            pdb[c] += d[c];
        }
        mdx /= C;
        mdxx /= C;
        float *di = dinp + (size_t)t * C;
        for (int c = 0; c < C; c++) {
            float xh = (x[c] - m) * s;
            di[c] = FMAF(s, d[c] * w[c] - mdx - xh * mdxx, di[c]);
        }
    }
}

void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                        const float *mean, const float *rstd, int BT, int C) {
    /* forward: out = xhat * w + b, xhat = (x - mean) * rstd
     * dxhat = dout * w;  dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
     * dw, db: per-thread partial sums added in thread order, so results do not
     * depend on scheduling (exact resume needs bitwise-reproducible steps). */
    int nth = ops_team_size();
    float *part = xcalloc((size_t)nth * 2 * C, sizeof(float));   /* (nth, 2, C) */
    FOR_SLICES(BT, id, lo, hi, {
        float *pdw = part + (size_t)id * 2 * C;   /* this slice's dw, then its db */
        layernorm_backward_rows(dinp, pdw, pdw + C, dout, inp, w, mean, rstd, lo, hi, C);
    });
    for (int th = 0; th < nth; th++)
        for (int c = 0; c < C; c++) {
            dw[c] += part[(size_t)th * 2 * C + c];
            db[c] += part[(size_t)th * 2 * C + C + c];
        }
    free(part);
}

/* dst[0..n) = src[0..n), for the short rows of the head splits (32 floats) and bias rows
 * (its callers are SHORT_ROWS, ops.h). */
static inline void copy_row(float *restrict dst, const float *restrict src, int n) {
#ifdef __AVX512F__
    int c = 0;
    for (; c + 16 <= n; c += 16) _mm512_storeu_ps(dst + c, _mm512_loadu_ps(src + c));
    if (c < n) {
        __mmask16 m = (__mmask16)((1u << (n - c)) - 1u);
        _mm512_mask_storeu_ps(dst + c, m, _mm512_maskz_loadu_ps(m, src + c));
    }
#else
    memcpy(dst, src, (size_t)n * sizeof(float));
#endif
}

SHORT_ROWS void matmul_forward(float *out, const float *inp, const float *w, const float *bias, int BT, int C, int OC) {
    /* out = bias, then sgemm accumulates (beta 1): OpenBLAS would otherwise make
     * its own pass to zero out (beta 0), so the bias costs nothing extra */
    if (bias) FOR_SLICES(BT, id, lo, hi, for (long t = lo; t < hi; t++) copy_row(out + (size_t)t * OC, bias, OC));
    mm(0, 1, BT, OC, C, inp, C, w, C, bias ? 1.0f : 0.0f, out, OC);
}

SHORT_ROWS void matmul_residual_forward(float *out, const float *inp, const float *w, const float *bias, const float *resid,
                             int BT, int C, int OC) {
    FOR_SLICES(BT, id, lo, hi, for (long t = lo; t < hi; t++) {
        float *o = out + (size_t)t * OC;
        const float *r = resid + (size_t)t * OC;
        if (bias)
            for (int c = 0; c < OC; c++) o[c] = r[c] + bias[c];
        else if (o != r)
            copy_row(o, r, OC);
    });
    mm(0, 1, BT, OC, C, inp, C, w, C, 1.0f, out, OC);
}

void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
                     int BT, int C, int OC, float beta) {
    /* forward: out = inp @ w^T + bias */
    if (dinp) mm(0, 0, BT, C, OC, dout, OC, w, C, beta, dinp, C);
    mm(1, 0, OC, C, BT, dout, OC, inp, C, 1.0f, dw, C);
    if (dbias)   /* threads split the channels: every row adds into each */
        FOR_SLICES(OC, id, o0, o1, for (int t = 0; t < BT; t++) {
            const float *d = dout + (size_t)t * OC;
            for (long o = o0; o < o1; o++) dbias[o] += d[o];
        });
}

#define GELU_S 0.7978845608028654f /* sqrt(2/pi) */

/* With u = s (x + 0.044715 x^3) and sig = 1 / (1 + e^(-2u)) (so 0.5 (1 + tanh u) = sig),
 * gelu(x) = x sig: one expf_fast and a division, and the loop vectorises.
 * (libm's tanhf is a scalar call: it was half of a training step.) */
static inline float gelu_denom(float x) {   /* 1 + e^(-2u) = 1 / sig */
    float u = GELU_S * FMAF(0.044715f * x, x * x, x);
    return 1.0f + expf_fast(-2.0f * u);
}

/* d/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) s (1 + 3 * 0.044715 x^2)
 *      = sig + 2 x sig (1 - sig) s (1 + 3 * 0.044715 x^2)   (tanh u = 2 sig - 1);  den = gelu_denom(x) */
static inline float gelu_slope(float x, float den) {
    float sig = 1.0f / den;
    return sig + 2.0f * x * sig * (1.0f - sig) * GELU_S * FMAF(3.0f * 0.044715f * x, x, 1.0f);
}

void gelu_forward(float *out, const float *inp, size_t N) {
    FOR_SLICES(N, id, lo, hi, for (long i = lo; i < hi; i++) out[i] = inp[i] / gelu_denom(inp[i]));
}

void gelu_forward_keep_slope(float *out, float *x, size_t N) {
    FOR_SLICES(N, id, lo, hi, for (long i = lo; i < hi; i++) {
        float xi = x[i], den = gelu_denom(xi);
        out[i] = xi / den;
        x[i] = gelu_slope(xi, den);
    });
}

void gelu_backward(float *dinp, const float *inp, const float *dout, size_t N, float beta) {
    FOR_SLICES(N, id, lo, hi, for (long i = lo; i < hi; i++) {
        float g = gelu_slope(inp[i], gelu_denom(inp[i]));
        dinp[i] = FMAF(g, dout[i], beta == 0.0f ? 0.0f : beta * dinp[i]);
    });
}

void gelu_backward_kept(float *dinp, const float *slope, const float *dout, size_t N) {
    /* FMAF with 0: as gelu_backward's, bitwise */
    FOR_SLICES(N, id, lo, hi, for (long i = lo; i < hi; i++) dinp[i] = FMAF(slope[i], dout[i], 0.0f));
}

void residual_forward(float *out, const float *a, const float *b, size_t N) {
    FOR_SLICES(N, id, lo, hi, for (long i = lo; i < hi; i++) out[i] = a[i] + b[i]);
}

static void crossentropy_rows(float *losses, float *lse, const float *logits, const int *targets, long t0, long t1,
                              int V) {
    for (long t = t0; t < t1; t++) {
        const float *l = logits + (size_t)t * V;
        float mx = -INFINITY, s = 0.0f;
#pragma omp simd reduction(max : mx)
        for (int i = 0; i < V; i++) mx = l[i] > mx ? l[i] : mx;
#pragma omp simd reduction(+ : s)
        for (int i = 0; i < V; i++) s += expf_fast(l[i] - mx);
        float z = mx + logf(s);
        lse[t] = z;
        losses[t] = z - l[targets[t]];
    }
}

void crossentropy_forward(float *losses, float *lse, const float *logits, const int *targets, int BT, int V) {
    FOR_SLICES(BT, id, lo, hi, crossentropy_rows(losses, lse, logits, targets, lo, hi, V));
}

void crossentropy_backward(float *dlogits, const float *logits, const float *lse, const int *targets, float dloss,
                           int BT, int V, float beta) {
    FOR_SLICES(BT, id, lo, hi, for (long t = lo; t < hi; t++) {
        const float *l = logits + (size_t)t * V;
        float *d = dlogits + (size_t)t * V, z = lse[t];
        for (int i = 0; i < V; i++) d[i] = FMAF(dloss, expf_fast(l[i] - z), beta == 0.0f ? 0.0f : beta * d[i]);
        d[targets[t]] -= dloss;
    });
}

SHORT_ROWS void split_heads(float *q, float *k, float *v, const float *qkv, int B, int T, int NH, int hs) {
    int C = NH * hs;
    FOR_SLICES((long)B * NH, id, lo, hi, for (long bh = lo; bh < hi; bh++) {
        long b = bh / NH, h = bh % NH;
        for (int t = 0; t < T; t++) {
            const float *row = qkv + ((size_t)b * T + t) * 3 * C + h * hs;
            size_t o = ((size_t)bh * T + t) * hs;
            copy_row(q + o, row, hs);
            copy_row(k + o, row + C, hs);
            if (v) copy_row(v + o, row + 2 * C, hs);
        }
    });
}

SHORT_ROWS void merge_heads(float *qkv, const float *q, const float *k, const float *v, int B, int T, int NH, int hs) {
    int C = NH * hs;
    FOR_SLICES((long)B * T, id, lo, hi, for (long bt = lo; bt < hi; bt++) {
        long b = bt / T, t = bt % T;
        for (int h = 0; h < NH; h++) {
            float *row = qkv + (size_t)bt * 3 * C + h * hs;
            size_t o = (((size_t)b * NH + h) * T + t) * hs;
            copy_row(row, q + o, hs);
            copy_row(row + C, k + o, hs);
            if (v) copy_row(row + 2 * C, v + o, hs);
        }
    });
}

SHORT_ROWS void merge_heads_grad(float *dqkv, const float *dq, const float *dk, const float *dv, int B, int T, int NH, int hs) {
    int C = NH * hs;
    FOR_SLICES((long)B * NH, id, lo, hi, for (long bh = lo; bh < hi; bh++) {
        long b = bh / NH, h = bh % NH;
        for (int t = 0; t < T; t++) {
            float *row = dqkv + ((size_t)b * T + t) * 3 * C + h * hs;
            size_t o = ((size_t)bh * T + t) * hs;
            for (int i = 0; i < hs; i++) {
                row[i] += dq[o + i];
                row[C + i] += dk[o + i];
                row[2 * C + i] += dv[o + i];
            }
        }
    });
}

SHORT_ROWS void heads_to_tokens(float *out, const float *inp, int B, int T, int NH, int hs) {
    int C = NH * hs;
    FOR_SLICES((long)B * T, id, lo, hi, for (long bt = lo; bt < hi; bt++) {
        long b = bt / T, t = bt % T;
        for (int h = 0; h < NH; h++)
            copy_row(out + (size_t)bt * C + h * hs, inp + (((size_t)b * NH + h) * T + t) * hs, hs);
    });
}

SHORT_ROWS void tokens_to_heads(float *out, const float *inp, int B, int T, int NH, int hs) {
    int C = NH * hs;
    FOR_SLICES((long)B * NH, id, lo, hi, for (long bh = lo; bh < hi; bh++) {
        long b = bh / NH, h = bh % NH;
        for (int t = 0; t < T; t++)
            copy_row(out + ((size_t)bh * T + t) * hs, inp + ((size_t)b * T + t) * C + h * hs, hs);
    });
}
