/* attention.c — see attention.h. Scores are scaled by 1/sqrt(hs) before the
 * bias is added, so bias(h, i, j) is in logit units, as in the ALiBi paper.
 *
 * The fast kernels do not call BLAS: at these sizes (head size 32, blocks of a
 * few dozen keys) OpenBLAS spends more time in call overhead and packing than
 * in arithmetic, and a BLAS call cannot skip the masked half of a block. They
 * are built from two register-blocked micro-kernels in plain C that the
 * compiler vectorises (-O3 -march=native; the 16-wide pair is written with
 * AVX-512 intrinsics where the CPU has them):
 *   block_nn_W: C (MR x W) = A (MR x K) . B (K x W)      (q.k with K^T packed, p.v, ds.k)
 *   block_tn_W: C (MR x W) = A^T (MR x K) . B (K x W)    (p^T.do, ds^T.q)
 * MR x NR = 8 x 32 floats is 16 AVX-512 registers of accumulators; an output
 * 16 columns wide (head size 16) gets 8 x 16 blocks, one register per row. Blocks
 * entirely above the diagonal are never computed; the few masked entries of a
 * diagonal block are computed and then zeroed (probabilities) or set to
 * -INFINITY (scores).
 *
 * Training: the forward computes each block of MR query rows against all the
 * keys they see, takes the exact softmax, multiplies by V and keeps only the
 * row's log-sum-exp. The backward recomputes P = exp(S - lse) for one head at
 * a time into a (T, T) per-thread scratch (causal part only), then dV, dK with
 * long inner products. This costs one more q.k product than keeping P, and
 * saves a batch x heads x T x T buffer: at T = 64 the whole attention step is
 * ~20% slower than the kept-P version (dev/attention_v1.c), at T = 256 it is
 * as fast, and training memory no longer grows with B NH T^2.
 */
#include "attention.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "ops.h"
#include "../common/util.h"
#ifdef __AVX512F__
#include <immintrin.h>
#endif

enum { MR = 8, NR = 32 };   /* register block: MR rows x NR columns (DEFINE_BLOCKS' widths: NR, NR / 2) */

#define ALWAYS_INLINE inline __attribute__((always_inline))

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

/* ---- micro-kernels --------------------------------------------------------------- */

/* The register blocks, one pair per width W (NR, and NR / 2 for head size 16), each
 * with its own W-wide accumulators so the compiler keeps them in registers:
 *   block_nn_W: C (MR x W) = alpha * A (MR x K, row stride lda) . B (K x W, row stride ldb) [+ C]
 *   block_tn_W: C (MR x W) = alpha * A^T . B [+ C]; A stored K x MR (row stride lda), B K x W. */
#define DEFINE_BLOCKS(W)                                                                                        \
    /* C (MR x W) = alpha acc [+ C] */                                                                          \
    static ALWAYS_INLINE void block_store_##W(float *restrict C, int ldc, float acc[MR][W], float alpha,        \
                                              int accumulate) {                                                 \
        for (int r = 0; r < MR; r++) {                                                                          \
            float *cr = C + (size_t)r * ldc;                                                                    \
            for (int c = 0; c < W; c++) cr[c] = accumulate ? FMAF(alpha, acc[r][c], cr[c]) : alpha * acc[r][c]; \
        }                                                                                                       \
    }                                                                                                           \
    static ALWAYS_INLINE void block_nn_##W(float *restrict C, int ldc, const float *restrict A, int lda,        \
                                           const float *restrict B, int ldb, int K, float alpha, int accumulate) { \
        float acc[MR][W];                                                                                       \
        for (int r = 0; r < MR; r++)                                                                            \
            for (int c = 0; c < W; c++) acc[r][c] = 0.0f;                                                       \
        for (int k = 0; k < K; k++) {                                                                           \
            const float *b = B + (size_t)k * ldb;                                                               \
            for (int r = 0; r < MR; r++) {                                                                      \
                float a = A[(size_t)r * lda + k];                                                               \
                for (int c = 0; c < W; c++) acc[r][c] = FMAF(a, b[c], acc[r][c]);                               \
            }                                                                                                   \
        }                                                                                                       \
        block_store_##W(C, ldc, acc, alpha, accumulate);                                                        \
    }                                                                                                           \
    static ALWAYS_INLINE void block_tn_##W(float *restrict C, int ldc, const float *restrict A, int lda,        \
                                           const float *restrict B, int ldb, int K, float alpha, int accumulate) { \
        float acc[MR][W];                                                                                       \
        for (int r = 0; r < MR; r++)                                                                            \
            for (int c = 0; c < W; c++) acc[r][c] = 0.0f;                                                       \
        for (int k = 0; k < K; k++) {                                                                           \
            const float *a = A + (size_t)k * lda, *b = B + (size_t)k * ldb;                                     \
            for (int r = 0; r < MR; r++)                                                                        \
                for (int c = 0; c < W; c++) acc[r][c] = FMAF(a[r], b[c], acc[r][c]);                            \
        }                                                                                                       \
        block_store_##W(C, ldc, acc, alpha, accumulate);                                                        \
    }
#ifdef __AVX512F__
/* With AVX-512 the blocks are written out: one register per 16 columns of a row. The
 * compiler did not find that layout in DEFINE_BLOCKS (for width 16 it vectorised across
 * rows, with shuffles; for width 32 it kept the 8 x 32 accumulators on the stack, zeroed
 * by a memset on every call: 6% of the attention step). The same fused multiply-adds in
 * the same order, so the same results. One body serves both widths (nv = 1, 2 registers).
 *
 * C (MR x 16 nv) = alpha acc [+ C]: acc[v MR + r] holds columns 16v .. 16v + 15 of row r. */
static ALWAYS_INLINE void block_store_v(float *C, int ldc, const __m512 *acc, int nv, float alpha, int accumulate) {
    __m512 va = _mm512_set1_ps(alpha);
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < nv; v++) {
            float *c = C + (size_t)r * ldc + 16 * v;
            __m512 x = acc[v * MR + r];
            _mm512_storeu_ps(c, accumulate ? _mm512_fmadd_ps(va, x, _mm512_loadu_ps(c)) : _mm512_mul_ps(va, x));
        }
}
/* block_nn (transA 0) or block_tn (transA 1) for a width of nv registers (a constant: the loops
 * over v unroll and acc stays in registers) */
static ALWAYS_INLINE void block_v(float *restrict C, int ldc, const float *restrict A, int lda, int transA,
                                  const float *restrict B, int ldb, int K, float alpha, int accumulate, int nv) {
    __m512 acc[2 * MR], b[2];
    for (int i = 0; i < nv * MR; i++) acc[i] = _mm512_setzero_ps();
    for (int k = 0; k < K; k++) {
        for (int v = 0; v < nv; v++) b[v] = _mm512_loadu_ps(B + (size_t)k * ldb + 16 * v);
        for (int r = 0; r < MR; r++) {
            __m512 a = _mm512_set1_ps(transA ? A[(size_t)k * lda + r] : A[(size_t)r * lda + k]);
            for (int v = 0; v < nv; v++) acc[v * MR + r] = _mm512_fmadd_ps(a, b[v], acc[v * MR + r]);
        }
    }
    block_store_v(C, ldc, acc, nv, alpha, accumulate);
}
#define BLOCK_WIDTH(KIND, W, TRANS_A)                                                                              \
    static ALWAYS_INLINE void block_##KIND##_##W(float *restrict C, int ldc, const float *restrict A, int lda,     \
                                                 const float *restrict B, int ldb, int K, float alpha,           \
                                                 int accumulate) {                                               \
        block_v(C, ldc, A, lda, TRANS_A, B, ldb, K, alpha, accumulate, W / 16);                                   \
    }
BLOCK_WIDTH(nn, 32, 0)
BLOCK_WIDTH(tn, 32, 1)
BLOCK_WIDTH(nn, 16, 0)
BLOCK_WIDTH(tn, 16, 1)
#else
DEFINE_BLOCKS(32) /* NR */
DEFINE_BLOCKS(16) /* NR / 2 */
#endif

/* Any M x N: the edges the register blocks do not cover (rows < MR, columns < NR).
 * A is (M x K) row-major, or stored transposed (K x M) when transA. */
static void edge_mm(float *C, int ldc, const float *A, int lda, int transA, const float *B, int ldb, int M, int N,
                    int K, float alpha, int accumulate) {
    for (int r = 0; r < M; r++) {
        float *cr = C + (size_t)r * ldc;
        if (!accumulate)
            for (int c = 0; c < N; c++) cr[c] = 0.0f;
        for (int k = 0; k < K; k++) {
            float a = alpha * (transA ? A[(size_t)k * lda + r] : A[(size_t)r * lda + k]);
            const float *b = B + (size_t)k * ldb;
            for (int c = 0; c < N; c++) cr[c] = FMAF(a, b[c], cr[c]);
        }
    }
}

/* One row block of MR rows, columns [0, N): blocks of NR columns, then one of NR / 2
 * (head size 16, the quick model's: without it every P.V, dS.K, P^T.dO and dS^T.Q
 * of that model ran in edge_mm, 60% of its training step), then edge_mm. KIND is nn
 * or tn and a the row block's A; block_KIND_32 is NR wide, block_KIND_16 NR / 2. Each
 * branch has constant arguments, so the compiler builds a kernel per (width, accumulate). */
#define ROW_BLOCK(KIND, C, ldc, a, lda, B, ldb, N, K, alpha, accumulate, transA)                               \
    do {                                                                                                        \
        int c0_ = 0;                                                                                            \
        for (; c0_ + NR <= (N); c0_ += NR) {                                                                    \
            if (accumulate) block_##KIND##_32((C) + c0_, ldc, a, lda, (B) + c0_, ldb, K, alpha, 1);             \
            else block_##KIND##_32((C) + c0_, ldc, a, lda, (B) + c0_, ldb, K, alpha, 0);                        \
        }                                                                                                       \
        if (c0_ + NR / 2 <= (N)) {                                                                              \
            if (accumulate) block_##KIND##_16((C) + c0_, ldc, a, lda, (B) + c0_, ldb, K, alpha, 1);             \
            else block_##KIND##_16((C) + c0_, ldc, a, lda, (B) + c0_, ldb, K, alpha, 0);                        \
            c0_ += NR / 2;                                                                                      \
        }                                                                                                       \
        if (c0_ < (N)) edge_mm((C) + c0_, ldc, a, lda, transA, (B) + c0_, ldb, MR, (N) - c0_, K, alpha, accumulate); \
    } while (0)

/* C (M x N) = alpha * A (M x K) . B (K x N) [+ C], all row-major. */
static void gemm_nn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                    float alpha, int accumulate) {
    int r0 = 0;
    for (; r0 + MR <= M; r0 += MR)
        ROW_BLOCK(nn, C + (size_t)r0 * ldc, ldc, A + (size_t)r0 * lda, lda, B, ldb, N, K, alpha, accumulate, 0);
    if (r0 < M) edge_mm(C + (size_t)r0 * ldc, ldc, A + (size_t)r0 * lda, lda, 0, B, ldb, M - r0, N, K, alpha, accumulate);
}

/* C (M x N) = alpha * A^T . B [+ C]; A stored K x M. */
static void gemm_tn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                    float alpha, int accumulate) {
    int r0 = 0;
    for (; r0 + MR <= M; r0 += MR)
        ROW_BLOCK(tn, C + (size_t)r0 * ldc, ldc, A + r0, lda, B, ldb, N, K, alpha, accumulate, 1);
    if (r0 < M) edge_mm(C + (size_t)r0 * ldc, ldc, A + r0, lda, 1, B, ldb, M - r0, N, K, alpha, accumulate);
}

/* xt (hs, ld) = x (T, hs; row stride ldx)^T, columns T..ld-1 zero: the B operand of q.k^T and do.v^T. */
static void transpose_pad(float *xt, int ld, const float *x, int ldx, int T, int hs) {
    for (int t0 = 0; t0 < T; t0 += 16) {   /* 16 rows of x at a time stay in L1 */
        int t1 = t0 + 16 < T ? t0 + 16 : T;
        for (int e = 0; e < hs; e++)
            for (int t = t0; t < t1; t++) xt[(size_t)e * ld + t] = x[(size_t)t * ldx + e];
    }
    for (int e = 0; e < hs; e++)
        for (int t = T; t < ld; t++) xt[(size_t)e * ld + t] = 0.0f;
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

/* Softmax of row i of a (T, T) score matrix over j <= i; zero for j > i (the oracle's). */
static void causal_softmax_row(float *row, int i, int T) {
    float mx = row[0];
    for (int j = 1; j <= i; j++) mx = row[j] > mx ? row[j] : mx;
    float s = 0.0f;
    for (int j = 0; j <= i; j++) {
        row[j] = expf(row[j] - mx);
        s += row[j];
    }
    float inv = 1.0f / s;
    for (int j = 0; j <= i; j++) row[j] *= inv;
    for (int j = i + 1; j < T; j++) row[j] = 0.0f;
}

/* ---- training: forward saves one log-sum-exp per row, backward recomputes P ---------- */

/* Scores of rows r0..r0+rows of one head against keys 0..npad (the block's causal
 * width rounded up to NR): S = scale q k^T + bias. kt (hs, ldk) is K^T. */
static void block_scores(float *S, int lds, const float *Q, const float *kt, int ldk, int r0, int rows, int ncols,
                         int hs, int h, float scale, const PosMethod *pm, const PosCtx *ctx) {
    gemm_nn(S, lds, Q + (size_t)r0 * hs, hs, kt, ldk, rows, round_up(ncols, NR), hs, scale, 0);
    if (pm->bias_add) pm->bias_add(S, lds, h, r0, rows, 0, ncols, ctx);
}

void attention_forward(float *out, float *att, const float *q, const float *k, const float *v, int B, int NH,
                       int T, int hs, const PosMethod *pm, const PosCtx *ctx) {
    HeadRows hm = rows_head_major(NH, T, hs);
    attention_forward_at(out, hm, att, q, k, v, hm, B, NH, T, hs, pm, ctx);
}

/* Head h of sequence b of attention_forward_at; kt (hs, Tp) and S (MR, Tp) are the caller's scratch. */
static void forward_head(float *out, HeadRows outr, float *att, const float *q, const float *k, const float *v,
                         HeadRows vr, int b, int h, int NH, int T, int hs, const PosMethod *pm, const PosCtx *ctx,
                         float *kt, float *S) {
    float scale = 1.0f / sqrtf((float)hs);
    int Tp = round_up(T, NR);
    size_t bh = (size_t)b * NH + h;
    const float *Q = q + bh * T * hs, *K = k + bh * T * hs, *V = v + b * vr.seq + h * vr.head;
    float *O = out + b * outr.seq + h * outr.head, *lse = att + bh * T;
    PosCtx bc = pos_ctx_seq(ctx, b);   /* a data-dependent bias reads sequence b */
    transpose_pad(kt, Tp, K, hs, T, hs);
    for (int r0 = 0; r0 < T; r0 += MR) {
        int rows = T - r0 < MR ? T - r0 : MR;
        int ncols = r0 + rows;   /* keys the block's last row sees */
        block_scores(S, Tp, Q, kt, Tp, r0, rows, ncols, hs, h, scale, pm, &bc);
        for (int r = 0; r < rows; r++) {
            int i = r0 + r;
            float *p = S + (size_t)r * Tp, mx;
            float sum = row_exp_max_sum(p, i + 1, -INFINITY, &mx), inv = 1.0f / sum;
            for (int c = 0; c <= i; c++) p[c] *= inv;
            for (int c = round_up(i + 1, 16); c < ncols; c++) p[c] = 0.0f;
            lse[i] = mx + logf(sum);
        }
        gemm_nn(O + (size_t)r0 * outr.ld, outr.ld, S, Tp, V, vr.ld, rows, hs, ncols, 1.0f, 0);   /* O = P V */
    }
}

/* Heads (b, h) in slices of b * NH + h (FOR_SLICES: no team inside a data-parallel shard). */
void attention_forward_at(float *out, HeadRows outr, float *att, const float *q, const float *k, const float *v,
                          HeadRows vr, int B, int NH, int T, int hs, const PosMethod *pm, const PosCtx *ctx) {
    int Tp = round_up(T, NR);
    FOR_SLICES((long)B * NH, id, lo, hi, {
        float *kt = thread_scratch(0, (size_t)hs * Tp);   /* (hs, Tp) K^T of one head */
        float *S = thread_scratch(1, (size_t)MR * Tp);    /* (MR, Tp) scores, then P, of one row block */
        for (long bh = lo; bh < hi; bh++)
            forward_head(out, outr, att, q, k, v, vr, (int)(bh / NH), (int)(bh % NH), NH, T, hs, pm, ctx, kt, S);
    });
}

void attention_backward(float *dq, float *dk, float *dv, const float *dout,
                        const float *att, const float *q, const float *k, const float *v, int B, int NH, int T,
                        int hs, const PosMethod *pm, const PosCtx *ctx) {
    HeadRows hm = rows_head_major(NH, T, hs);
    attention_backward_at(dq, dk, dv, dout, hm, att, q, k, v, hm, B, NH, T, hs, pm, ctx);
}

/* The buffers of one thread of attention_backward_at: kt, vt (hs, Tp) K^T and V^T of one head;
 * P and dS (T, Tp) of one head, causal part only (memory threads x T^2, not batch x heads x
 * T^2); tctx: ctx with dp pointing into the thread's own copy of the bias parameters. */
typedef struct HeadScratch { float *kt, *vt, *P, *dS; const PosCtx *tctx; } HeadScratch;

/* Head h of sequence b of attention_backward_at. */
static void backward_head(float *dq, float *dk, float *dv, const float *dout, HeadRows dor, const float *att,
                          const float *q, const float *k, const float *v, HeadRows vr, int b, int h, int NH, int T,
                          int hs, const PosMethod *pm, const PosCtx *ctx, int bias_grad, const HeadScratch *w) {
    float scale = 1.0f / sqrtf((float)hs);
    int Tp = round_up(T, NR);
    float *kt = w->kt, *vt = w->vt, *P = w->P, *dS = w->dS;
    const PosCtx *tctx = w->tctx;
    size_t bh = (size_t)b * NH + h;
    const float *Q = q + bh * T * hs, *K = k + bh * T * hs, *V = v + b * vr.seq + h * vr.head;
    const float *dO = dout + b * dor.seq + h * dor.head, *lse = att + bh * T;
    float *dQ = dq + bh * T * hs, *dK = dk + bh * T * hs, *dV = dv + b * vr.seq + h * vr.head;
    /* sequence b's data and its gradient (head h's row only: no two threads share it) */
    PosCtx bc = pos_ctx_seq(ctx, b), btc = pos_ctx_seq(tctx, b);
    transpose_pad(kt, Tp, K, hs, T, hs);
    transpose_pad(vt, Tp, V, vr.ld, T, hs);
    for (int r0 = 0; r0 < T; r0 += MR) {
        int rows = T - r0 < MR ? T - r0 : MR;
        int ncols = r0 + rows;
        float *Pb = P + (size_t)r0 * Tp, *dSb = dS + (size_t)r0 * Tp;
        /* recompute P = exp(S - lse) from the forward's log-sum-exp */
        block_scores(Pb, Tp, Q, kt, Tp, r0, rows, ncols, hs, h, scale, pm, &bc);
        /* forward: O = P V  ->  dP = dO V^T */
        gemm_nn(dSb, Tp, dO + (size_t)r0 * dor.ld, dor.ld, vt, Tp, rows, round_up(ncols, NR), hs, 1.0f, 0);
        for (int r = 0; r < rows; r++) {
            int i = r0 + r;
            float *p = Pb + (size_t)r * Tp, *d = dSb + (size_t)r * Tp, z = lse[i];
#pragma omp simd
            for (int c = 0; c < ncols; c++) p[c] = c <= i ? expf_fast(p[c] - z) : 0.0f;
            /* forward: P = softmax(S)  ->  dS = P * (dP - sum_j P dP) over j <= i */
            float dot = row_dot(p, d, i + 1);
#pragma omp simd
            for (int c = 0; c < ncols; c++) d[c] = p[c] * (d[c] - dot);
        }
        /* forward: S = scale Q K^T + bias  ->  dQ = scale dS K (this row block's rows, whole) */
        gemm_nn(dQ + (size_t)r0 * hs, hs, dSb, Tp, K, hs, rows, hs, ncols, scale, 0);
    }
    /* dK = scale dS^T Q and dV = P^T dO: key rows j0.. see query rows i >= j0 */
    for (int j0 = 0; j0 < T; j0 += MR) {
        int rows = T - j0 < MR ? T - j0 : MR;
        gemm_tn(dV + (size_t)j0 * vr.ld, vr.ld, P + (size_t)j0 * Tp + j0, Tp, dO + (size_t)j0 * dor.ld,
                dor.ld, rows, hs, T - j0, 1.0f, 0);
        gemm_tn(dK + (size_t)j0 * hs, hs, dS + (size_t)j0 * Tp + j0, Tp, Q + (size_t)j0 * hs, hs, rows, hs,
                T - j0, scale, 0);
    }
    /* the method reads only the causal entries j <= i */
    if (bias_grad) pm->bias_backward(dS, Tp, h, 0, T, 0, T, &btc);
}

/* Heads (b, h) in slices of b * NH + h, as the forward. Bias parameters: each slice
 * accumulates into its own copy of this layer's tensors, added in slice order afterwards
 * (the static split fixes which slice does which head), so the sum is bitwise reproducible
 * and concurrent heads never share a slot. */
void attention_backward_at(float *dq, float *dk, float *dv, const float *dout, HeadRows dor, const float *att,
                           const float *q, const float *k, const float *v, HeadRows vr, int B, int NH, int T, int hs,
                           const PosMethod *pm, const PosCtx *ctx) {
    int Tp = round_up(T, NR);
    int bias_grad = pm->bias_backward && (ctx->dp || ctx->ddata);
    int nt = bias_grad && ctx->dp ? pos_tensor_count(pm, &ctx->cfg) : 0;
    size_t np = nt ? pos_layer_param_count(pm, &ctx->cfg) : 0;
    int nth = ops_team_size();
    float *dpar = nt ? xmalloc_floats((size_t)nth * np) : NULL;   /* (nth, np) */
    FOR_SLICES((long)B * NH, id, lo, hi, {
        float **tdp = nt ? xcalloc((size_t)nt, sizeof(float *)) : NULL;   /* (nt) into this slice's copy */
        PosCtx tctx = *ctx;
        if (nt) {
            pos_bind_flat(pm, &ctx->cfg, NULL, dpar + (size_t)id * np, NULL, tdp);
            tctx.dp = tdp;
        }
        HeadScratch w = {thread_scratch(0, (size_t)hs * Tp), thread_scratch(1, (size_t)hs * Tp),
                         thread_scratch(2, (size_t)round_up(T, MR) * Tp), thread_scratch(3, (size_t)round_up(T, MR) * Tp),
                         &tctx};
        for (long bh = lo; bh < hi; bh++)
            backward_head(dq, dk, dv, dout, dor, att, q, k, v, vr, (int)(bh / NH), (int)(bh % NH), NH, T, hs, pm, ctx,
                          bias_grad, &w);
        free(tdp);
    });
    if (nt) {
        float **flat = xcalloc((size_t)nt, sizeof(float *));
        for (int t = 0; t < nth; t++) {
            pos_bind_flat(pm, &ctx->cfg, NULL, dpar + (size_t)t * np, NULL, flat);
            for (int x = 0; x < nt; x++) {
                size_t n = (size_t)((x + 1 < nt ? flat[x + 1] : dpar + (size_t)(t + 1) * np) - flat[x]);
                for (size_t i = 0; i < n; i++) ctx->dp[x][i] += flat[x][i];
            }
        }
        free(flat);
        free(dpar);
    }
}

/* ---- evaluation: tiled, online softmax, memory linear in T ------------------------- */

/* One query tile [i0, i0+ni) of one head against every key tile it can see.
 * kt (hs, ldk) is K^T. For each key tile, each block of MR query rows computes
 * only the keys its last row sees, rescales its running output by the new
 * maximum (online softmax) and adds P V. window > 0: row i sees keys j > i - window
 * only; tiles before the first row's window are never visited, blocks whose rows all
 * start after the tile are skipped, and the entries before a row's start are -inf. */
static void attention_tile_rows(float *O, const float *Q, const float *kt, int ldk, const float *V, int i0, int ni,
                                int hs, int h, float scale, const PosMethod *pm, const PosCtx *ctx, int window,
                                float *S /* (MR, ATT_TILE_K) */, float *m /* (ni) */, float *l /* (ni) */) {
    float *acc = O + (size_t)i0 * hs;   /* (ni, hs) accumulates in place */
    memset(acc, 0, (size_t)ni * hs * sizeof(float));
    for (int r = 0; r < ni; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
    }
    int i_end = i0 + ni;
    int first = window > 0 && i0 - window + 1 > 0 ? (i0 - window + 1) / ATT_TILE_K * ATT_TILE_K : 0;
    for (int j0 = first; j0 < i_end; j0 += ATT_TILE_K) {
        int nj = i_end - j0 < ATT_TILE_K ? i_end - j0 : ATT_TILE_K;
        for (int r0 = 0; r0 < ni; r0 += MR) {
            int rows = ni - r0 < MR ? ni - r0 : MR;
            int ncols = i0 + r0 + rows - j0;               /* keys of this tile the block's last row sees */
            if (ncols <= 0) continue;
            if (window > 0 && i0 + r0 - window + 1 >= j0 + nj) continue;   /* the tile is before every row's window */
            if (ncols > nj) ncols = nj;
            gemm_nn(S, ATT_TILE_K, Q + (size_t)(i0 + r0) * hs, hs, kt + j0, ldk, rows, round_up(ncols, NR), hs, scale, 0);
            if (pm->bias_add) pm->bias_add(S, ATT_TILE_K, h, i0 + r0, rows, j0, ncols, ctx);
            for (int r = 0; r < rows; r++) {
                int rr = r0 + r;
                float *s = S + (size_t)r * ATT_TILE_K;
                int nvis = i0 + rr - j0 + 1;                 /* j <= i */
                if (nvis > ncols) nvis = ncols;
                int lo = window > 0 ? i0 + rr - window + 1 - j0 : 0;   /* first column in the row's window */
                if (nvis <= 0 || lo >= nvis) {               /* row sees none of this tile */
                    for (int c = 0; c < ncols; c++) s[c] = 0.0f;
                    continue;
                }
                for (int c = 0; c < lo; c++) s[c] = -INFINITY;
                float mx;   /* new running maximum: of m[rr] and this tile's scores */
                float sum = row_exp_max_sum(s, nvis, m[rr], &mx);
                float corr = expf_fast(m[rr] - mx);
                for (int c = round_up(nvis, 16); c < ncols; c++) s[c] = 0.0f;
                l[rr] = l[rr] * corr + sum;
                m[rr] = mx;
                if (corr != 1.0f) {
                    float *a = acc + (size_t)rr * hs;
                    for (int e = 0; e < hs; e++) a[e] *= corr;
                }
            }
            gemm_nn(acc + (size_t)r0 * hs, hs, S, ATT_TILE_K, V + (size_t)j0 * hs, hs, rows, hs, ncols, 1.0f, 1);
        }
    }
    for (int r = 0; r < ni; r++) {
        float inv = 1.0f / l[r], *a = acc + (size_t)r * hs;
        for (int e = 0; e < hs; e++) a[e] *= inv;
    }
}

void attention_forward_tiled(float *out, const float *q, const float *k, const float *v, int B, int NH, int T,
                             int hs, const PosMethod *pm, const PosCtx *ctx) {
    attention_forward_tiled_window(out, q, k, v, B, NH, T, hs, pm, ctx, 0);
}

void attention_scale_logn(float *q, int B, int NH, int T, int hs, int L) {
    double logL = log(L > 1 ? (double)L : 2.0);
    for (int p = L + 1; p < T; p++) {
        float f = (float)(log((double)p) / logL);
        for (long bh = 0; bh < (long)B * NH; bh++) {
            float *row = q + ((size_t)bh * T + p) * hs;
            for (int e = 0; e < hs; e++) row[e] *= f;
        }
    }
}

void attention_forward_tiled_window(float *out, const float *q, const float *k, const float *v, int B, int NH,
                                    int T, int hs, const PosMethod *pm, const PosCtx *ctx, int window) {
    attention_forward_tiled_rows(out, q, k, v, B, NH, T, hs, pm, ctx, window, 0);
}

void attention_forward_tiled_rows(float *out, const float *q, const float *k, const float *v, int B, int NH, int T,
                                  int hs, const PosMethod *pm, const PosCtx *ctx, int window, int q_from) {
    if (window >= T) window = 0;
    float scale = 1.0f / sqrtf((float)hs);
    int n_qt = (T + ATT_TILE_Q - 1) / ATT_TILE_Q, qt0 = q_from > 0 ? q_from / ATT_TILE_Q : 0;
    n_qt -= qt0;   /* query tiles qt0 .. (tiles before q_from skipped) */
    long n_tasks = (long)B * NH * n_qt;
    int Tp = round_up(T, NR);
    /* K^T of every head, (B*NH, hs, Tp): as large as k itself, so memory stays linear in T */
    float *kt = xmalloc_floats((size_t)B * NH * hs * Tp);
#pragma omp parallel for schedule(static)
    for (long bh = 0; bh < (long)B * NH; bh++) transpose_pad(kt + bh * hs * Tp, Tp, k + bh * T * hs, hs, T, hs);
#pragma omp parallel
    {
        float *S = xmalloc_floats((size_t)MR * ATT_TILE_K + 2 * ATT_TILE_Q);
        float *m = S + (size_t)MR * ATT_TILE_K, *l = m + ATT_TILE_Q;
        /* later query tiles see more keys: hand them out first */
#pragma omp for schedule(dynamic, 1)
        for (long task = 0; task < n_tasks; task++) {
            int qt = qt0 + n_qt - 1 - (int)(task % n_qt);
            long bh = task / n_qt;
            int h = (int)(bh % NH);
            size_t off = (size_t)bh * T * hs;
            int i0 = qt * ATT_TILE_Q, ni = T - i0 < ATT_TILE_Q ? T - i0 : ATT_TILE_Q;
            PosCtx bc = pos_ctx_seq(ctx, (int)(bh / NH));
            attention_tile_rows(out + off, q + off, kt + (size_t)bh * hs * Tp, Tp, v + off, i0, ni, hs, h, scale, pm,
                                &bc, window, S, m, l);
        }
        free(S);
    }
    free(kt);
}

void attention_forward_naive(float *out, const float *q, const float *k, const float *v, int B, int NH, int T,
                             int hs, const PosMethod *pm, const PosCtx *ctx) {
    float scale = 1.0f / sqrtf((float)hs);
    float *S = xmalloc_floats((size_t)T * T);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            size_t off = ((size_t)b * NH + h) * T * hs;
            const float *Q = q + off, *K = k + off, *V = v + off;
            for (int i = 0; i < T; i++)
                for (int j = 0; j < T; j++) {
                    double dot = 0.0;
                    for (int e = 0; e < hs; e++) dot += (double)Q[(size_t)i * hs + e] * K[(size_t)j * hs + e];
                    S[(size_t)i * T + j] = (float)(dot * scale);
                }
            PosCtx bc = pos_ctx_seq(ctx, b);
            if (pm->bias_add) pm->bias_add(S, T, h, 0, T, 0, T, &bc);
            for (int i = 0; i < T; i++) {
                causal_softmax_row(S + (size_t)i * T, i, T);
                for (int e = 0; e < hs; e++) {
                    double o = 0.0;
                    for (int j = 0; j <= i; j++) o += (double)S[(size_t)i * T + j] * V[(size_t)j * hs + e];
                    out[off + (size_t)i * hs + e] = (float)o;
                }
            }
        }
    free(S);
}

void attention_backward_naive(float *dq, float *dk, float *dv, const float *dout, const float *q, const float *k,
                              const float *v, int B, int NH, int T, int hs, const PosMethod *pm, const PosCtx *ctx) {
    double scale = 1.0 / sqrt((double)hs);
    float *bias = xmalloc_floats((size_t)T * T);                     /* (T, T) through the method's hook */
    double *p = xmalloc((size_t)2 * T * sizeof(double)), *dp = p + T;   /* row i of P and of dP = dO V^T */
    double *g = xmalloc((size_t)3 * T * hs * sizeof(double));         /* (3, T, hs) dQ, dK, dV of one head */
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            size_t off = ((size_t)b * NH + h) * T * hs;
            const float *Q = q + off, *K = k + off, *V = v + off, *dO = dout + off;
            double *gq = g, *gk = g + (size_t)T * hs, *gv = g + (size_t)2 * T * hs;
            memset(bias, 0, sizeof(float) * (size_t)T * T);
            memset(g, 0, sizeof(double) * 3 * (size_t)T * hs);
            PosCtx bc = pos_ctx_seq(ctx, b);
            if (pm->bias_add) pm->bias_add(bias, T, h, 0, T, 0, T, &bc);
            for (int i = 0; i < T; i++) {
                double mx = -INFINITY, sum = 0.0, dot = 0.0;
                for (int j = 0; j <= i; j++) {
                    double s = 0.0, d = 0.0;
                    for (int e = 0; e < hs; e++) {
                        s += (double)Q[(size_t)i * hs + e] * K[(size_t)j * hs + e];
                        d += (double)dO[(size_t)i * hs + e] * V[(size_t)j * hs + e];
                    }
                    p[j] = s * scale + bias[(size_t)i * T + j];
                    dp[j] = d;
                    mx = p[j] > mx ? p[j] : mx;
                }
                for (int j = 0; j <= i; j++) sum += (p[j] = exp(p[j] - mx));
                for (int j = 0; j <= i; j++) dot += (p[j] /= sum) * dp[j];
                for (int j = 0; j <= i; j++) {
                    double ds = p[j] * (dp[j] - dot) * scale;   /* d(scale q.k) through the softmax */
                    for (int e = 0; e < hs; e++) {
                        gq[(size_t)i * hs + e] += ds * K[(size_t)j * hs + e];
                        gk[(size_t)j * hs + e] += ds * Q[(size_t)i * hs + e];
                        gv[(size_t)j * hs + e] += p[j] * dO[(size_t)i * hs + e];
                    }
                }
            }
            for (size_t x = 0; x < (size_t)T * hs; x++) {
                dq[off + x] += (float)gq[x];
                dk[off + x] += (float)gk[x];
                dv[off + x] += (float)gv[x];
            }
        }
    free(bias);
    free(p);
    free(g);
}
