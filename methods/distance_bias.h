/* distance_bias.h — helpers for bias methods whose bias depends on the head and
 * the distance d = i - j only (KERPLE): the method tabulates bias(h, d) once per
 * layer and forward call (table_fill), and these turn the tile work into
 * contiguous loads and adds, no log or pow per element.
 *
 * Table layout (NH, T), reversed per head: tab[h*T + (T-1-d)] = bias(h, d), so
 * that along a row of keys (c increasing, d decreasing) the entries are read
 * forward and the compiler vectorises the add, as for ALiBi.
 */
#ifndef POSBENCH_DISTANCE_BIAS_H
#define POSBENCH_DISTANCE_BIAS_H
#include "method.h"

/* (NH, T) floats */
size_t pos_dist_table_size(const PosConfig *cfg, int T);
/* scores (ni, ld) tile: += bias(h, i, j) from ctx->table for j <= i (j > i untouched). */
void pos_dist_bias_add(float *scores, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx);
/* g[d] += sum of dscores over the tile's causal entries at distance d; g (ctx->table_len) doubles, reversed
 * as the table: g[T-1-d]. */
void pos_dist_grad(const float *dscores, int ld, int i0, int ni, int j0, int nj, int T, double *g);

#endif

/* Kernels with two scalars per head, r1 = ctx->p[0][h] and r2 = ctx->p[1][h]
 * (KERPLE's log and power variants): bias(h, d) = f(r1, r2, d). */
typedef double (*PosKernelFn)(double r1, double r2, int d);
/* df/dr1 and df/dr2 at d */
typedef void (*PosKernelGrad)(double r1, double r2, int d, double *g1, double *g2);

/* Tensors "pos.<method>.r1" and ".r2", {NH} each, no weight decay; per layer
 * unless shared is 1. */
int pos_kernel_tensors(PosTensor *out, const char *method, int shared, const PosConfig *cfg);
/* tab (NH, T) reversed: f(r1_h, r2_h, d) for d < T. */
void pos_kernel_table(float *tab, int T, const PosCtx *ctx, PosKernelFn f);
/* dp[0][h] += sum_d G(d) df/dr1, dp[1][h] += sum_d G(d) df/dr2, G(d) the tile's
 * dscores summed per distance over its causal entries. */
void pos_kernel_backward(const float *dscores, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx,
                         PosKernelGrad grad);
