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
 * Evaluation-time options stretch the rotation for lengths beyond training
 * (cfg.variant / cfg.factor = F, set by parse_option; the cache follows them):
 *   pi=F    position interpolation (Chen et al., 2023): a = (p / F) * theta_i
 *   ntk=F   NTK-aware scaling (bloc97, 2023): base 10000 * F^(hs/(hs-2)), so the
 *           highest frequency is unchanged and the lowest one is divided by F
 *   yarn=F  YaRN (Peng et al., 2023), the paper's equations with alpha 1, beta 32:
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

enum { ROTARY_PLAIN = 0, ROTARY_PI = 1, ROTARY_NTK = 2, ROTARY_YARN = 3 };

#define ROTARY_BASE 10000.0
#define ROTARY_PI_CONST 3.14159265358979323846
#define YARN_ALPHA 1.0
#define YARN_BETA 32.0
#define ROTARY_FACTOR_MAX 1e6

/* Effective frequency theta'_i of pair i under cfg's variant (radians per position). */
static double rotary_theta(const PosConfig *cfg, int i) {
    const int hs = cfg->head_dim;
    const double F = cfg->factor;
    const double theta = pow(ROTARY_BASE, -2.0 * i / hs);   /* theta_i = 10000^(-2i/hs) */
    switch (cfg->variant) {
    case ROTARY_PI:
        return theta / F;                                    /* a = (p/F) theta_i */
    case ROTARY_NTK:
        if (hs <= 2) return theta;                           /* only theta_0 = 1 exists */
        return pow(ROTARY_BASE * pow(F, hs / (hs - 2.0)), -2.0 * i / hs);
    case ROTARY_YARN: {
        double lambda = 2.0 * ROTARY_PI_CONST / theta;       /* wavelength in positions */
        double r = cfg->train_len / lambda;                  /* turns within the training length */
        double gamma = (r - YARN_ALPHA) / (YARN_BETA - YARN_ALPHA);
        gamma = gamma < 0.0 ? 0.0 : gamma > 1.0 ? 1.0 : gamma;
        return (1.0 - gamma) * theta / F + gamma * theta;
    }
    default:
        return theta;
    }
}

/* Multiplier on q and k: sqrt(1/t) = 0.1 ln F + 1 for YaRN, else 1. */
static double rotary_scale(const PosConfig *cfg) {
    return cfg->variant == ROTARY_YARN ? 0.1 * log(cfg->factor) + 1.0 : 1.0;
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
    const int hs = ctx->cfg.head_dim, half = hs / 2;
    for (int p = 0; p < T; p++) {
        float *v = x + (size_t)p * hs;                            /* (hs) */
        const float *c = ctx->cache + (size_t)p * 2 * half;       /* (hs/2) cos */
        const float *s = c + half;                                /* (hs/2) sin */
        for (int i = 0; i < half; i++) {
            float a = v[i], b = v[i + half];
            v[i] = a * c[i] - b * s[i];
            v[i + half] = b * c[i] + a * s[i];
        }
    }
}

/* dx (T, hs) in place: dx_in = R(p)^T dx_out, i.e. inverting
 *   out[i] = a c - b s,  out[i+h] = b c + a s
 * gives da = c dout[i] + s dout[i+h],  db = -s dout[i] + c dout[i+h]. */
static void rotary_qk_backward(float *dx, int T, int head, int is_key, const PosCtx *ctx) {
    const int hs = ctx->cfg.head_dim, half = hs / 2;
    for (int p = 0; p < T; p++) {
        float *g = dx + (size_t)p * hs;
        const float *c = ctx->cache + (size_t)p * 2 * half;
        const float *s = c + half;
        for (int i = 0; i < half; i++) {
            float go = g[i], gh = g[i + half];
            g[i] = c[i] * go + s[i] * gh;
            g[i + half] = c[i] * gh - s[i] * go;
        }
    }
}

static int rotary_parse_option(PosConfig *cfg, const char *key, const char *value, char *err, size_t errlen) {
    static const struct { const char *key; int variant; } keys[] = {
        {"pi", ROTARY_PI}, {"ntk", ROTARY_NTK}, {"yarn", ROTARY_YARN},
    };
    int variant = -1;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (strcmp(key, keys[k].key) == 0) variant = keys[k].variant;
    if (variant < 0) {
        snprintf(err, errlen, "unknown option '%s'", key);
        return -1;
    }
    double F;
    if (parse_float(value, 1.0, ROTARY_FACTOR_MAX, &F) != 0) {
        snprintf(err, errlen, "%s: '%s' is not a number from 1 to %g", key, value, ROTARY_FACTOR_MAX);
        return -1;
    }
    if (cfg->variant != ROTARY_PLAIN) {
        snprintf(err, errlen, "%s: only one of pi, ntk, yarn may be given", key);
        return -1;
    }
    if (variant == ROTARY_YARN && cfg->train_len <= 0) {
        snprintf(err, errlen, "yarn needs the training length, which is not known here");
        return -1;
    }
    cfg->variant = variant;
    cfg->factor = (float)F;
    return 0;
}

const PosMethod pos_rotary = {
    .name = "rotary",
    .summary = "rotary q/k rotation, rotate-half pairing, base 10000 (Su et al. 2021)",
    .cache_size = rotary_cache_size,
    .cache_fill = rotary_cache_fill,
    .parse_option = rotary_parse_option,
    .options_help = "pi=F (position interpolation), ntk=F (NTK-aware base), "
                    "yarn=F (YaRN ramp alpha 1 beta 32 + temperature); F >= 1",
    .qk_forward = rotary_qk_forward,
    .qk_backward = rotary_qk_backward,
};
