/* ops_v0.c — the first versions of model/ops.c's elementwise and row-wise ops
 * (commit 1cd1c4a), kept as baselines for dev/bench_kernels.c: libm tanhf and
 * expf (scalar calls, so the loops do not vectorise), scalar reductions.
 * Not part of posbench.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kernels_v0.h"
#include "../common/util.h"

#define GELU_S 0.7978845608028654f /* sqrt(2/pi) */

void gelu_forward_v0(float *out, const float *inp, size_t N) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < N; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + tanhf(GELU_S * (x + 0.044715f * x * x * x)));
    }
}

void gelu_backward_v0(float *dinp, const float *inp, const float *dout, size_t N) {
    /* d/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) s (1 + 3 * 0.044715 x^2),  u = s (x + 0.044715 x^3) */
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < N; i++) {
        float x = inp[i];
        float th = tanhf(GELU_S * (x + 0.044715f * x * x * x));
        float g = 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * GELU_S * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += g * dout[i];
    }
}

void layernorm_forward_v0(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                       int BT, int C) {
#pragma omp parallel for schedule(static)
    for (int t = 0; t < BT; t++) {
        const float *x = inp + (size_t)t * C;
        float m = 0.0f;
        for (int c = 0; c < C; c++) m += x[c];
        m /= C;
        float v = 0.0f;
        for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        v /= C;
        float s = 1.0f / sqrtf(v + 1e-5f);
        float *o = out + (size_t)t * C;
        for (int c = 0; c < C; c++) o[c] = (x[c] - m) * s * w[c] + b[c];
        mean[t] = m;
        rstd[t] = s;
    }
}

void layernorm_backward_v0(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                        const float *mean, const float *rstd, int BT, int C) {
    /* forward: out = xhat * w + b, xhat = (x - mean) * rstd
     * dxhat = dout * w;  dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) */
#pragma omp parallel
    {
        float *pdw = xcalloc((size_t)2 * C, sizeof(float)), *pdb = pdw + C;
#pragma omp for schedule(static)
        for (int t = 0; t < BT; t++) {
            const float *x = inp + (size_t)t * C, *d = dout + (size_t)t * C;
            float m = mean[t], s = rstd[t];
            float mdx = 0.0f, mdxx = 0.0f;
            for (int c = 0; c < C; c++) {
                float xh = (x[c] - m) * s, dxh = d[c] * w[c];
                mdx += dxh;
                mdxx += dxh * xh;
                pdw[c] += d[c] * xh;
                pdb[c] += d[c];
            }
            mdx /= C;
            mdxx /= C;
            float *di = dinp + (size_t)t * C;
            for (int c = 0; c < C; c++) {
                float xh = (x[c] - m) * s;
                di[c] += s * (d[c] * w[c] - mdx - xh * mdxx);
            }
        }
#pragma omp critical
        for (int c = 0; c < C; c++) {
            dw[c] += pdw[c];
            db[c] += pdb[c];
        }
        free(pdw);
    }
}

void crossentropy_forward_v0(float *losses, float *lse, const float *logits, const int *targets, int BT, int V) {
#pragma omp parallel for schedule(static)
    for (int t = 0; t < BT; t++) {
        const float *l = logits + (size_t)t * V;
        float mx = l[0];
        for (int i = 1; i < V; i++) mx = l[i] > mx ? l[i] : mx;
        double s = 0.0;
        for (int i = 0; i < V; i++) s += expf(l[i] - mx);
        float z = mx + (float)log(s);
        lse[t] = z;
        losses[t] = z - l[targets[t]];
    }
}

void crossentropy_backward_v0(float *dlogits, const float *logits, const float *lse, const int *targets, float dloss,
                           int BT, int V) {
#pragma omp parallel for schedule(static)
    for (int t = 0; t < BT; t++) {
        const float *l = logits + (size_t)t * V;
        float *d = dlogits + (size_t)t * V;
        for (int i = 0; i < V; i++) d[i] += dloss * expf(l[i] - lse[t]);
        d[targets[t]] -= dloss;
    }
}
