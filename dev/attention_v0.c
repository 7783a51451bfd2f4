/* attention_v0.c — the first kernels of model/attention.c (commit 1cd1c4a), kept
 * as a baseline for dev/bench_kernels.c: training attention as full (T, T)
 * cblas_sgemm calls per (batch, head) including the masked half; evaluation
 * tiles of 64 x 128 through cblas_sgemm from inside an OpenMP region, libm
 * expf. Not part of posbench.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kernels_v0.h"
#include "../model/ops.h"
#include "../common/util.h"

#define V0_TILE_Q 64
#define V0_TILE_K 128

/* Softmax of row i of a (T, T) score matrix over j <= i; zero for j > i. */
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

void attention_forward_v0(float *out, float *att, const float *q, const float *k, const float *v, int B, int NH,
                       int T, int hs, const PosMethod *pm, const PosCtx *ctx) {
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            size_t bh = (size_t)b * NH + h;
            const float *Q = q + bh * T * hs, *K = k + bh * T * hs, *V = v + bh * T * hs;
            float *S = att + bh * T * T, *O = out + bh * T * hs;
            sgemm(0, 1, T, T, hs, scale, Q, hs, K, hs, 0.0f, S, T);           /* S = scale Q K^T */
            if (pm->bias_add) pm->bias_add(S, T, h, 0, T, 0, T, ctx);          /* S += bias(h) */
            for (int i = 0; i < T; i++) causal_softmax_row(S + (size_t)i * T, i, T);
            sgemm(0, 0, T, hs, T, 1.0f, S, T, V, hs, 0.0f, O, hs);             /* O = P V */
        }
}

void attention_backward_v0(float *dq, float *dk, float *dv, float *dscores, float *dbias, const float *dout,
                        const float *att, const float *q, const float *k, const float *v, int B, int NH, int T,
                        int hs, const PosMethod *pm, const PosCtx *ctx) {
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            size_t bh = (size_t)b * NH + h;
            const float *Q = q + bh * T * hs, *K = k + bh * T * hs, *V = v + bh * T * hs;
            const float *P = att + bh * T * T, *dO = dout + bh * T * hs;
            float *dS = dscores + bh * T * T;
            /* forward: O = P V  ->  dP = dO V^T,  dV += P^T dO */
            sgemm(0, 1, T, T, hs, 1.0f, dO, hs, V, hs, 0.0f, dS, T);
            sgemm(1, 0, T, hs, T, 1.0f, P, T, dO, hs, 1.0f, dv + bh * T * hs, hs);
            /* forward: P = softmax(S)  ->  dS = P * (dP - sum_j P dP) over j <= i */
            for (int i = 0; i < T; i++) {
                float *d = dS + (size_t)i * T;
                const float *p = P + (size_t)i * T;
                float dot = 0.0f;
                for (int j = 0; j <= i; j++) dot += p[j] * d[j];
                for (int j = 0; j <= i; j++) d[j] = p[j] * (d[j] - dot);
                for (int j = i + 1; j < T; j++) d[j] = 0.0f;
            }
            /* forward: S = scale Q K^T + bias  ->  dQ += scale dS K,  dK += scale dS^T Q */
            sgemm(0, 0, T, hs, T, scale, dS, T, K, hs, 1.0f, dq + bh * T * hs, hs);
            sgemm(1, 0, T, hs, T, scale, dS, T, Q, hs, 1.0f, dk + bh * T * hs, hs);
        }
    if (!pm->bias_backward || !ctx->dp) return;
    /* The bias does not depend on b: sum dS over the batch, then hand each head's
     * (T, T) gradient to the method serially (its parameters may be shared by heads). */
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

/* One query tile [i0, i0+ni) of one head against every key tile it can see. */
static void attention_tile_rows(float *O, const float *Q, const float *K, const float *V, int i0, int ni, int hs,
                                int h, float scale, const PosMethod *pm, const PosCtx *ctx, float *S /* (V0_TILE_Q, V0_TILE_K) */,
                                float *m /* (ni) */, float *l /* (ni) */) {
    float *acc = O + (size_t)i0 * hs;   /* (ni, hs) accumulates in place */
    memset(acc, 0, (size_t)ni * hs * sizeof(float));
    for (int r = 0; r < ni; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
    }
    int i_end = i0 + ni;
    for (int j0 = 0; j0 < i_end; j0 += V0_TILE_K) {
        int nj = i_end - j0 < V0_TILE_K ? i_end - j0 : V0_TILE_K;
        sgemm(0, 1, ni, nj, hs, scale, Q + (size_t)i0 * hs, hs, K + (size_t)j0 * hs, hs, 0.0f, S, V0_TILE_K);
        if (pm->bias_add) pm->bias_add(S, V0_TILE_K, h, i0, ni, j0, nj, ctx);
        for (int r = 0; r < ni; r++) {
            float *s = S + (size_t)r * V0_TILE_K;
            int jmax = i0 + r - j0;                 /* last visible column in this tile */
            int nvis = jmax + 1 < nj ? jmax + 1 : nj;
            float mx = m[r];
            for (int c = 0; c < nvis; c++) mx = s[c] > mx ? s[c] : mx;
            float corr = expf(m[r] - mx), sum = 0.0f;
            for (int c = 0; c < nvis; c++) {
                s[c] = expf(s[c] - mx);
                sum += s[c];
            }
            for (int c = nvis; c < nj; c++) s[c] = 0.0f;
            l[r] = l[r] * corr + sum;
            m[r] = mx;
            if (corr != 1.0f) {
                float *a = acc + (size_t)r * hs;
                for (int e = 0; e < hs; e++) a[e] *= corr;
            }
        }
        sgemm(0, 0, ni, hs, nj, 1.0f, S, V0_TILE_K, V + (size_t)j0 * hs, hs, 1.0f, acc, hs);
    }
    for (int r = 0; r < ni; r++) {
        float inv = 1.0f / l[r], *a = acc + (size_t)r * hs;
        for (int e = 0; e < hs; e++) a[e] *= inv;
    }
}

void attention_forward_tiled_v0(float *out, const float *q, const float *k, const float *v, int B, int NH, int T,
                             int hs, const PosMethod *pm, const PosCtx *ctx) {
    float scale = 1.0f / sqrtf((float)hs);
    int n_qt = (T + V0_TILE_Q - 1) / V0_TILE_Q;
    long n_tasks = (long)B * NH * n_qt;
#pragma omp parallel
    {
        float *S = xmalloc_floats((size_t)V0_TILE_Q * V0_TILE_K + 2 * V0_TILE_Q);
        float *m = S + (size_t)V0_TILE_Q * V0_TILE_K, *l = m + V0_TILE_Q;
        /* later query tiles see more keys: hand them out first */
#pragma omp for schedule(dynamic, 1)
        for (long task = 0; task < n_tasks; task++) {
            int qt = n_qt - 1 - (int)(task % n_qt);
            long bh = task / n_qt;
            int h = (int)(bh % NH);
            size_t off = (size_t)bh * T * hs;
            int i0 = qt * V0_TILE_Q, ni = T - i0 < V0_TILE_Q ? T - i0 : V0_TILE_Q;
            attention_tile_rows(out + off, q + off, k + off, v + off, i0, ni, hs, h, scale, pm, ctx, S, m, l);
        }
        free(S);
    }
}

