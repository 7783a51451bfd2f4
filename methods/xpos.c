/* xpos.c — xPos (Sun et al., 2022, "A Length-Extrapolatable Transformer"):
 * rotary plus a per-dimension exponential decay. For pair i of the head
 * (rotate-half pairing (i, i + hs/2), as our rotary; the authors' torchscale
 * code pairs (2i, 2i+1), which is the same model up to a fixed permutation of
 * the q/k projection rows) and position n:
 *
 *   zeta_i = (i / (hs/2) + 0.4) / 1.4                  (torchscale: (2i + 0.4 hs) / (1.4 hs))
 *   q_n <- zeta_i^( (n - c)/gamma) R(n) q_n
 *   k_n <- zeta_i^(-(n - c)/gamma) R(n) k_n            so q_m . k_n carries zeta_i^((m - n)/gamma)
 *
 * with R(n) the rotary rotation (angle n 10000^(-2i/hs)) and gamma the option
 * `gamma` (the paper's scale_base, default 512; fixed at training).
 *
 * Centring: torchscale scales position n by (n + min_pos), min_pos = -(T // 2)
 * in Python's floor division, i.e. c = ceil(T / 2), so the exponents stay within
 * +-T/(2 gamma) and float32 does not overflow. Here c = ceil(T_c / 2) with T_c
 * the length the cache was filled for: the model fills it for the window length
 * (training: L; evaluation: the longest window so far), so c is the window's
 * centre as in the authors' code. Any c gives the same q.k (it cancels in the
 * product); it only keeps the factors in range. check_len refuses lengths where
 * zeta_0^(-T/(2 gamma)) would exceed e^64 (about T > 100 gamma).
 *
 * Cache (T, 4 (hs/2)): row n = [s cos, s sin] for q, then [cos/s, sin/s] for k,
 * s = zeta_i^((n - c)/gamma), computed in double and rounded once. No
 * parameters; the transform is linear in x, so the backward is the transpose.
 */
#include <math.h>
#include <stdio.h>
#include "method.h"

#define XPOS_BASE 10000.0
#define XPOS_MAX_EXPONENT 64.0

static const PosOption xpos_options[] = {
    {"gamma", 'f', 512.0, 1.0, 1e9, 0, "decay scale base gamma: zeta_i^(n/gamma)"},
    {NULL, 0, 0, 0, 0, 0, NULL},
};

static double xpos_zeta(int i, int half) { return ((double)i / half + 0.4) / 1.4; }

static size_t xpos_cache_size(const PosConfig *cfg, int T) { return (size_t)T * 4 * (cfg->head_dim / 2); }

static void xpos_cache_fill(float *cache, const PosConfig *cfg, int T) {
    const int half = cfg->head_dim / 2;
    const double gamma = cfg->opt[0], c = (T + 1) / 2;
    for (int i = 0; i < half; i++) {
        const double theta = pow(XPOS_BASE, -2.0 * i / cfg->head_dim), lz = log(xpos_zeta(i, half));
        for (int n = 0; n < T; n++) {
            double a = (double)n * theta, s = exp(lz * (n - c) / gamma);
            float *row = cache + (size_t)n * 4 * half;
            row[i] = (float)(s * cos(a));
            row[half + i] = (float)(s * sin(a));
            row[2 * half + i] = (float)(cos(a) / s);
            row[3 * half + i] = (float)(sin(a) / s);
        }
    }
}

static int xpos_check_len(const PosConfig *cfg, int T, char *err, size_t errlen) {
    double worst = ((T + 1) / 2) * -log(xpos_zeta(0, cfg->head_dim / 2)) / cfg->opt[0];
    if (worst <= XPOS_MAX_EXPONENT) return 0;
    snprintf(err, errlen, "xPos scales reach e^%.0f at length %d with gamma %g (float32 range)", worst, T, cfg->opt[0]);
    return -1;
}

/* x (T, hs) in place: q or k rows rotated and scaled (the cache's q or k half). */
static void xpos_qk_forward(float *x, int T, int head, int is_key, const PosCtx *ctx) {
    const int half = ctx->cfg.head_dim / 2;
    pos_rotate_half(x, T, ctx->cfg.head_dim, ctx->cache + (is_key ? 2 * half : 0), (size_t)4 * half, 0);
}

/* dx (T, hs) in place: the transpose of scale * rotation, i.e. the rotation by -a
 * with the same scale (S -> -S). */
static void xpos_qk_backward(float *dx, int T, int head, int is_key, const PosCtx *ctx) {
    const int half = ctx->cfg.head_dim / 2;
    pos_rotate_half(dx, T, ctx->cfg.head_dim, ctx->cache + (is_key ? 2 * half : 0), (size_t)4 * half, 1);
}

const PosMethod pos_xpos = {
    .name = "xpos",
    .summary = "rotary with per-dimension decay zeta_i^(+-n/gamma) on q and k (Sun et al. 2022)",
    .label = "xPos",
    .citation = "Sun et al. 2022",
    .family = POS_FAMILY_QK,
    .options = xpos_options,
    .cache_size = xpos_cache_size,
    .cache_fill = xpos_cache_fill,
    .check_len = xpos_check_len,
    .qk_forward = xpos_qk_forward,
    .qk_backward = xpos_qk_backward,
};
