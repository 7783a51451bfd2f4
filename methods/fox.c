/* fox.c — FoX, the Forgetting Transformer (Lin, Nikishin, He & Courville,
 * ICLR 2025, "Forgetting Transformer: Softmax Attention with a Forget Gate"),
 * the basic variant (none of the "Pro" extras: no output gate, output norm,
 * QK-norm or key/value shift):
 *
 *   f_t(h) = sigmoid(w_h . x_t + b_h)       x_t (C): the attention input, the ln1 output
 *   bias(h, i, j) = sum_{l=j+1..i} log f_l(h) = c_i(h) - c_j(h),   c_t = sum_{l<=t} log f_l
 *
 * Initialisation, as the authors' code (github.com/zhixuan-lin/forgetting-transformer,
 * ForgettingAttentionLayer with its default gate type "full"): the gate is a
 * Linear(hidden, heads) with a bias, one per attention layer; its weight is
 * drawn N(0, 0.02) like every linear weight there (initializer_range) and its
 * bias starts at 0, so every gate starts at sigmoid(0) = 1/2. (Their special
 * bias initialisation, spreading decay times between T_min and T_max, is only
 * for the data-independent gate types, not the basic FoX.) Their optimiser
 * groups give the weight weight decay and the bias none; so here.
 *
 * Tensors (k): 0 w {NH, C}, 1 b {NH}; per layer.
 *
 * Hooks: data_forward writes c (NH, T) per sequence (log sigmoid in its stable
 * form, cumulative sums in double, stored as float); bias_add forms c_i - c_j
 * per score, one subtraction, as cheap as ALiBi, and memory stays linear in T.
 * Backward: bias_backward gathers dc_i += sum_j g_ij and dc_j -= sum_i g_ij over
 * the causal entries; data_backward turns dc into dlogf_l = sum_{t>=l} dc_t,
 * dz = dlogf * (1 - f) = dlogf * sigmoid(-z), and then into w, b and x.
 *
 * @torch-reference
 * def fox_logf(P, x, layer):
 *     w, b = P["blocks.%d.pos.fox.w" % layer], P["blocks.%d.pos.fox.b" % layer]
 *     return torch.nn.functional.logsigmoid(x @ w.T + b).transpose(1, 2)       # (B, H, T)
 * def fox_bias(P, x, layer, dtype):
 *     c = torch.cumsum(fox_logf(P, x, layer), dim=-1)
 *     return c[..., :, None] - c[..., None, :]                                # (B, H, T, T)
 * def fox_naive(P, l, h, xs, i, j):
 *     w, b = P["blocks.%d.pos.fox.w" % l][h], P["blocks.%d.pos.fox.b" % l][h]
 *     return sum(-math.log1p(math.exp(-(w @ xs[t] + b))) for t in range(j + 1, i + 1))
 * POS_ENTRY = dict(data_bias=fox_bias, naive_data_bias=fox_naive,
 *                  tensors=[dict(what="w", shape=lambda: (CFG["n_head"], CFG["d_model"]), per_layer=True,
 *                                decay=True, init=lambda rng, shape: 0.3 * rng.standard_normal(shape)),
 *                           dict(what="b", shape=lambda: (CFG["n_head"],), per_layer=True, decay=False,
 *                                init=lambda rng, shape: 1.0 + 0.5 * rng.standard_normal(shape))])
 * @end
 * (The fixture draws w and b larger than the training init, so that the gates
 * differ clearly between tokens and heads.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "method.h"

enum { T_W, T_B };

static int fox_tensors(PosTensor *out, const PosConfig *cfg) {
    if (out) {
        out[T_W] = (PosTensor){"pos.fox.w", 2, {cfg->n_head, cfg->d_model}, 1, 1};
        out[T_B] = (PosTensor){"pos.fox.b", 1, {cfg->n_head, 1}, 1, 0};
    }
    return 2;
}

static void fox_init(float *x, int k, int layer, const PosConfig *cfg, Rng *rng) {
    (void)layer;
    if (k == T_W)
        for (int i = 0; i < cfg->n_head * cfg->d_model; i++) x[i] = 0.02f * rng_normal(rng);
    else
        for (int h = 0; h < cfg->n_head; h++) x[h] = 0.0f;
}

/* z = w_h . x_t + b_h, in double */
static double fox_logit(const PosCtx *ctx, int h, const float *xt) {
    const int C = ctx->cfg.d_model;
    const float *w = ctx->p[T_W] + (size_t)h * C;
    double z = ctx->p[T_B][h];
    for (int c = 0; c < C; c++) z += (double)w[c] * xt[c];
    return z;
}

/* log sigmoid(z) without overflow */
static double log_sigmoid(double z) { return z < 0 ? z - log1p(exp(z)) : -log1p(exp(-z)); }

/* vals (NH, T) = c, the cumulative sums of log f over t; x (T, C). */
static void fox_data_forward(float *vals, const float *x, int T, const PosCtx *ctx) {
    const int C = ctx->cfg.d_model;
    for (int h = 0; h < ctx->cfg.n_head; h++) {
        double c = 0.0;
        for (int t = 0; t < T; t++) {
            c += log_sigmoid(fox_logit(ctx, h, x + (size_t)t * C));
            vals[(size_t)h * T + t] = (float)c;
        }
    }
}

/* scores (ni, ld) tile += c_i - c_j */
static void fox_bias_add(float *scores, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx) {
    const float *c = ctx->data + (size_t)h * ctx->data_len;
    for (int r = 0; r < ni; r++) {
        float *s = scores + (size_t)r * ld;
        const float ci = c[i0 + r], *cj = c + j0;
#pragma omp simd
        for (int k = 0; k < nj; k++) s[k] += ci - cj[k];
    }
}

/* ddata[h, i] += sum_j g_ij, ddata[h, j] -= sum_i g_ij, over j <= i */
static void fox_bias_backward(const float *dscores, int ld, int h, int i0, int ni, int j0, int nj,
                              const PosCtx *ctx) {
    if (!ctx->ddata) return;
    float *dc = ctx->ddata + (size_t)h * ctx->data_len;
    for (int r = 0; r < ni; r++) {
        const float *g = dscores + (size_t)r * ld;
        int n = i0 + r - j0 + 1;   /* causal entries of this row */
        if (n > nj) n = nj;
        double row = 0.0;
        for (int k = 0; k < n; k++) {
            row += g[k];
            dc[j0 + k] -= g[k];
        }
        dc[i0 + r] += (float)row;
    }
}

/* dvals (NH, T) -> dx (T, C) +=, dw, db +=. */
static void fox_data_backward(float *dx, const float *dvals, const float *x, int T, const PosCtx *ctx) {
    const int C = ctx->cfg.d_model;
    double *dz = malloc(sizeof(double) * (size_t)T);
    double *dw = malloc(sizeof(double) * (size_t)C);
    for (int h = 0; h < ctx->cfg.n_head; h++) {
        const float *w = ctx->p[T_W] + (size_t)h * C;
        double acc = 0.0, db = 0.0;
        for (int t = T - 1; t >= 0; t--) {   /* dlogf_t = sum_{t' >= t} dc_t' */
            acc += dvals[(size_t)h * T + t];
            double z = fox_logit(ctx, h, x + (size_t)t * C);
            dz[t] = acc / (1.0 + exp(z));   /* d log sigmoid(z) / dz = sigmoid(-z) */
            db += dz[t];
        }
        memset(dw, 0, sizeof(double) * (size_t)C);
        for (int t = 0; t < T; t++) {
            const float *xt = x + (size_t)t * C;
            float *dxt = dx + (size_t)t * C;
            for (int c = 0; c < C; c++) {
                dw[c] += dz[t] * xt[c];
                dxt[c] += (float)(dz[t] * w[c]);
            }
        }
        if (ctx->dp) {
            float *gw = ctx->dp[T_W] + (size_t)h * C;
            for (int c = 0; c < C; c++) gw[c] += (float)dw[c];
            ctx->dp[T_B][h] += (float)db;
        }
    }
    free(dz);
    free(dw);
}

const PosMethod pos_fox = {
    .name = "fox",
    .summary = "forget gates sigmoid(w.x + b) per head and token; bias = sum of log f between j and i (Lin et al. 2025)",
    .label = "FoX",
    .citation = "Lin et al., ICLR 2025",
    .family = POS_FAMILY_DATA,
    .tensors = fox_tensors,
    .init = fox_init,
    /* c grows like -t |log f|: at 150 positions of N(0,1) test gates its float
     * rounding reaches the default tolerance; 40 positions keep it 10x below */
    .fd = {.max_len = 40},
    .bias_add = fox_bias_add,
    .bias_backward = fox_bias_backward,
    .data_forward = fox_data_forward,
    .data_backward = fox_data_backward,
};
