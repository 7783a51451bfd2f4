/* kerple_log.c — KERPLE, logarithmic variant (Chi, Fan, Ramadge & Rudnicky,
 * NeurIPS 2022, "KERPLE: Kernelized Relative Positional Embedding for Length
 * Extrapolation"):
 *
 *   bias(h, i, j) = -r1_h log(1 + r2_h (i - j))          j <= i,  r1, r2 > 0
 *
 * As the authors' code (chijames/KERPLE, megatron/mpu/layers.py,
 * ParallelKerpleLog): r1 ("bias_p") starts U(0, 2) and r2 ("bias_a") U(0, 1),
 * one of each per head, and positivity is kept by clamping both to >= eps =
 * 0.01 in place, which here is the method's projection, applied after init and
 * after every optimiser step (the forward uses the values as they are, so it has
 * no kink). No weight decay on them. Per layer by default, as the issue asks;
 * the authors' code hands one module to every layer, i.e. shares them:
 * `kerple_log:shared=1` does that.
 *
 * The bias depends on the distance only: table_fill tabulates it per head and
 * layer (one log per distance, not per score), bias_add is a contiguous add.
 */
#include <math.h>
#include "distance_bias.h"

#define KERPLE_EPS 0.01

static const PosOption kerple_log_options[] = {
    {"shared", 'i', 0, 0, 1, 0, "1: one r1, r2 per head shared by all layers (the authors' code); 0: per layer"},
    {NULL, 0, 0, 0, 0, 0, NULL},
};

static int kerple_log_tensors(PosTensor *out, const PosConfig *cfg) {
    return pos_kernel_tensors(out, "kerple_log", (int)cfg->opt[0], cfg);
}

/* r1 ~ U(0, 2), r2 ~ U(0, 1) (then clamped to >= eps by the projection). */
static void kerple_log_init(float *x, int k, int layer, const PosConfig *cfg, Rng *rng) {
    for (int h = 0; h < cfg->n_head; h++) x[h] = (k == 0 ? 2.0f : 1.0f) * rng_uniform(rng);
}

static void kerple_log_project(float *x, size_t n, int k, const PosConfig *cfg) {
    for (size_t i = 0; i < n; i++) x[i] = x[i] < (float)KERPLE_EPS ? (float)KERPLE_EPS : x[i];
}

static double kerple_log_f(double r1, double r2, int d) { return -r1 * log1p(r2 * d); }

/* bias = -r1 log(1 + r2 d):  d/dr1 = -log(1 + r2 d),  d/dr2 = -r1 d / (1 + r2 d). */
static void kerple_log_grad(double r1, double r2, int d, double *g1, double *g2) {
    *g1 = -log1p(r2 * d);
    *g2 = -r1 * d / (1.0 + r2 * d);
}

static void kerple_log_table(float *tab, int T, const PosCtx *ctx) { pos_kernel_table(tab, T, ctx, kerple_log_f); }

static void kerple_log_bias_backward(const float *dscores, int ld, int h, int i0, int ni, int j0, int nj,
                                     const PosCtx *ctx) {
    pos_kernel_backward(dscores, ld, h, i0, ni, j0, nj, ctx, kerple_log_grad);
}

const PosMethod pos_kerple_log = {
    .name = "kerple_log",
    .summary = "learned bias -r1*log(1 + r2*(i-j)), r1, r2 > 0 per head and layer (Chi et al. 2022)",
    .label = "KERPLE-log",
    .citation = "Chi et al., NeurIPS 2022",
    .family = POS_FAMILY_BIAS,
    .tensors = kerple_log_tensors,
    .init = kerple_log_init,
    .project = kerple_log_project,
    .options = kerple_log_options,
    /* r2 may sit at its clamp 0.01, where a step of 0.01 is as large as r2 itself */
    .fd = {.eps = 1e-3},
    .table_size = pos_dist_table_size,
    .table_fill = kerple_log_table,
    .bias_add = pos_dist_bias_add,
    .bias_backward = kerple_log_bias_backward,
};
