/* t5.c — T5's learned relative position bias (Raffel et al., 2020), causal:
 *
 *   bias(h, i, j) = table[bucket(i - j) * NH + h]        j <= i
 *
 * table is a learned (32 buckets, NH) tensor "pos.t5.table", zero-initialised,
 * shared by all layers and added in every layer. The bucketing is that of T5's
 * reference code with bidirectional=false, num_buckets 32, max_distance 128,
 * in float as the reference computes it (n = i - j >= 0):
 *
 *   bucket(n) = n                                              n < 16
 *             = min(31, 16 + (int)(log(n/16) / log(128/16) * 16))  otherwise
 *
 * Half the buckets are exact, the other half logarithmic; every distance from
 * 113 on lands in bucket 31 (112 -> 30, 113 -> 31), so from max_distance 128 on
 * the bias is one constant per head. bias_add uses that: distances < 128 read a
 * per-head lookup built once per call for the distances the tile spans, the
 * rest add one constant.
 *
 * Cache: bucket(n) for n = 0..T-1, stored as floats. Concurrent bias_backward
 * calls must be for different heads (they accumulate into column h of dp[0]).
 */
#include <math.h>
#include <stdio.h>
#include "method.h"

#define T5_BUCKETS 32
#define T5_MAX_EXACT (T5_BUCKETS / 2)
#define T5_MAX_DISTANCE 128

/* The reference bucketing, float arithmetic as in T5's (PyTorch/TF) code. */
static int t5_bucket(int n) {
    if (n < 0) n = 0;                       /* causal: future keys share bucket 0 */
    if (n < T5_MAX_EXACT) return n;
    float v = logf((float)n / (float)T5_MAX_EXACT) / logf((float)T5_MAX_DISTANCE / (float)T5_MAX_EXACT) *
              (float)(T5_BUCKETS - T5_MAX_EXACT);
    int b = T5_MAX_EXACT + (int)v;
    return b < T5_BUCKETS - 1 ? b : T5_BUCKETS - 1;
}

/* One shared tensor; weight decay applies to it, as to every 2-D weight before
 * the per-tensor flag existed (kept so that trained results stay comparable). */
static int t5_tensors(PosTensor *out, const PosConfig *cfg) {
    if (out) out[0] = (PosTensor){.name = "pos.t5.table", .ndim = 2, .shape = {T5_BUCKETS, cfg->n_head},
                                  .per_layer = 0, .decay = 1};
    return 1;
}

/* Cache (T): bucket(n) for distances n < T. */
static size_t t5_cache_size(const PosConfig *cfg, int T) {
    return (size_t)T;
}

static void t5_cache_fill(float *cache, const PosConfig *cfg, int T) {
    for (int n = 0; n < T; n++) cache[n] = (float)t5_bucket(n);
}

/* The distances below T5_MAX_DISTANCE that a tile (i0, ni, j0, nj) spans,
 * [*lo, *hi] (empty when *lo > *hi); all of them are < cache_len. */
static void t5_near_range(int i0, int ni, int j0, int nj, const PosCtx *ctx, int *lo, int *hi) {
    int a = i0 - (j0 + nj - 1), b = i0 + ni - 1 - j0;
    if (a < 0) a = 0;
    if (b > T5_MAX_DISTANCE - 1) b = T5_MAX_DISTANCE - 1;
    if (b > ctx->cache_len - 1) b = ctx->cache_len - 1;
    *lo = a;
    *hi = b;
}

/* Columns c of row i (query) in a tile starting at key j0 with nj keys:
 * d = i - j0 - c; causal c < c_end; distances >= T5_MAX_DISTANCE for c < c_far. */
static void t5_row_split(int i, int j0, int nj, int *c_far, int *c_end) {
    int end = i - j0 + 1;                   /* j <= i */
    if (end > nj) end = nj;
    if (end < 0) end = 0;
    int far = i - j0 - T5_MAX_DISTANCE + 1; /* d >= 128 */
    if (far > end) far = end;
    if (far < 0) far = 0;
    *c_far = far;
    *c_end = end;
}

/* scores (ni, ld) tile: scores[r*ld + c] += bias(h, i0+r, j0+c) for j <= i; j > i untouched. */
/* The near distances in reverse, REV(d) = T5_MAX_DISTANCE - 1 - d: along a row, c up means d
 * down, so rev[REV(i - j0 - c)] = rev[T5_MAX_DISTANCE - 1 - i + j0 + c] walks up with c and the
 * loops over c vectorise (each entry still sees the same additions in the same order). */
#define REV(d) (T5_MAX_DISTANCE - 1 - (d))

static void t5_bias_add(float *scores, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx) {
    const int NH = ctx->cfg.n_head;
    float rev[T5_MAX_DISTANCE];   /* rev[REV(d)] = table[bucket(d), h] for the tile's d < 128 */
    int lo, hi;
    t5_near_range(i0, ni, j0, nj, ctx, &lo, &hi);
    for (int d = lo; d <= hi; d++) rev[REV(d)] = ctx->p[0][(int)ctx->cache[d] * NH + h];
    const float far = ctx->p[0][(T5_BUCKETS - 1) * NH + h];   /* every d >= 128 */
    for (int r = 0; r < ni; r++) {
        const int i = i0 + r;
        float *row = scores + (size_t)r * ld;
        const int base = REV(i - j0);   /* rev[base + c] = rev[REV(i - j0 - c)], >= 0 for c >= c_far */
        int c_far, c_end;
        t5_row_split(i, j0, nj, &c_far, &c_end);
        for (int c = 0; c < c_far; c++) row[c] += far;
        for (int c = c_far; c < c_end; c++) row[c] += rev[base + c];
    }
}

/* sum of x[0..n), eight partial sums so the compiler can vectorise it */
static double t5_sum(const float *x, int n) {
    float acc[8] = {0};
    int c = 0;
    for (; c + 8 <= n; c += 8)
        for (int k = 0; k < 8; k++) acc[k] += x[c + k];
    double s = 0;
    for (int k = 0; k < 8; k++) s += acc[k];
    for (; c < n; c++) s += x[c];
    return s;
}

/* Inverting scores[i, j] += table[bucket(i-j), h]:
 *   dtable[bucket(i-j), h] += dscores[i, j]   for j <= i. */
static void t5_bias_backward(const float *dscores, int ld, int h, int i0, int ni, int j0, int nj,
                             const PosCtx *ctx) {
    double rev[T5_MAX_DISTANCE] = {0};   /* rev[REV(d)]: the sum at distance d < 128 */
    double dfar = 0.0;
    for (int r = 0; r < ni; r++) {
        const int i = i0 + r;
        const float *row = dscores + (size_t)r * ld;
        const int base = REV(i - j0);   /* as in t5_bias_add */
        int c_far, c_end;
        t5_row_split(i, j0, nj, &c_far, &c_end);
        dfar += t5_sum(row, c_far);
        for (int c = c_far; c < c_end; c++) rev[base + c] += row[c];
    }
    const int NH = ctx->cfg.n_head;
    int lo, hi;
    t5_near_range(i0, ni, j0, nj, ctx, &lo, &hi);
    for (int d = lo; d <= hi; d++) ctx->dp[0][(int)ctx->cache[d] * NH + h] += (float)rev[REV(d)];
    ctx->dp[0][(T5_BUCKETS - 1) * NH + h] += (float)dfar;
}

static void t5_inspect_values(char *buf, size_t n, int h, int i, int j, const PosCtx *ctx) {
    snprintf(buf, n, "%d", t5_bucket(i - j));
}

const PosMethod pos_t5 = {
    .name = "t5",
    .summary = "learned bias per head for 32 log-spaced relative-distance buckets (Raffel et al. 2020)",
    .label = "T5 bias",
    .citation = "Raffel et al. 2020",
    .family = POS_FAMILY_BIAS,
    .tensors = t5_tensors,
    .cache_size = t5_cache_size,
    .cache_fill = t5_cache_fill,
    .bias_add = t5_bias_add,
    .bias_backward = t5_bias_backward,
    .inspect_columns = "bucket",
    .inspect_values = t5_inspect_values,
};
