/* learned.c — learned absolute position embeddings, GPT-2 style (Radford et al.,
 * 2019): a table of L_train rows x d_model added to the sqrt(d)-scaled token
 * embeddings,
 *
 *   x[p] += table[p]                        p = 0 .. L_train - 1
 *
 * Tensor "pos.learned.table" {L_train, C}, shared (it is added once, before the
 * first block), initialised N(0, 0.02) as GPT-2's wpe, with weight decay like
 * every other 2-D embedding table here. A window longer than the table has no
 * rows to add: check_len refuses it ("learned table has L rows") and the
 * evaluation records that length as n/a, never reading past the table.
 */
#include <stdio.h>
#include "method.h"

static int learned_tensors(PosTensor *out, const PosConfig *cfg) {
    if (out) out[0] = (PosTensor){.name = "pos.learned.table", .ndim = 2, .shape = {cfg->train_len, cfg->d_model},
                                  .per_layer = 0, .decay = 1};
    return 1;
}

/* N(0, 0.02), GPT-2's initialisation of its position table. */
static void learned_init(float *x, int k, int layer, const PosConfig *cfg, Rng *rng) {
    size_t n = (size_t)cfg->train_len * cfg->d_model;
    for (size_t i = 0; i < n; i++) x[i] = 0.02f * rng_normal(rng);
}

static int learned_check_len(const PosConfig *cfg, int T, char *err, size_t errlen) {
    if (T <= cfg->train_len) return 0;
    snprintf(err, errlen, "learned table has %d rows", cfg->train_len);
    return -1;
}

/* x (T, C) += table[0..T) (T <= L_train, checked by check_len). */
static void learned_embed_forward(float *x, int T, const PosCtx *ctx) {
    const size_t n = (size_t)T * ctx->cfg.d_model;
    const float *tab = ctx->p[0];
    for (size_t k = 0; k < n; k++) x[k] += tab[k];
}

/* Inverting x[p] += table[p]: dtable[p] += dx[p]. */
static void learned_embed_backward(const float *dx, int T, const PosCtx *ctx) {
    const size_t n = (size_t)T * ctx->cfg.d_model;
    float *g = ctx->dp[0];
    for (size_t k = 0; k < n; k++) g[k] += dx[k];
}

const PosMethod pos_learned = {
    .name = "learned",
    .summary = "learned absolute position table (L_train x d) added to token embeddings (GPT-2)",
    .label = "Learned",
    .citation = "Radford et al. 2019 (GPT-2)",
    .family = POS_FAMILY_ABSOLUTE,
    .tensors = learned_tensors,
    .init = learned_init,
    .check_len = learned_check_len,
    .embed_forward = learned_embed_forward,
    .embed_backward = learned_embed_backward,
};
