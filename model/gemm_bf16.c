/* gemm_bf16.c — see gemm_bf16.h. Only this file uses AVX-512-BF16: its
 * functions carry a target attribute, so the rest of the build keeps its
 * flags and a CPU without the instructions never executes one (dispatch is
 * at run time, gemm_bf16_available).
 *
 * Scheme (dev/gemm_bf16_v1.c is the simpler first version, dev/bench_kernels.c
 * checks and times both): vdpbf16ps multiplies 16 lanes of bf16 PAIRS and adds
 * each lane's two products into an fp32 lane, so K is walked in pairs. Both
 * operands are converted to bf16 once per call (vcvtne2ps2bf16) into packed
 * buffers:
 *   A  as 32-bit pairs (a[i][2p], a[i][2p+1]) at Ap[i*sa + p*sk]: row-major
 *      ([M][KP] pairs, sa = KP, sk = 1) for op(A) = A, pair-interleaved rows
 *      ([KP][M] pairs, sa = 1, sk = M) for op(A) = A^T;
 *   B  in tiles of NR = 32 columns, [N/NR][KP][NR][2]: for each pair p one
 *      tile row is two zmm registers, zero beyond N.
 * The kernel keeps an MR x NR = 8 x 32 block of C in 16 zmm accumulators and
 * per pair p loads two B vectors and broadcasts one A pair per row. Threads
 * split the (N tile, M tile) grid; the packing runs in parallel first.
 * KP = ceil(K/2): an odd K is padded with a zero.
 */
#include "gemm_bf16.h"
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "../common/util.h"
#include "ops.h"

#if defined(__x86_64__) && ((defined(__clang__) && __clang_major__ >= 9) || (!defined(__clang__) && __GNUC__ >= 10))
#define HAVE_BF16_KERNELS 1
#include <cpuid.h>
#include <immintrin.h>
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#endif

enum { MR = 8, NR = 32, KC = 256 };

static const char *why_not = "";

#ifdef HAVE_BF16_KERNELS
/* CPUID leaf 7: avx512f (ebx 16), avx512bw (ebx 30); subleaf 1: avx512_bf16 (eax 5);
 * XCR0 bits 1,2,5,6,7: the OS saves SSE, AVX, opmask and zmm state. */
static int cpu_has_bf16(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;   /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xe6u) != 0xe6u) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!(b & (1u << 16)) || !(b & (1u << 30))) return 0;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 5) & 1u;
}
#endif

int gemm_bf16_available(void) {
    static int state = -1;
    if (state >= 0) return state;
    const char *force = getenv("POSBENCH_FORCE_NO_BF16");
    if (force && !strcmp(force, "1")) {
        why_not = "POSBENCH_FORCE_NO_BF16=1";
        return state = 0;
    }
#ifdef HAVE_BF16_KERNELS
    if (!cpu_has_bf16()) {
        why_not = "this CPU has no avx512_bf16";
        return state = 0;
    }
    return state = 1;
#else
    why_not = "this build has no AVX-512-BF16 kernels (not x86-64, or the compiler is too old)";
    return state = 0;
#endif
}

const char *gemm_bf16_why_not(void) {
    gemm_bf16_available();
    return why_not;
}

#ifdef HAVE_BF16_KERNELS

/* Mask of the first n (0..16) lanes. */
static inline __mmask16 lanes16(int n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u); }

/* dst[0 .. 2 KP) = bf16(src[0 .. K)), then a zero when K is odd. */
BF16_TARGET static void cvt_row(uint16_t *dst, const float *src, int K) {
    for (int k = 0; k < K; k += 32) {
        int n = K - k < 32 ? K - k : 32;
        __m512 lo = _mm512_maskz_loadu_ps(lanes16(n), src + k);
        __m512 hi = _mm512_maskz_loadu_ps(lanes16(n - 16 > 0 ? n - 16 : 0), src + k + 16);
        __m512i v = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);   /* lo's 16 values, then hi's */
        int keep = (n + 1) & ~1;
        _mm512_mask_storeu_epi16(dst + k, keep >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << keep) - 1u), v);
    }
}

/* dst[2j] = bf16(r0[j]), dst[2j+1] = bf16(r1[j]) for j < width; zero where j >= n
 * (and for r1 = NULL: the zero row that pads an odd K). */
BF16_TARGET static void cvt_pair_rows(uint16_t *dst, const float *r0, const float *r1, int n, int width) {
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                         21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (int j = 0; j < width; j += 16) {
        int m = n - j < 0 ? 0 : n - j;
        __mmask16 k = lanes16(m);
        __m512 x0 = _mm512_maskz_loadu_ps(k, r0 + j);
        __m512 x1 = r1 ? _mm512_maskz_loadu_ps(k, r1 + j) : _mm512_setzero_ps();
        __m512i v = _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(x1, x0));
        int w = width - j < 16 ? width - j : 16;
        _mm512_mask_storeu_epi16(dst + 2 * j, w >= 16 ? (__mmask32)0xffffffffu : (__mmask32)((1u << (2 * w)) - 1u), v);
    }
}

/* op(A) (M x K) into Ap (see the file header); sets the pair strides. */
BF16_TARGET static void pack_a(uint16_t *Ap, int transA, int M, int K, const float *A, int lda, size_t *sa,
                               size_t *sk, int par) {
    int KP = (K + 1) / 2;
    if (!transA) {
        *sa = (size_t)KP, *sk = 1;
        FOR_SLICES_IF(par, M, id, lo, hi,
                      for (long i = lo; i < hi; i++) cvt_row(Ap + (size_t)i * 2 * KP, A + (size_t)i * lda, K));
    } else {   /* op(A)[i][k] = A[k][i]: pair p interleaves rows 2p and 2p + 1 of A */
        *sa = 1, *sk = (size_t)M;
        FOR_SLICES_IF(par, KP, id, lo, hi, for (long p = lo; p < hi; p++) {
            cvt_pair_rows(Ap + (size_t)p * 2 * M, A + (size_t)2 * p * lda,
                          2 * p + 1 < K ? A + (size_t)(2 * p + 1) * lda : NULL, M, M);
        });
    }
}

/* op(B) (K x N) into NR-column tiles [NT][KP][NR][2]; tmp: per thread 2 KP halves (transB only). */
BF16_TARGET static void pack_b(uint16_t *Bp, int transB, int N, int K, const float *B, int ldb, int par) {
    int KP = (K + 1) / 2, NT = (N + NR - 1) / NR;
    size_t tile = (size_t)KP * NR * 2;   /* halves per tile */
    if (!transB) {   /* op(B)[k][n] = B[k][n]: interleave rows 2p and 2p + 1 */
        FOR_SLICES_IF(par, (long)NT * KP, id, lo, hi, for (long tp = lo; tp < hi; tp++) {
            long t = tp / KP, p = tp % KP;
            const float *r0 = B + (size_t)2 * p * ldb + (size_t)t * NR;
            const float *r1 = 2 * p + 1 < K ? r0 + ldb : NULL;
            cvt_pair_rows(Bp + t * tile + (size_t)p * NR * 2, r0, r1, N - (int)t * NR, NR);
        });
        return;
    }
    /* op(B)[k][n] = B[n][k]: row n of B converted holds column n's pairs, one 32-bit word each */
    memset(Bp + (size_t)(NT - 1) * tile, 0, tile * sizeof(uint16_t));   /* the columns past N stay zero */
    FOR_SLICES_IF(par, N, id, lo, hi, {
        uint32_t *row = xmalloc(sizeof(uint32_t) * (size_t)KP + 64);
        for (long n = lo; n < hi; n++) {
            cvt_row((uint16_t *)row, B + (size_t)n * ldb, K);
            uint32_t *dst = (uint32_t *)(Bp + (size_t)(n / NR) * tile) + n % NR;
            for (int p = 0; p < KP; p++) dst[(size_t)p * NR] = row[p];
        }
        free(row);
    });
}

/* C[0..mr)[0..nc) = alpha * (A rows x B tile) + beta C, over KP pairs. A points at the block's
 * first row; rows past mr repeat the last valid one (computed, never stored). */
BF16_TARGET static void kernel_8x32(int KP, const uint32_t *A, size_t sa, size_t sk, int mr, const uint16_t *Bt,
                                    float *C, int ldc, int nc, float alpha, float beta) {
    __m512 acc[MR][2];
    const uint32_t *ar[MR];
    for (int r = 0; r < MR; r++) {
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
        ar[r] = A + (size_t)(r < mr ? r : mr - 1) * sa;
    }
    for (int p = 0; p < KP; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(Bt + (size_t)p * 64);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(Bt + (size_t)p * 64 + 32);
        size_t at = (size_t)p * sk;
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512bh a = (__m512bh)_mm512_set1_epi32((int)ar[r][at]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, b1);
        }
    }
    __mmask16 m0 = lanes16(nc), m1 = lanes16(nc - 16 > 0 ? nc - 16 : 0);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < mr; r++) {
        float *c = C + (size_t)r * ldc;
        __m512 x0 = _mm512_mul_ps(va, acc[r][0]), x1 = _mm512_mul_ps(va, acc[r][1]);
        if (beta != 0.0f) {
            x0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, c), x0);
            x1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, c + 16), x1);
        }
        _mm512_mask_storeu_ps(c, m0, x0);
        _mm512_mask_storeu_ps(c + 16, m1, x1);
    }
}

/* Growable packing buffers, reused across calls: one pair per thread, since inside a
 * parallel region (data-parallel training) each thread runs its own products. */
static uint16_t *grow(uint16_t **buf, size_t *cap, size_t halves) {
    if (halves > *cap) {
        free(*buf);
        *cap = halves + halves / 4;
        if (posix_memalign((void **)buf, 64, *cap * sizeof(uint16_t)) != 0) die_internal("out of memory (bf16 packing)");
    }
    return *buf;
}

/* B operands packed ahead (gemm_bf16_prepack): filled outside parallel regions, read by every
 * thread's products until gemm_bf16_prepack_clear. */
typedef struct Prepacked {
    const float *B;
    int transB, N, K, ldb;
    uint16_t *Bp;
    size_t cap;
} Prepacked;
static Prepacked *prepacked;
static int n_prepacked, cap_prepacked;

static size_t packed_b_halves(int N, int K) { return (size_t)((N + NR - 1) / NR) * ((K + 1) / 2) * NR * 2; }

static const uint16_t *find_prepacked(const float *B, int transB, int N, int K, int ldb) {
    for (int i = 0; i < n_prepacked; i++) {
        const Prepacked *e = &prepacked[i];
        if (e->B == B && e->transB == transB && e->N == N && e->K == K && e->ldb == ldb) return e->Bp;
    }
    return NULL;
}

static void sgemm_bf16_run(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                           const float *B, int ldb, float beta, float *C, int ldc) {
    static _Thread_local uint16_t *bufA, *bufB;
    static _Thread_local size_t capA, capB;
    int KP = (K + 1) / 2, NT = (N + NR - 1) / NR, MT = (M + MR - 1) / MR;
    int par = (long)M * N * K > 65536;   /* else serial: a team would cost more than it saves */
    uint16_t *Ap = grow(&bufA, &capA, (size_t)M * 2 * KP);
    size_t sa, sk;
    pack_a(Ap, transA, M, K, A, lda, &sa, &sk, par);
    const uint16_t *Bp = find_prepacked(B, transB, N, K, ldb);
    if (!Bp) {
        uint16_t *b = grow(&bufB, &capB, packed_b_halves(N, K));
        pack_b(b, transB, N, K, B, ldb, par);
        Bp = b;
    }
    const uint32_t *A32 = (const uint32_t *)Ap;
    /* K in blocks of KC pairs, so a block's A strip (MR x KC) and B tile (KC x NR) stay in
     * L1/L2; within a block the larger operand is walked once (outer loop), the smaller
     * re-read from cache. Later blocks add into C (beta 1). */
    int m_outer = M >= N;
    FOR_SLICES_IF(par, (long)NT * MT, id, lo, hi, {   /* a thread's tiles, block after block */
        for (int p0 = 0; p0 < KP; p0 += KC) {
            int kc = KP - p0 < KC ? KP - p0 : KC;
            float bk = p0 ? 1.0f : beta;
            for (long t = lo; t < hi; t++) {
                int tn = (int)(m_outer ? t % NT : t / MT), tm = (int)(m_outer ? t / NT : t % MT);
                int i0 = tm * MR, j0 = tn * NR;
                kernel_8x32(kc, A32 + (size_t)i0 * sa + (size_t)p0 * sk, sa, sk, M - i0 < MR ? M - i0 : MR,
                            Bp + ((size_t)tn * KP + p0) * NR * 2, C + (size_t)i0 * ldc + j0, ldc,
                            N - j0 < NR ? N - j0 : NR, alpha, bk);
            }
        }
    });
}
#endif

void gemm_bf16_prepack(const float *B, int transB, int N, int K, int ldb) {
#ifdef HAVE_BF16_KERNELS
    if (N <= 0 || K <= 0 || !gemm_bf16_available() || omp_nested() || find_prepacked(B, transB, N, K, ldb)) return;
    if (n_prepacked == cap_prepacked) {
        int old = cap_prepacked;
        cap_prepacked = old ? 2 * old : 16;
        prepacked = xrealloc(prepacked, sizeof(Prepacked) * (size_t)cap_prepacked);
        memset(prepacked + old, 0, sizeof(Prepacked) * (size_t)(cap_prepacked - old));
    }
    Prepacked *e = &prepacked[n_prepacked++];   /* keeps the buffer of an entry cleared before */
    e->B = B, e->transB = transB, e->N = N, e->K = K, e->ldb = ldb;
    pack_b(grow(&e->Bp, &e->cap, packed_b_halves(N, K)), transB, N, K, B, ldb, (long)N * K > 4096);
#else
    (void)B, (void)transB, (void)N, (void)K, (void)ldb;
#endif
}

void gemm_bf16_prepack_clear(void) {
#ifdef HAVE_BF16_KERNELS
    n_prepacked = 0;
#endif
}

void sgemm_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                int ldb, float beta, float *C, int ldc) {
#ifdef HAVE_BF16_KERNELS
    if (M > 0 && N > 0 && K > 0 && gemm_bf16_available()) {
        sgemm_bf16_run(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
