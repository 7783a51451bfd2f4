/* alibi.c — Attention with Linear Biases (Press, Smith & Lewis, ICLR 2022):
 *
 *   bias(h, i, j) = -m_h * (i - j)
 *
 * the same in every layer, no parameters. Slopes as the paper's official code
 * (get_slopes): for n heads, n a power of 2,
 *
 *   m_k = 2^(-8k/n),  k = 1..n;
 *
 * otherwise the n' = c slopes of the nearest lower power of two c, followed by
 * every other slope (indices 0, 2, 4, ...) of the 2c set, n - c of them:
 * the 2c set is 2^(-4k/c), so slope c + q (q = 0..n-c-1) is 2^(-4(2q+1)/c).
 *   8 heads:  2^-1, 2^-2, ..., 2^-8
 *   12 heads: 2^-1 .. 2^-8, then 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5
 *   6 heads:  2^-2, 2^-4, 2^-6, 2^-8, then 2^-1, 2^-3
 *
 * Cache: the slopes, (NH). Entries with j > i get the formula too (positive);
 * the attention masks them.
 */
#include <math.h>
#include "method.h"

/* m_h for head h of n, h = 0..n-1. */
static double alibi_slope(int n, int h) {
    int c = 1;
    while (c * 2 <= n) c *= 2;   /* nearest power of two <= n */
    if (h < c) return exp2(-8.0 * (h + 1) / c);
    return exp2(-4.0 * (2 * (h - c) + 1) / c);
}

/* Cache (NH): slopes; independent of T. */
static size_t alibi_cache_size(const PosConfig *cfg, int T) {
    return (size_t)cfg->n_head;
}

static void alibi_cache_fill(float *cache, const PosConfig *cfg, int T) {
    for (int h = 0; h < cfg->n_head; h++) cache[h] = (float)alibi_slope(cfg->n_head, h);
}

/* scores (ni, ld) tile: scores[r*ld + c] += -m_h * (i0 + r - (j0 + c)) = m_h * (j - i). */
static void alibi_bias_add(float *scores, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx) {
    const float m = ctx->cache[h];
    for (int r = 0; r < ni; r++) {
        float *row = scores + (size_t)r * ld;
        const int d0 = j0 - (i0 + r);        /* j - i at c = 0 */
        for (int c = 0; c < nj; c++) row[c] += m * (float)(d0 + c);
    }
}

const PosMethod pos_alibi = {
    .name = "alibi",
    .summary = "fixed linear bias -m_h*(i-j), geometric head slopes (Press et al. 2022)",
    .label = "ALiBi",
    .citation = "Press, Smith & Lewis, ICLR 2022",
    .family = POS_FAMILY_BIAS,
    .cache_size = alibi_cache_size,
    .cache_fill = alibi_cache_fill,
    .bias_add = alibi_bias_add,
};
