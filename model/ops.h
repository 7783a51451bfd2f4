/* ops.h — the model's operations as forward/backward pairs (STYLE.md).
 * Argument order: outputs, then inputs and weights, then sizes. Gradients take
 * a `d` prefix. Every *_backward ACCUMULATES (+=) into its gradient outputs.
 * BT = batch x time rows, C = channels, OC = output channels, V = vocab.
 */
#ifndef POSBENCH_OPS_H
#define POSBENCH_OPS_H
#include <stddef.h>

/* Row-major C = alpha * op(A) op(B) + beta * C, op = transpose when trans* != 0.
 * sgemm goes to cblas_sgemm when built with BLAS; sgemm_naive is the oracle. */
void sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
           int ldb, float beta, float *C, int ldc);
void sgemm_naive(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);
/* 1 when sgemm runs through BLAS. */
int sgemm_uses_blas(void);

/* out (BT, C) = scale * wte[tokens] */
void encoder_forward(float *out, const int *tokens, const float *wte, float scale, int BT, int C);
/* dwte (V, C) += scale * dout rows scattered by token */
void encoder_backward(float *dwte, const float *dout, const int *tokens, float scale, int BT, int C);

/* out (BT, C) = (inp - mean) * rstd * w + b;  mean, rstd (BT) saved for backward */
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                       int BT, int C);
void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                        const float *mean, const float *rstd, int BT, int C);

/* out (BT, OC) = inp (BT, C) @ w^T (w: OC x C, nn.Linear layout) + bias (OC, may be NULL) */
void matmul_forward(float *out, const float *inp, const float *w, const float *bias, int BT, int C, int OC);
/* dinp (BT,C) += dout @ w;  dw (OC,C) += dout^T @ inp;  dbias (OC) += colsum(dout) (dbias may be NULL) */
void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
                     int BT, int C, int OC);

/* out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (GELU, tanh approximation) */
void gelu_forward(float *out, const float *inp, size_t N);
void gelu_backward(float *dinp, const float *inp, const float *dout, size_t N);

/* out = a + b */
void residual_forward(float *out, const float *a, const float *b, size_t N);

/* losses (BT) = logsumexp(logits) - logits[target]; lse (BT) saved. logits (BT, V) */
void crossentropy_forward(float *losses, float *lse, const float *logits, const int *targets, int BT, int V);
/* dlogits (BT, V) += dloss * (softmax(logits) - onehot(target)) */
void crossentropy_backward(float *dlogits, const float *logits, const float *lse, const int *targets, float dloss,
                           int BT, int V);

/* Layout changes between token-major (B, T, C) and head-major (B, NH, T, hs). */
void split_heads(float *q, float *k, float *v, const float *qkv, int B, int T, int NH, int hs); /* qkv (B,T,3C) */
void merge_heads_grad(float *dqkv, const float *dq, const float *dk, const float *dv, int B, int T, int NH, int hs);
void heads_to_tokens(float *out, const float *inp, int B, int T, int NH, int hs);   /* (B,NH,T,hs)->(B,T,C) */
void tokens_to_heads(float *out, const float *inp, int B, int T, int NH, int hs);   /* (B,T,C)->(B,NH,T,hs) */

#endif
