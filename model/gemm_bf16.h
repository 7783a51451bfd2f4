/* gemm_bf16.h — matrix products with bf16 inputs and fp32 accumulation, on the
 * CPU's AVX-512-BF16 instructions (vdpbf16ps), for `precision = bf16`
 * training. Debian's OpenBLAS exports no sbgemm, so posbench has its own.
 *
 * The rounding: each input element is rounded to bf16 (round to nearest even,
 * an 8-bit significand: unit roundoff u = 2^-8); pairs of products are summed
 * exactly and added into an fp32 accumulator. Per output element,
 *   |C - C_exact| <= (2u + u^2 + K 2^-23) sum_k |a_k b_k|   (times |alpha|)
 * which tests/test_ops.c checks against a double-precision reference.
 * vdpbf16ps treats denormal inputs as zero and flushes denormal results,
 * which adds at most K x 2^-126 in absolute terms.
 */
#ifndef POSBENCH_GEMM_BF16_H
#define POSBENCH_GEMM_BF16_H
#include <stdint.h>
#include <string.h>

/* 1 when the bf16 kernels can run: built for x86-64 with a compiler that has
 * them, the CPU reports avx512f, avx512bw and avx512_bf16 with the OS saving
 * the AVX-512 state, and POSBENCH_FORCE_NO_BF16 is not 1 (the tests force the
 * fallback path with it). Checked once. */
int gemm_bf16_available(void);
/* Why not, in a few words ("" when available). */
const char *gemm_bf16_why_not(void);

/* Row-major C = alpha op(A) op(B) + beta C, the signature of sgemm (ops.h),
 * with A and B rounded to bf16. When the kernels are not available this IS
 * sgemm (fp32): callers decide once whether to announce the fallback.
 * Outside a parallel region it runs its own; inside one, on the calling thread alone. */
void sgemm_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                int ldb, float beta, float *C, int ldc);

/* Pack op(B) (K x N, from B with ldb) ahead, for every later sgemm_bf16 whose B operand is the
 * same (pointer, transB, N, K, ldb), until gemm_bf16_prepack_clear: a step's weights are then
 * converted once, not once per thread (data-parallel training). The caller must not change B
 * before the clear. Outside parallel regions only; a no-op where the kernels are unavailable. */
void gemm_bf16_prepack(const float *B, int transB, int N, int K, int ldb);
void gemm_bf16_prepack_clear(void);

/* x rounded to the nearest bf16 (ties to even), returned as a float: the
 * scalar model of what the kernels' conversion does (NaN stays NaN). */
static inline float bf16_round(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return x;   /* NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

#endif
