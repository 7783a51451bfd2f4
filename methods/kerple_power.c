/* kerple_power.c — KERPLE, power variant (Chi, Fan, Ramadge & Rudnicky,
 * NeurIPS 2022):
 *
 *   bias(h, i, j) = -r1_h (i - j)^r2_h                   j <= i,  r1 > 0,  0 < r2 <= 2
 *
 * (0 at i = j). As the authors' code (chijames/KERPLE, ParallelKerplePower with
 * pos_emb kerple_power_ap_: bias -bias_a |m-n|^bias_p): r1 ("bias_a") starts
 * U(0, 1) and r2 ("bias_p") U(0, 2), one of each per head; positivity and the
 * bound r2 <= 2 are kept by clamping in place (r1 >= 0.01, 0.01 <= r2 <= 2),
 * here the method's projection after init and after every optimiser step. No
 * weight decay on them. Per layer by default; `kerple_power:shared=1` shares
 * them across layers as the authors' code does.
 *
 * Tabulated per head and distance once per layer and call (one pow per
 * distance); bias_add is a contiguous add.
 */
#include <math.h>
#include "distance_bias.h"

#define KERPLE_EPS 0.01
#define KERPLE_POW_MAX 2.0

static const PosOption kerple_power_options[] = {
    {"shared", 'i', 0, 0, 1, 0, "1: one r1, r2 per head shared by all layers (the authors' code); 0: per layer"},
    {NULL, 0, 0, 0, 0, 0, NULL},
};

static int kerple_power_tensors(PosTensor *out, const PosConfig *cfg) {
    return pos_kernel_tensors(out, "kerple_power", (int)cfg->opt[0], cfg);
}

/* r1 ~ U(0, 1), r2 ~ U(0, 2) (then clamped by the projection). */
static void kerple_power_init(float *x, int k, int layer, const PosConfig *cfg, Rng *rng) {
    for (int h = 0; h < cfg->n_head; h++) x[h] = (k == 0 ? 1.0f : 2.0f) * rng_uniform(rng);
}

static void kerple_power_project(float *x, size_t n, int k, const PosConfig *cfg) {
    const float lo = (float)KERPLE_EPS, hi = k == 1 ? (float)KERPLE_POW_MAX : INFINITY;
    for (size_t i = 0; i < n; i++) x[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
}

static double kerple_power_f(double r1, double r2, int d) { return d > 0 ? -r1 * pow((double)d, r2) : 0.0; }

/* bias = -r1 d^r2:  d/dr1 = -d^r2,  d/dr2 = -r1 d^r2 ln d  (0 at d = 0). */
static void kerple_power_grad(double r1, double r2, int d, double *g1, double *g2) {
    double p = d > 0 ? pow((double)d, r2) : 0.0;
    *g1 = -p;
    *g2 = d > 0 ? -r1 * p * log((double)d) : 0.0;
}

static void kerple_power_table(float *tab, int T, const PosCtx *ctx) { pos_kernel_table(tab, T, ctx, kerple_power_f); }

static void kerple_power_bias_backward(const float *dscores, int ld, int h, int i0, int ni, int j0, int nj,
                                       const PosCtx *ctx) {
    pos_kernel_backward(dscores, ld, h, i0, ni, j0, nj, ctx, kerple_power_grad);
}

const PosMethod pos_kerple_power = {
    .name = "kerple_power",
    .summary = "learned bias -r1*(i-j)^r2, r1 > 0, 0 < r2 <= 2 per head and layer (Chi et al. 2022)",
    .label = "KERPLE-power",
    .citation = "Chi et al., NeurIPS 2022",
    .family = POS_FAMILY_BIAS,
    .tensors = kerple_power_tensors,
    .init = kerple_power_init,
    .project = kerple_power_project,
    .options = kerple_power_options,
    /* r2 may sit at its clamp 0.01, where a step of 0.01 is as large as r2 itself */
    .fd = {.eps = 1e-3},
    .table_size = pos_dist_table_size,
    .table_fill = kerple_power_table,
    .bias_add = pos_dist_bias_add,
    .bias_backward = kerple_power_bias_backward,
};
