/* rotary.c — rotary position embedding, RoPE (Su et al., 2021), on the full
 * head dim with the "rotate half" pairing (i, i + hs/2), base 10000:
 *
 *   theta_i = 10000^(-2i/hs),  i < hs/2,   angle a = p * theta_i
 *   out[i]        = x[i] cos a - x[i+hs/2] sin a
 *   out[i + hs/2] = x[i+hs/2] cos a + x[i] sin a
 *
 * The same rotation is applied to q and k of every head in every layer, so
 * q_p . k_r depends on p - r only. (For odd hs the last component is left
 * as it is.)
 *
 * Options (all allowed at evaluation; F = 1 is plain RoPE, so each default is
 * "off"; at most one of pi, ntk, yarn may differ from 1; the cache follows them):
 *   pi=F    position interpolation (Chen et al., 2023): a = (p / F) * theta_i
 *   ntk=F   NTK-aware scaling (bloc97, 2023): base 10000 * F^(hs/(hs-2)), so the
 *           highest frequency is unchanged and the lowest one is divided by F
 *   yarn=F  YaRN (Peng et al., 2023), the paper's equations with
 *           yarn_alpha (default 1) and yarn_beta (default 32):
 *           wavelength lambda_i = 2 pi / theta_i, r_i = L / lambda_i (L = train_len),
 *           gamma_i = clamp((r_i - alpha) / (beta - alpha), 0, 1),
 *           theta'_i = (1 - gamma_i) theta_i / F + gamma_i theta_i,
 *           and the attention temperature sqrt(1/t) = 0.1 ln F + 1 multiplies q and
 *           k alike (so the logits are scaled by 1/t); it is folded into cos, sin.
 *
 * No parameters. The transform is linear in x, so qk_backward applies the
 * transpose rotation (angle -a, times the same scale) to the gradient in place.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "method.h"

/* option indices into cfg->opt, in rotary_options[] order */
enum { OPT_PI, OPT_NTK, OPT_YARN, OPT_YARN_ALPHA, OPT_YARN_BETA };
enum { ROTARY_PLAIN, ROTARY_PI, ROTARY_NTK, ROTARY_YARN };

#define ROTARY_BASE 10000.0
#define ROTARY_PI_CONST 3.14159265358979323846
#define ROTARY_FACTOR_MAX 1e6

static const PosOption rotary_options[] = {
    {"pi", 'f', 1.0, 1.0, ROTARY_FACTOR_MAX, 1, "position interpolation factor F: angle (p/F) theta_i"},
    {"ntk", 'f', 1.0, 1.0, ROTARY_FACTOR_MAX, 1, "NTK-aware factor F: base 10000 F^(hs/(hs-2))"},
    {"yarn", 'f', 1.0, 1.0, ROTARY_FACTOR_MAX, 1, "YaRN factor F: ramped interpolation + temperature 0.1 ln F + 1"},
    {"yarn_alpha", 'f', 1.0, 0.0, 1e6, 1, "YaRN ramp start alpha, in turns within L"},
    {"yarn_beta", 'f', 32.0, 0.0, 1e6, 1, "YaRN ramp end beta, in turns within L (> alpha)"},
    {NULL, 0, 0, 0, 0, 0, NULL},
};

/* Which of pi, ntk, yarn is active (at most one differs from 1). */
static int rotary_variant(const PosConfig *cfg) {
    if (cfg->opt[OPT_PI] != 1.0) return ROTARY_PI;
    if (cfg->opt[OPT_NTK] != 1.0) return ROTARY_NTK;
    if (cfg->opt[OPT_YARN] != 1.0) return ROTARY_YARN;
    return ROTARY_PLAIN;
}

/* Effective frequency theta'_i of pair i under cfg's variant (radians per position). */
static double rotary_theta(const PosConfig *cfg, int i) {
    const int hs = cfg->head_dim;
    const int variant = rotary_variant(cfg);
    const double F = variant == ROTARY_PLAIN ? 1.0 : cfg->opt[variant - ROTARY_PI + OPT_PI];
    const double theta = pow(ROTARY_BASE, -2.0 * i / hs);   /* theta_i = 10000^(-2i/hs) */
    switch (variant) {
    case ROTARY_PI:
        return theta / F;                                    /* a = (p/F) theta_i */
    case ROTARY_NTK:
        if (hs <= 2) return theta;                           /* only theta_0 = 1 exists */
        return pow(ROTARY_BASE * pow(F, hs / (hs - 2.0)), -2.0 * i / hs);
    case ROTARY_YARN: {
        double lambda = 2.0 * ROTARY_PI_CONST / theta;       /* wavelength in positions */
        double r = cfg->train_len / lambda;                  /* turns within the training length */
        double alpha = cfg->opt[OPT_YARN_ALPHA], beta = cfg->opt[OPT_YARN_BETA];
        double gamma = (r - alpha) / (beta - alpha);
        gamma = gamma < 0.0 ? 0.0 : gamma > 1.0 ? 1.0 : gamma;
        return (1.0 - gamma) * theta / F + gamma * theta;
    }
    default:
        return theta;
    }
}

/* Multiplier on q and k: sqrt(1/t) = 0.1 ln F + 1 for YaRN, else 1. */
static double rotary_scale(const PosConfig *cfg) {
    return rotary_variant(cfg) == ROTARY_YARN ? 0.1 * log(cfg->opt[OPT_YARN]) + 1.0 : 1.0;
}

/* Cache (T, 2*(hs/2)): row p = [s*cos(p theta'_0) .. s*cos(p theta'_{hs/2-1}),
 *                              s*sin(p theta'_0) .. s*sin(p theta'_{hs/2-1})],
 * s = rotary_scale. One row per position, so its layout does not depend on T. */
static size_t rotary_cache_size(const PosConfig *cfg, int T) {
    return (size_t)T * (size_t)(2 * (cfg->head_dim / 2));
}

static void rotary_cache_fill(float *cache, const PosConfig *cfg, int T) {
    const int half = cfg->head_dim / 2;
    const double s = rotary_scale(cfg);
    for (int i = 0; i < half; i++) {
        const double th = rotary_theta(cfg, i);
        for (int p = 0; p < T; p++) {
            double a = (double)p * th;   /* in double: exact enough at p ~ 1e5 */
            cache[(size_t)p * 2 * half + i] = (float)(s * cos(a));
            cache[(size_t)p * 2 * half + half + i] = (float)(s * sin(a));
        }
    }
}

/* x (T, hs) in place: out = R(p) x per row p (same for q and k, every head). */
static void rotary_qk_forward(float *x, int T, int head, int is_key, const PosCtx *ctx) {
    pos_rotate_half(x, T, ctx->cfg.head_dim, ctx->cache, (size_t)2 * (ctx->cfg.head_dim / 2), 0);
}

/* dx (T, hs) in place: dx_in = R(p)^T dx_out, i.e. inverting
 *   out[i] = a c - b s,  out[i+h] = b c + a s
 * gives da = c dout[i] + s dout[i+h],  db = -s dout[i] + c dout[i+h]: the same
 * rotation with s -> -s. */
static void rotary_qk_backward(float *dx, int T, int head, int is_key, const PosCtx *ctx) {
    pos_rotate_half(dx, T, ctx->cfg.head_dim, ctx->cache, (size_t)2 * (ctx->cfg.head_dim / 2), 1);
}

static int rotary_check_options(const PosConfig *cfg, char *err, size_t errlen) {
    int active = (cfg->opt[OPT_PI] != 1.0) + (cfg->opt[OPT_NTK] != 1.0) + (cfg->opt[OPT_YARN] != 1.0);
    if (active > 1) {
        snprintf(err, errlen, "only one of pi, ntk, yarn may be given");
        return -1;
    }
    if (cfg->opt[OPT_YARN] != 1.0 && cfg->train_len <= 0) {
        snprintf(err, errlen, "yarn needs the training length, which is not known here");
        return -1;
    }
    if (!(cfg->opt[OPT_YARN_BETA] > cfg->opt[OPT_YARN_ALPHA])) {
        snprintf(err, errlen, "yarn_beta (%g) must exceed yarn_alpha (%g)", cfg->opt[OPT_YARN_BETA],
                 cfg->opt[OPT_YARN_ALPHA]);
        return -1;
    }
    return 0;
}

const PosMethod pos_rotary = {
    .name = "rotary",
    .summary = "rotary q/k rotation, rotate-half pairing, base 10000 (Su et al. 2021)",
    .cache_size = rotary_cache_size,
    .cache_fill = rotary_cache_fill,
    .label = "Rotary",
    .citation = "Su et al. 2021",
    .family = POS_FAMILY_QK,
    .options = rotary_options,
    .check_options = rotary_check_options,
    .qk_forward = rotary_qk_forward,
    .qk_backward = rotary_qk_backward,
};
