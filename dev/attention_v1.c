/* attention_v1.c — the second version of the training attention (not part of
 * posbench): the register-blocked kernels of model/attention.c, causal blocks
 * only, but the forward keeps P (B, NH, T, T) and the backward reads it back
 * (plus dS (B, NH, T, T) for the bias gradient). The model's version saves
 * one log-sum-exp per row instead and recomputes P in the backward: no T x T
 * buffer, memory linear in the training length. Kept so dev/bench_kernels.c
 * can time the two against each other. The micro-kernels are copied from
 * model/attention.c (they are static there).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kernels_v0.h"
#include "../model/ops.h"
#include "../common/util.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))
static int round_up(int x, int m) { return (x + m - 1) / m * m; }

enum { MR = 8, NR = 32 };   /* register block: MR rows x NR columns */





/* ---- micro-kernels --------------------------------------------------------------- */

/* C (MR x NR) = alpha * A (MR x K, row stride lda) . B (K x NR, row stride ldb) [+ C]. */
static ALWAYS_INLINE void block_nn(float *restrict C, int ldc, const float *restrict A, int lda,
                                   const float *restrict B, int ldb, int K, float alpha, int accumulate) {
    float acc[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NR; c++) acc[r][c] = 0.0f;
    for (int k = 0; k < K; k++) {
        const float *b = B + (size_t)k * ldb;
        for (int r = 0; r < MR; r++) {
            float a = A[(size_t)r * lda + k];
            for (int c = 0; c < NR; c++) acc[r][c] = FMAF(a, b[c], acc[r][c]);
        }
    }
    for (int r = 0; r < MR; r++) {
        float *cr = C + (size_t)r * ldc;
        for (int c = 0; c < NR; c++) cr[c] = accumulate ? FMAF(alpha, acc[r][c], cr[c]) : alpha * acc[r][c];
    }
}

/* C (MR x NR) = alpha * A^T . B [+ C]; A stored K x MR (row stride lda), B K x NR. */
static ALWAYS_INLINE void block_tn(float *restrict C, int ldc, const float *restrict A, int lda,
                                   const float *restrict B, int ldb, int K, float alpha, int accumulate) {
    float acc[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NR; c++) acc[r][c] = 0.0f;
    for (int k = 0; k < K; k++) {
        const float *a = A + (size_t)k * lda, *b = B + (size_t)k * ldb;
        for (int r = 0; r < MR; r++)
            for (int c = 0; c < NR; c++) acc[r][c] = FMAF(a[r], b[c], acc[r][c]);
    }
    for (int r = 0; r < MR; r++) {
        float *cr = C + (size_t)r * ldc;
        for (int c = 0; c < NR; c++) cr[c] = accumulate ? FMAF(alpha, acc[r][c], cr[c]) : alpha * acc[r][c];
    }
}

/* Any M x N: the edges the register blocks do not cover (rows < MR, columns < NR). */
static void edge_nn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                    float alpha, int accumulate) {
    for (int r = 0; r < M; r++) {
        float *cr = C + (size_t)r * ldc;
        if (!accumulate)
            for (int c = 0; c < N; c++) cr[c] = 0.0f;
        for (int k = 0; k < K; k++) {
            float a = alpha * A[(size_t)r * lda + k];
            const float *b = B + (size_t)k * ldb;
            for (int c = 0; c < N; c++) cr[c] = FMAF(a, b[c], cr[c]);
        }
    }
}

static void edge_tn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                    float alpha, int accumulate) {
    for (int r = 0; r < M; r++) {
        float *cr = C + (size_t)r * ldc;
        if (!accumulate)
            for (int c = 0; c < N; c++) cr[c] = 0.0f;
        for (int k = 0; k < K; k++) {
            float a = alpha * A[(size_t)k * lda + r];
            const float *b = B + (size_t)k * ldb;
            for (int c = 0; c < N; c++) cr[c] = FMAF(a, b[c], cr[c]);
        }
    }
}

/* C (M x N) = alpha * A (M x K) . B (K x N) [+ C], all row-major. */
static void gemm_nn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                    float alpha, int accumulate) {
    int r0 = 0;
    for (; r0 + MR <= M; r0 += MR) {
        int c0 = 0;
        for (; c0 + NR <= N; c0 += NR) {
            float *c = C + (size_t)r0 * ldc + c0;
            const float *a = A + (size_t)r0 * lda, *b = B + c0;
            if (accumulate) block_nn(c, ldc, a, lda, b, ldb, K, alpha, 1);
            else block_nn(c, ldc, a, lda, b, ldb, K, alpha, 0);
        }
        if (c0 < N) edge_nn(C + (size_t)r0 * ldc + c0, ldc, A + (size_t)r0 * lda, lda, B + c0, ldb, MR, N - c0, K, alpha, accumulate);
    }
    if (r0 < M) edge_nn(C + (size_t)r0 * ldc, ldc, A + (size_t)r0 * lda, lda, B, ldb, M - r0, N, K, alpha, accumulate);
}

/* C (M x N) = alpha * A^T . B [+ C]; A stored K x M. */
static void gemm_tn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                    float alpha, int accumulate) {
    int r0 = 0;
    for (; r0 + MR <= M; r0 += MR) {
        int c0 = 0;
        for (; c0 + NR <= N; c0 += NR) {
            float *c = C + (size_t)r0 * ldc + c0;
            const float *a = A + r0, *b = B + c0;
            if (accumulate) block_tn(c, ldc, a, lda, b, ldb, K, alpha, 1);
            else block_tn(c, ldc, a, lda, b, ldb, K, alpha, 0);
        }
        if (c0 < N) edge_tn(C + (size_t)r0 * ldc + c0, ldc, A + r0, lda, B + c0, ldb, MR, N - c0, K, alpha, accumulate);
    }
    if (r0 < M) edge_tn(C + (size_t)r0 * ldc, ldc, A + r0, lda, B, ldb, M - r0, N, K, alpha, accumulate);
}

/* xt (hs, ld) = x (T, hs)^T, columns T..ld-1 zero: the B operand of q.k^T and do.v^T. */
static void transpose_pad(float *xt, int ld, const float *x, int T, int hs) {
    for (int e = 0; e < hs; e++) {
        float *row = xt + (size_t)e * ld;
        for (int t = 0; t < T; t++) row[t] = x[(size_t)t * hs + e];
        for (int t = T; t < ld; t++) row[t] = 0.0f;
    }
}

/* ---- row-wise softmax pieces ---------------------------------------------------------
 * `omp simd reduction` lets the compiler keep vector partial sums (a plain float
 * reduction may not be reordered without -ffast-math). */

/* s[c] = exp(s[c] - max) for c < n (n >= 1), max = the largest of floor and s[0..n);
 * returns the sum. s[n .. round_up(n, 16)) must be writable and is set to 0, so
 * that the loops run over whole vectors. Stores the max in *max when non-NULL. */
static float row_exp_max_sum(float *s, int n, float floor, float *max) {
    int n16 = round_up(n, 16);
    for (int c = n; c < n16; c++) s[c] = -INFINITY;
    float m = floor, sum = 0.0f;
#pragma omp simd reduction(max : m)
    for (int c = 0; c < n16; c++) m = s[c] > m ? s[c] : m;
#pragma omp simd reduction(+ : sum)
    for (int c = 0; c < n16; c++) {
        float e = expf_fast(s[c] - m);
        s[c] = e;
        sum += e;
    }
    if (max) *max = m;
    return sum;
}

static float row_dot(const float *x, const float *y, int n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int c = 0; c < n; c++) s = FMAF(x[c], y[c], s);
    return s;
}


/* ---- v1 training attention: P (B, NH, T, T) kept by the forward for the backward ---- */

void attention_forward_v1(float *out, float *att, const float *q, const float *k, const float *v, int B, int NH,
                          int T, int hs, const PosMethod *pm, const PosCtx *ctx) {
    float scale = 1.0f / sqrtf((float)hs);
    int Tp = round_up(T, NR);
#pragma omp parallel
    {
        float *kt = xmalloc_floats((size_t)hs * Tp);
        float *S = xmalloc_floats((size_t)MR * Tp);
#pragma omp for collapse(2) schedule(dynamic)
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++) {
                size_t bh = (size_t)b * NH + h;
                const float *Q = q + bh * T * hs, *K = k + bh * T * hs, *V = v + bh * T * hs;
                float *P = att + bh * T * T, *O = out + bh * T * hs;
                transpose_pad(kt, Tp, K, T, hs);
                for (int r0 = 0; r0 < T; r0 += MR) {
                    int rows = T - r0 < MR ? T - r0 : MR;
                    int ncols = r0 + rows;
                    int npad = round_up(ncols, NR);
                    gemm_nn(S, Tp, Q + (size_t)r0 * hs, hs, kt, Tp, rows, npad, hs, scale, 0);
                    if (pm->bias_add) pm->bias_add(S, Tp, h, r0, rows, 0, ncols, ctx);
                    for (int r = 0; r < rows; r++) {
                        int i = r0 + r;
                        float *s = S + (size_t)r * Tp, *p = P + (size_t)i * T;
                        float inv = 1.0f / row_exp_max_sum(s, i + 1, -INFINITY, NULL);
                        for (int c = 0; c <= i; c++) p[c] = s[c] * inv;
                        for (int c = i + 1; c < ncols; c++) p[c] = 0.0f;
                    }
                    gemm_nn(O + (size_t)r0 * hs, hs, P + (size_t)r0 * T, T, V, hs, rows, hs, ncols, 1.0f, 0);
                }
            }
        free(kt);
        free(S);
    }
}

void attention_backward_v1(float *dq, float *dk, float *dv, float *dscores, float *dbias, const float *dout,
                           const float *att, const float *q, const float *k, const float *v, int B, int NH, int T,
                           int hs, const PosMethod *pm, const PosCtx *ctx) {
    float scale = 1.0f / sqrtf((float)hs);
    int Tp = round_up(T, NR);
#pragma omp parallel
    {
        float *vt = xmalloc_floats((size_t)hs * Tp);
        float *dP = xmalloc_floats((size_t)MR * Tp);
#pragma omp for collapse(2) schedule(dynamic)
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++) {
                size_t bh = (size_t)b * NH + h;
                const float *Q = q + bh * T * hs, *K = k + bh * T * hs, *V = v + bh * T * hs;
                const float *P = att + bh * T * T, *dO = dout + bh * T * hs;
                float *dS = dscores + bh * T * T;
                transpose_pad(vt, Tp, V, T, hs);
                for (int r0 = 0; r0 < T; r0 += MR) {
                    int rows = T - r0 < MR ? T - r0 : MR;
                    int ncols = r0 + rows, npad = round_up(ncols, NR);
                    gemm_nn(dP, Tp, dO + (size_t)r0 * hs, hs, vt, Tp, rows, npad, hs, 1.0f, 0);
                    for (int r = 0; r < rows; r++) {
                        int i = r0 + r;
                        const float *p = P + (size_t)i * T, *d = dP + (size_t)r * Tp;
                        float *ds = dS + (size_t)i * T;
                        float dot = row_dot(p, d, i + 1);
                        for (int c = 0; c <= i; c++) ds[c] = p[c] * (d[c] - dot);
                        for (int c = i + 1; c < ncols; c++) ds[c] = 0.0f;
                    }
                    gemm_nn(dq + bh * T * hs + (size_t)r0 * hs, hs, dS + (size_t)r0 * T, T, K, hs, rows, hs, ncols,
                            scale, 1);
                }
                for (int j0 = 0; j0 < T; j0 += MR) {
                    int rows = T - j0 < MR ? T - j0 : MR;
                    gemm_tn(dv + bh * T * hs + (size_t)j0 * hs, hs, P + (size_t)j0 * T + j0, T, dO + (size_t)j0 * hs,
                            hs, rows, hs, T - j0, 1.0f, 1);
                    gemm_tn(dk + bh * T * hs + (size_t)j0 * hs, hs, dS + (size_t)j0 * T + j0, T, Q + (size_t)j0 * hs,
                            hs, rows, hs, T - j0, scale, 1);
                }
            }
        free(vt);
        free(dP);
    }
    if (!pm->bias_backward || !ctx->dp) return;
#pragma omp parallel for collapse(2) schedule(static)
    for (int h = 0; h < NH; h++)
        for (int i = 0; i < T; i++) {
            float *o = dbias + ((size_t)h * T + i) * T;
            memset(o, 0, (size_t)T * sizeof(float));
            for (int b = 0; b < B; b++) {
                const float *d = dscores + (((size_t)b * NH + h) * T + i) * T;
                for (int j = 0; j <= i; j++) o[j] += d[j];
            }
        }
    for (int h = 0; h < NH; h++) pm->bias_backward(dbias + (size_t)h * T * T, T, h, 0, T, 0, T, ctx);
}
