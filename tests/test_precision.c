/* test_precision.c — the matrix-product kernels against the naive product
 * (issue 15): OpenBLAS's sgemm and posbench's bf16 kernels (model/gemm_bf16.c)
 * at odd sizes, in every transpose pair the model uses, with error bounds
 * stated from the number formats; and a short bf16 training run against the
 * same run in fp32.
 *
 * Bounds, per output element c = alpha sum_k a_k b_k + beta c0, with
 * S = |alpha| sum_k |a_k b_k| (in double):
 *   fp32 sgemm (any order of summation):     |c - c_exact| <= (K + 2) 2^-24 S + 2^-23 |beta c0|
 *   bf16 inputs, fp32 accumulation:          |c - c_exact| <= (2u + u^2 + (K + 2) 2^-24) S + 2^-23 |beta c0|
 *     with u = 2^-8, bf16's unit roundoff (8-bit significand): each product's two
 *     roundings cost at most (2u + u^2) |a b|;
 *   the same against the product of the bf16-ROUNDED inputs (bf16_round), where only the
 *   fp32 summation is left: (K + 2) 2^-24 S — this one checks the rounding itself
 *   (nearest even) and every index of the packing.
 * Inputs are normal(0, 1): no denormals, which vdpbf16ps would flush.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "gradcheck.h"
#include "../harness/runtime.h"
#include "../model/gemm_bf16.h"
#include "../model/model.h"
#include "../model/ops.h"

typedef void (*GemmFn)(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

/* Worst |got - exact| / bound over C, the exact product in double from A, B
 * (rounded to bf16 first when `round`); bound as in the file header with `per_product`
 * the rounding share per product (0 for fp32, 2u + u^2 for bf16). */
static double worst_vs_exact(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                             const float *B, int ldb, float beta, const float *C0, const float *C, int ldc, int round,
                             double per_product) {
    double worst = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0, sa = 0;
            for (int k = 0; k < K; k++) {
                float a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                if (round) a = bf16_round(a), b = bf16_round(b);
                s += (double)a * b;
                sa += fabs((double)a * b);
            }
            double c0 = beta * (double)C0[(size_t)i * ldc + j], want = alpha * s + c0;
            double bound = (per_product + (K + 2) * ldexp(1.0, -24)) * fabs(alpha) * sa + ldexp(1.0, -23) * fabs(c0) +
                           1e-30;
            double e = fabs(C[(size_t)i * ldc + j] - want) / bound;
            if (!(e <= worst)) worst = e;   /* NaN counts as the worst */
        }
    return worst;
}

/* fn on every (transA, transB) pair at sizes drawn from `sizes` (padded leading
 * dimensions, beta 0 and nonzero); returns the worst error ratio. */
static double sweep_sizes(GemmFn fn, const int *sizes, int ns, int round, double per_product, Rng *rng) {
    double worst = 0;
    int case_no = 0;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int x = 0; x < ns; x++)
                for (int y = 0; y < ns; y++)
                    for (int z = 0; z < ns; z++, case_no++) {
                        int M = sizes[x], N = sizes[y], K = sizes[z];
                        if ((long)M * N * K > 300000 && (x + y + z) % 3) continue;   /* keep the big cases few */
                        int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
                        float beta = case_no % 2 ? 0.5f : 0.0f, alpha = case_no % 3 ? 1.0f : -0.75f;
                        size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
                        float *A = xmalloc_floats(na), *B = xmalloc_floats(nb), *C0 = xmalloc_floats(nc),
                              *C = xmalloc_floats(nc);
                        fill_normal(A, na, 1.0f, rng);
                        fill_normal(B, nb, 1.0f, rng);
                        fill_normal(C0, nc, 1.0f, rng);
                        if (beta == 0.0f) C0[0] = NAN;   /* beta 0 must not read C */
                        memcpy(C, C0, nc * sizeof(float));
                        fn(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
                        if (beta == 0.0f) C0[0] = 0.0f;
                        double w = worst_vs_exact(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, C, ldc, round,
                                                  per_product);
                        if (!(w <= worst)) worst = w;
                        free(A), free(B), free(C0), free(C);
                    }
    return worst;
}

static const int odd_sizes[] = {1, 2, 7, 16, 33, 65, 129};
#define N_ODD ((int)(sizeof odd_sizes / sizeof odd_sizes[0]))

static void test_sgemm_odd(Rng *rng) {
    int ns = check_quick ? 5 : N_ODD;
    double w = sweep_sizes(sgemm, odd_sizes, ns, 0, 0.0, rng);
    CHECK(w <= 1.0, "sgemm (%s) at sizes 1..%d, every transpose pair: worst error %.3f of the fp32 bound",
          runtime_blas_core(), odd_sizes[ns - 1], w);
    w = sweep_sizes(sgemm_naive, odd_sizes, ns, 0, 0.0, rng);
    CHECK(w <= 1.0, "sgemm_naive at the same sizes: worst error %.3f of the fp32 bound", w);
}

static void test_bf16_kernels(Rng *rng) {
    int ns = check_quick ? 5 : N_ODD;
    if (!gemm_bf16_available()) {
        /* the fallback: sgemm_bf16 is sgemm, bit for bit */
        float A[7 * 9], B[9 * 5], C1[7 * 5], C2[7 * 5];
        fill_normal(A, 63, 1.0f, rng);
        fill_normal(B, 45, 1.0f, rng);
        sgemm_bf16(0, 0, 7, 5, 9, 1.0f, A, 9, B, 5, 0.0f, C1, 5);
        sgemm(0, 0, 7, 5, 9, 1.0f, A, 9, B, 5, 0.0f, C2, 5);
        CHECK(!memcmp(C1, C2, sizeof C1), "sgemm_bf16 without bf16 kernels (%s) is sgemm, bit for bit",
              gemm_bf16_why_not());
        return;
    }
    double u = ldexp(1.0, -8);
    double w = sweep_sizes(sgemm_bf16, odd_sizes, ns, 1, 0.0, rng);
    CHECK(w <= 1.0, "sgemm_bf16 vs the exact product of bf16-rounded inputs, sizes 1..%d, every transpose pair: "
          "worst %.3f of (K+2) 2^-24 sum|ab|", odd_sizes[ns - 1], w);
    w = sweep_sizes(sgemm_bf16, odd_sizes, ns, 0, 2 * u + u * u, rng);
    CHECK(w <= 1.0, "sgemm_bf16 vs the exact fp32-input product: worst %.3f of (2u + u^2 + (K+2) 2^-24) sum|ab|, "
          "u = 2^-8", w);
    /* the model's shapes (quick: d 64, BT 2048; a slice of rows keeps the oracle quick) */
    int C = 64, V = 256, BT = 2048, shapes[][5] = {
        {0, 1, 97, 3 * C, C}, {0, 1, 97, 4 * C, C}, {0, 1, 97, C, 4 * C}, {0, 1, 97, V, C},   /* forward */
        {0, 0, 97, C, 3 * C}, {0, 0, 97, C, 4 * C}, {0, 0, 97, 4 * C, C}, {0, 0, 97, C, V},   /* d input */
        {1, 0, 3 * C, C, BT}, {1, 0, C, 4 * C, BT}, {1, 0, V, C, 301}};                         /* d weight */
    double worst = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int ta = shapes[s][0], tb = shapes[s][1], M = shapes[s][2], N = shapes[s][3], K = shapes[s][4];
        int lda = ta ? M : K, ldb = tb ? K : N;
        size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
        float *A = xmalloc_floats(na), *B = xmalloc_floats(nb), *C0 = xmalloc_floats(nc), *Cb = xmalloc_floats(nc);
        fill_normal(A, na, 1.0f, rng);
        fill_normal(B, nb, 1.0f, rng);
        fill_normal(C0, nc, 1.0f, rng);
        memcpy(Cb, C0, nc * sizeof(float));
        sgemm_bf16(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 1.0f, Cb, N);
        double e = worst_vs_exact(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 1.0f, C0, Cb, N, 0, 2 * u + u * u);
        if (!(e <= worst)) worst = e;
        free(A), free(B), free(C0), free(Cb);
    }
    CHECK(worst <= 1.0, "sgemm_bf16 on the model's shapes (d 64, 4d, vocab 256; forward, d input, d weight with "
          "K = 2048): worst %.3f of the bf16 bound", worst);
}

/* gemm_bf16_prepack: products on a prepacked B operand (odd sizes, both layouts, from inside a
 * parallel region as in data-parallel training) are bit for bit those that pack B themselves;
 * a B not prepacked, or prepacked with another stride, is packed as usual; after the clear, a
 * changed B is read afresh. */
static void test_bf16_prepack(Rng *rng) {
    if (!gemm_bf16_available()) return;
    int same = 1;
    for (int tb = 0; tb <= 1; tb++)
        for (int s = 0; s < 4; s++) {
            int M = 5 + 13 * s, N = 3 + 17 * s, K = 1 + 19 * s, ldb = (tb ? K : N) + s;
            float *A = xmalloc_floats((size_t)M * K), *B = xmalloc_floats((size_t)(tb ? N : K) * ldb),
                  *B2 = xmalloc_floats((size_t)(tb ? N : K) * (ldb + 1)), *C0 = xmalloc_floats((size_t)M * N),
                  *C1 = xmalloc_floats((size_t)M * N), *C2 = xmalloc_floats((size_t)M * N);
            fill_normal(A, (size_t)M * K, 1.0f, rng);
            fill_normal(B, (size_t)(tb ? N : K) * ldb, 1.0f, rng);
            fill_normal(B2, (size_t)(tb ? N : K) * (ldb + 1), 1.0f, rng);
            sgemm_bf16(0, tb, M, N, K, 1.0f, A, K, B, ldb, 0.0f, C0, N);
            gemm_bf16_prepack(B, tb, N, K, ldb);
            gemm_bf16_prepack(B2, tb, N, K, ldb + 1);   /* another stride: never matches below */
#pragma omp parallel num_threads(2)
            {
                float *c = omp_thread_id() ? C2 : C1;
                sgemm_bf16(0, tb, M, N, K, 1.0f, A, K, B, ldb, 0.0f, c, N);
            }
            same &= !memcmp(C0, C1, sizeof(float) * M * N) && !memcmp(C0, C2, sizeof(float) * M * N);
            sgemm_bf16(0, tb, M, N, K, 1.0f, A, K, B2, ldb, 0.0f, C1, N);   /* B2 at ldb: packed as usual */
            gemm_bf16_prepack_clear();
            sgemm_bf16(0, tb, M, N, K, 1.0f, A, K, B2, ldb, 0.0f, C2, N);
            same &= !memcmp(C1, C2, sizeof(float) * M * N);
            for (size_t i = 0; i < (size_t)(tb ? N : K) * ldb; i++) B[i] = -B[i];   /* changed after the clear */
            sgemm_bf16(0, tb, M, N, K, 1.0f, A, K, B, ldb, 0.0f, C1, N);
            for (int i = 0; i < M * N; i++) same &= C1[i] == -C0[i];
            free(A), free(B), free(B2), free(C0), free(C1), free(C2);
        }
    CHECK(same, "sgemm_bf16 on a prepacked B: the bits of packing it per call, on every thread; cleared, B is read again");
}

/* 50 steps of the tiny preset's model (1 layer, d 32, 2 heads, batch 4 x T 16) on
 * a learnable token stream, from the same weights, in fp32 and in bf16. */
static void train_tiny(int bf16, float *losses, int steps) {
    Model m;
    ModelConfig cfg = {.vocab = 256, .n_layer = 1, .n_head = 2, .d_model = 32, .train_len = 16};
    snprintf(cfg.method, sizeof cfg.method, "alibi");
    char err[ERRLEN];
    if (model_build(&m, &cfg, err, sizeof err) != 0) die_internal("%s", err);
    model_init_weights(&m, 3);
    AdamW o;
    adamw_init(&o, &m, 0.1f);
    int B = 4, T = 16, in[64], tg[64];
    ops_set_bf16(bf16);
    for (int step = 0; step < steps; step++) {
        for (int b = 0; b < B; b++)   /* a counting pattern with a stride per sequence: learnable */
            for (int t = 0; t <= T; t++) {
                int x = (97 + 5 * b + step % 7 + t * (1 + b % 3)) % 61;
                if (t < T) in[b * T + t] = x;
                if (t > 0) tg[b * T + t - 1] = x;
            }
        losses[step] = model_forward(&m, in, tg, B, T);
        model_zero_grad(&m);
        model_backward(&m);
        grad_clip(&m, 1.0f);
        adamw_update(&o, &m, lr_schedule(step, 4, steps, 3e-3f, 3e-4f));
    }
    ops_set_bf16(0);
    adamw_free(&o);
    model_free(&m);
}

static void test_bf16_training(void) {
    enum { STEPS = 50 };
    float l32[STEPS], l16[STEPS];
    train_tiny(0, l32, STEPS);
    train_tiny(1, l16, STEPS);
    double worst = 0;
    int differ = 0;
    for (int s = 0; s < STEPS; s++) {
        double r = fabs((double)l16[s] - l32[s]) / l32[s];
        if (!(r <= worst)) worst = r;
        differ |= l16[s] != l32[s];
    }
    /* tolerance: 1% of the loss at every step (measured here: about 0.1%) */
    CHECK(worst <= 0.01 && l32[STEPS - 1] < 0.8 * l32[0],
          "tiny model, 50 steps: bf16 loss within %.3f%% of fp32 at every step (tolerance 1%%); fp32 loss %.3f -> %.3f",
          100 * worst, l32[0], l32[STEPS - 1]);
    if (gemm_bf16_available())
        CHECK(differ, "the bf16 run took the bf16 kernels (its losses are not fp32's bit for bit)");
}

void test_precision(void) {
    Rng rng;
    rng_seed(&rng, 1515);
    test_sgemm_odd(&rng);
    test_bf16_kernels(&rng);
    test_bf16_prepack(&rng);
    test_bf16_training();
}
