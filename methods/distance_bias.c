/* distance_bias.c — see distance_bias.h */
#include "distance_bias.h"
#include <stdio.h>
#include <stdlib.h>

size_t pos_dist_table_size(const PosConfig *cfg, int T) { return (size_t)cfg->n_head * (size_t)T; }

/* Causal columns of row i in a tile starting at key j0: c < end. */
static int causal_end(int i, int j0, int nj) {
    int end = i - j0 + 1;
    return end < 0 ? 0 : end > nj ? nj : end;
}

void pos_dist_bias_add(float *scores, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx) {
    const int T = ctx->table_len;
    const float *tab = ctx->table + (size_t)h * T;   /* (T) reversed: tab[T-1-d] */
    for (int r = 0; r < ni; r++) {
        const int i = i0 + r, end = causal_end(i, j0, nj);
        float *row = scores + (size_t)r * ld;
        const float *src = tab + (T - 1 - i + j0);  /* c -> d = i - j0 - c -> tab[T-1-i+j0+c] */
        for (int c = 0; c < end; c++) row[c] += src[c];
    }
}

void pos_dist_grad(const float *dscores, int ld, int i0, int ni, int j0, int nj, int T, double *g) {
    for (int r = 0; r < ni; r++) {
        const int i = i0 + r, end = causal_end(i, j0, nj);
        const float *row = dscores + (size_t)r * ld;
        double *dst = g + (T - 1 - i + j0);
        for (int c = 0; c < end; c++) dst[c] += row[c];
    }
}

int pos_kernel_tensors(PosTensor *out, const char *method, int shared, const PosConfig *cfg) {
    static const char *const what[2] = {"r1", "r2"};
    for (int k = 0; out && k < 2; k++) {
        out[k] = (PosTensor){.ndim = 1, .shape = {cfg->n_head, 1}, .per_layer = !shared, .decay = 0};
        snprintf(out[k].name, POS_NAME_LEN, "pos.%.40s.%s", method, what[k]);
    }
    return 2;
}

void pos_kernel_table(float *tab, int T, const PosCtx *ctx, PosKernelFn f) {
    for (int h = 0; h < ctx->cfg.n_head; h++) {
        const double r1 = ctx->p[0][h], r2 = ctx->p[1][h];
        float *t = tab + (size_t)h * T;
        for (int d = 0; d < T; d++) t[T - 1 - d] = (float)f(r1, r2, d);
    }
}

void pos_kernel_backward(const float *dscores, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx,
                         PosKernelGrad grad) {
    const int T = ctx->table_len;
    double *g = xcalloc((size_t)T, sizeof(double));   /* (T) reversed: g[T-1-d] */
    pos_dist_grad(dscores, ld, i0, ni, j0, nj, T, g);
    const double r1 = ctx->p[0][h], r2 = ctx->p[1][h];
    double s1 = 0, s2 = 0;
    for (int d = 0; d < T; d++) {
        double G = g[T - 1 - d], g1, g2;
        if (G == 0.0) continue;
        grad(r1, r2, d, &g1, &g2);
        s1 += G * g1;
        s2 += G * g2;
    }
    ctx->dp[0][h] += (float)s1;
    ctx->dp[1][h] += (float)s2;
    free(g);
}
