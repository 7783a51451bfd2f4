/* gemm_bf16_v1.c — the first bf16 product (issue 15), kept as the baseline of
 * model/gemm_bf16.c: both operands converted to bf16 rows that run along K
 * (op(A) as [M][K], op(B)^T as [N][K], an odd K padded with a zero), then every
 * C element one dot product: vdpbf16ps over 32 K values at a time into 16 fp32
 * lanes, reduced at the end. No register blocking: each A and B row is re-read
 * for every output, and each output pays a horizontal sum. Same contract and
 * signature as sgemm_bf16; falls back to sgemm without the instructions.
 * Not part of posbench.
 */
#include <stdint.h>
#include <stdlib.h>
#include "kernels_v0.h"
#include "../common/util.h"
#include "../model/gemm_bf16.h"
#include "../model/ops.h"

#if defined(__x86_64__) && ((defined(__clang__) && __clang_major__ >= 9) || (!defined(__clang__) && __GNUC__ >= 10))
#include <immintrin.h>
#define V1_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/* dst[0..KP) bf16 pairs of x[k * stride], k < K (zero beyond). */
V1_TARGET static void to_bf16(uint16_t *dst, const float *x, size_t stride, int K, int KP2) {
    for (int k = 0; k < KP2; k++) {
        float v = k < K ? x[(size_t)k * stride] : 0.0f;
        __m128bh h = _mm_cvtneps_pbh(_mm_set1_ps(v));
        dst[k] = (uint16_t)_mm_extract_epi16((__m128i)h, 0);
    }
}

V1_TARGET static void run_v1(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                             const float *B, int ldb, float beta, float *C, int ldc) {
    int KP2 = (K + 31) / 32 * 32;   /* halves per row, whole 32-value chunks */
    uint16_t *a = xmalloc(sizeof(uint16_t) * (size_t)M * KP2), *b = xmalloc(sizeof(uint16_t) * (size_t)N * KP2);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < M; i++)
        to_bf16(a + (size_t)i * KP2, transA ? A + i : A + (size_t)i * lda, transA ? (size_t)lda : 1, K, KP2);
#pragma omp parallel for schedule(static)
    for (int j = 0; j < N; j++)
        to_bf16(b + (size_t)j * KP2, transB ? B + (size_t)j * ldb : B + j, transB ? 1 : (size_t)ldb, K, KP2);
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            __m512 acc = _mm512_setzero_ps();
            for (int k = 0; k < KP2; k += 32)
                acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_loadu_si512(a + (size_t)i * KP2 + k),
                                       (__m512bh)_mm512_loadu_si512(b + (size_t)j * KP2 + k));
            float *c = C + (size_t)i * ldc + j, s = alpha * _mm512_reduce_add_ps(acc);
            *c = beta == 0.0f ? s : s + beta * *c;
        }
    free(a);
    free(b);
}
#endif

void sgemm_bf16_v1(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc) {
#ifdef V1_TARGET
    if (M > 0 && N > 0 && K > 0 && gemm_bf16_available()) {
        run_v1(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
