/* sinusoidal.c — fixed sinusoidal absolute positions (Vaswani et al., 2017), in
 * fairseq's "halves" layout, added to the (sqrt(d)-scaled) token embeddings:
 *
 *   PE(p)[i]       = sin(p * w_i)        i < d/2
 *   PE(p)[d/2 + i] = cos(p * w_i)        w_i = 10000^(-2i/d),  p = 0, 1, ...
 *
 * (For odd d the last column is 0, as fairseq pads it.) The table is the
 * method's cache, computed in double and rounded once, so it is accurate to
 * float precision even at positions in the tens of thousands.
 *
 * No parameters: embed_backward is NULL. The model adds PE to x, so the
 * gradient reaching the sum flows on to the token embeddings unchanged.
 */
#include <math.h>
#include "method.h"

/* The cache is the PE table itself: (T, C). */
static size_t sinusoidal_cache_size(const PosConfig *cfg, int T) {
    return (size_t)T * (size_t)cfg->d_model;
}

static void sinusoidal_cache_fill(float *cache, const PosConfig *cfg, int T) {
    const int C = cfg->d_model, half = C / 2;
    for (int p = 0; p < T; p++) {
        float *row = cache + (size_t)p * C;   /* (C) */
        for (int i = 0; i < half; i++) {
            double w = pow(10000.0, -2.0 * i / C);   /* w_i = 10000^(-2i/d) */
            double a = (double)p * w;
            row[i] = (float)sin(a);
            row[half + i] = (float)cos(a);
        }
        if (C % 2) row[C - 1] = 0.0f;
    }
}

/* x (T, C) += PE (T, C); the cache covers T <= cache_len. */
static void sinusoidal_embed_forward(float *x, int T, const PosCtx *ctx) {
    const size_t n = (size_t)T * (size_t)ctx->cfg.d_model;
    const float *pe = ctx->cache;   /* (cache_len, C) */
    for (size_t k = 0; k < n; k++) x[k] += pe[k];
}

const PosMethod pos_sinusoidal = {
    .name = "sinusoidal",
    .summary = "fixed sin/cos absolute positions added to token embeddings (Vaswani et al. 2017)",
    .label = "Sinusoidal",
    .citation = "Vaswani et al. 2017",
    .family = POS_FAMILY_ABSOLUTE,
    .cache_size = sinusoidal_cache_size,
    .cache_fill = sinusoidal_cache_fill,
    .embed_forward = sinusoidal_embed_forward,
};
