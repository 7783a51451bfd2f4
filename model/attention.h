/* attention.h — causal multi-head attention with the position method's hooks:
 *   out_i = sum_{j<=i} softmax_j(q_i . k_j / sqrt(hs) + bias(h, i, j)) v_j
 * q and k arrive already transformed by the qk hook (model.c applies it).
 * Tensors head-major: q, k, v, out (B, NH, T, hs), except where a HeadRows says
 * otherwise (the _at calls: training's v, out and their gradients). A data-dependent
 * method's values ctx->data are (B, NH, T); each (b, h) sees sequence b's.
 *
 * Three versions, each checked against the naive one in tests/test_attention.c
 * (and timed against earlier versions by dev/bench_kernels.c):
 *   attention_forward_tiled — evaluation: query tiles x key tiles with an
 *       online softmax; the bias hook is asked per tile; memory O(tile) per
 *       thread plus a K^T copy, never T x T. Key blocks past a row block's
 *       last query are skipped.
 *   attention_forward / _backward — training: the forward saves one
 *       log-sum-exp per row, the backward recomputes P block by block (flash
 *       attention's scheme); scratch is T x T per thread, not per batch x head.
 *   attention_forward_naive, attention_backward_naive — plain loops over a full
 *       (T, T) matrix in double, the oracles.
 * None calls BLAS (see attention.c for why).
 */
#ifndef POSBENCH_ATTENTION_H
#define POSBENCH_ATTENTION_H
#include "../methods/method.h"

#define ATT_TILE_Q 64
#define ATT_TILE_K 128

/* Where head h of sequence b lies in an activation: its row t starts at
 * base + b seq + h head + t ld. Head-major (B, NH, T, hs), or token-major: head h at
 * columns h hs .. of a (B, T, ld) matrix (ld = C for an attention output, 3C for the v
 * part of qkv, whose base is then qkv + 2C). */
typedef struct HeadRows { size_t seq, head; int ld; } HeadRows;
static inline HeadRows rows_head_major(int NH, int T, int hs) {
    return (HeadRows){(size_t)NH * T * hs, (size_t)T * hs, hs};
}
static inline HeadRows rows_token_major(int T, int ld, int hs) { return (HeadRows){(size_t)T * ld, (size_t)hs, ld}; }

/* att (B, NH, T): written, the log-sum-exp of each row's scores, for the backward.
 * q, k, v, out (B, NH, T, hs) head-major. */
void attention_forward(float *out, float *att, const float *q, const float *k, const float *v, int B, int NH,
                       int T, int hs, const PosMethod *pm, const PosCtx *ctx);
/* The same with out and v where outr and vr say (training reads v from qkv and writes the
 * output token-major, so neither is copied between layouts); q, k head-major. */
void attention_forward_at(float *out, HeadRows outr, float *att, const float *q, const float *k, const float *v,
                          HeadRows vr, int B, int NH, int T, int hs, const PosMethod *pm, const PosCtx *ctx);
/* dq, dk, dv (B, NH, T, hs) = gradients, written whole (unlike the ops' backwards, they
 * do not accumulate: the caller need not zero them); ctx->dp[k] += bias gradients when the
 * method has bias parameters and ctx->dp is set (summed per thread, then in
 * thread order: bitwise reproducible for a given thread count); ctx->ddata
 * (B, NH, T) += the gradient of a data-dependent method's values when set.
 * att is the forward's. */
void attention_backward(float *dq, float *dk, float *dv, const float *dout,
                        const float *att, const float *q, const float *k, const float *v, int B, int NH, int T,
                        int hs, const PosMethod *pm, const PosCtx *ctx);
/* The same with dv and v (vr), dout (dor) where the layouts say; dq, dk, q, k head-major. */
void attention_backward_at(float *dq, float *dk, float *dv, const float *dout, HeadRows dor, const float *att,
                           const float *q, const float *k, const float *v, HeadRows vr, int B, int NH, int T, int hs,
                           const PosMethod *pm, const PosCtx *ctx);

/* Tiled, memory linear in T (per-thread tile scratch only). */
void attention_forward_tiled(float *out, const float *q, const float *k, const float *v, int B, int NH, int T,
                             int hs, const PosMethod *pm, const PosCtx *ctx);
/* The same with a sliding window (docs/DEFINITIONS.md, Evaluation-time variants): query i
 * attends to keys i - W < j <= i only; key tiles wholly outside every row's window are
 * skipped. window <= 0 or >= T: plain causal attention, the same numbers as the call above. */
void attention_forward_tiled_window(float *out, const float *q, const float *k, const float *v, int B, int NH,
                                    int T, int hs, const PosMethod *pm, const PosCtx *ctx, int window);
/* The same for query rows >= q_from only (query tiles wholly before it are skipped; the rows
 * before q_from of a tile that reaches past it are computed too, and not to be used). */
void attention_forward_tiled_rows(float *out, const float *q, const float *k, const float *v, int B, int NH, int T,
                                  int hs, const PosMethod *pm, const PosCtx *ctx, int window, int q_from);
/* log-n scaling: q (B, NH, T, hs) row p *= max(1, log p / log L), in place (no change for p <= L). */
void attention_scale_logn(float *q, int B, int NH, int T, int hs, int L);
/* Oracle: plain loops over a full (T, T) matrix per head, allocated inside. */
void attention_forward_naive(float *out, const float *q, const float *k, const float *v, int B, int NH, int T,
                             int hs, const PosMethod *pm, const PosCtx *ctx);
/* Oracle of attention_backward's dq, dk, dv (accumulated, +=) for the upstream gradient
 * dout: S = scale q k^T + bias, P = causal softmax(S), out = P v, all in double from
 * the inputs (no saved state). The bias parameters' gradient is not computed. */
void attention_backward_naive(float *dq, float *dk, float *dv, const float *dout, const float *q, const float *k,
                              const float *v, int B, int NH, int T, int hs, const PosMethod *pm, const PosCtx *ctx);

#endif
