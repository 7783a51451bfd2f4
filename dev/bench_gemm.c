/* bench_gemm.c — the matrix products of training on the quick and paper models'
 * shapes (issue 15): each bf16 version (v1 = dev/gemm_bf16_v1.c, cur =
 * model/gemm_bf16.c) checked against the naive fp32 product, then timed against
 * OpenBLAS's fp32 sgemm (whatever kernel set OPENBLAS_CORETYPE selects).
 *
 * Bound per element (model/gemm_bf16.h): |bf16 - naive| <= (2u + u^2 + 2 (K + 2) 2^-24) S,
 * u = 2^-8, S = sum_k |a_k b_k| (the naive product of |A| and |B|); the checks use
 * 301 token rows (odd), the timings the full batch.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "kernels_v0.h"
#include "../common/util.h"
#include "../model/gemm_bf16.h"
#include "../model/ops.h"

typedef void (*Gemm)(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

typedef struct Shape {
    const char *what;
    int ta, tb, M, N, K;   /* C (M, N) = op(A) op(B), K summed */
} Shape;

/* The 13 products of one training step of a d-wide model, BT token rows, vocabulary V. */
static int model_shapes(Shape *s, int BT, int C, int V) {
    Shape all[] = {{"fwd qkv", 0, 1, BT, 3 * C, C},    {"fwd proj", 0, 1, BT, C, C},
                   {"fwd fc", 0, 1, BT, 4 * C, C},     {"fwd fcproj", 0, 1, BT, C, 4 * C},
                   {"fwd logits", 0, 1, BT, V, C},     {"dinp qkv", 0, 0, BT, C, 3 * C},
                   {"dinp fc", 0, 0, BT, C, 4 * C},    {"dinp fcproj", 0, 0, BT, 4 * C, C},
                   {"dinp logits", 0, 0, BT, C, V},    {"dw qkv", 1, 0, 3 * C, C, BT},
                   {"dw fc", 1, 0, 4 * C, C, BT},      {"dw fcproj", 1, 0, C, 4 * C, BT},
                   {"dw logits", 1, 0, V, C, BT}};
    int n = (int)(sizeof all / sizeof all[0]);
    for (int i = 0; i < n; i++) s[i] = all[i];
    return n;
}

static void fill_normal_f(float *x, size_t n, Rng *rng) {
    for (size_t i = 0; i < n; i++) x[i] = rng_normal(rng);
}

/* Worst |fn - naive| over the bound above, on s with the token rows cut to 301. */
static double bound_ratio(Gemm fn, Shape s, Rng *rng) {
    if (s.ta) s.K = 301;
    else s.M = 301;
    int lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
    size_t na = (size_t)s.M * s.K, nb = (size_t)s.K * s.N, nc = (size_t)s.M * s.N;
    float *A = xmalloc_floats(na), *B = xmalloc_floats(nb), *C1 = xmalloc_floats(nc), *C2 = xmalloc_floats(nc),
          *S = xmalloc_floats(nc);
    fill_normal_f(A, na, rng);
    fill_normal_f(B, nb, rng);
    fn(s.ta, s.tb, s.M, s.N, s.K, 1.0f, A, lda, B, ldb, 0.0f, C1, s.N);
    sgemm_naive(s.ta, s.tb, s.M, s.N, s.K, 1.0f, A, lda, B, ldb, 0.0f, C2, s.N);
    for (size_t i = 0; i < na; i++) A[i] = fabsf(A[i]);
    for (size_t i = 0; i < nb; i++) B[i] = fabsf(B[i]);
    sgemm_naive(s.ta, s.tb, s.M, s.N, s.K, 1.0f, A, lda, B, ldb, 0.0f, S, s.N);
    double u = ldexp(1.0, -8), worst = 0;
    for (size_t i = 0; i < nc; i++) {
        double e = fabs((double)C1[i] - C2[i]) / ((2 * u + u * u + 2.0 * (s.K + 2) * ldexp(1.0, -24)) * S[i] + 1e-30);
        if (!(e <= worst)) worst = e;
    }
    free(A), free(B), free(C1), free(C2), free(S);
    return worst;
}

/* Best seconds of fp32 sgemm, v1, cur and fp32 split by rows (sgemm_split_rows) on s,
 * interleaved within each repeat. */
static void time_four(const Shape *s, int reps, const float *A, const float *B, float *C, double t[4]) {
    Gemm fns[4] = {sgemm, sgemm_bf16_v1, sgemm_bf16, sgemm_split_rows};
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    t[0] = t[1] = t[2] = t[3] = 1e30;
    for (int r = 0; r <= reps; r++)
        for (int f = 0; f < 4; f++) {
            double t0 = clock_now();
            fns[f](s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
            double dt = clock_now() - t0;
            if (r > 0 && dt < t[f]) t[f] = dt;   /* the first round warms up */
        }
}

void gemm_check_and_time(int reps, int quick_mode) {
    printf("matrix products of a training step (issue 15): fp32 sgemm (OpenBLAS's threads, and split by rows) vs bf16 "
           "v1 vs bf16 cur%s\n",
           gemm_bf16_available() ? "" : " (bf16 unavailable here: both bf16 columns are fp32 sgemm)");
    /* the presets' batches: quick 4 x 128 token rows, paper 8 x 256 */
    static const struct { const char *preset; int BT, C, V; } models[] = {{"quick", 512, 64, 256},
                                                                         {"paper", 2048, 128, 256}};
    Rng rng;
    rng_seed(&rng, 15);
    float *A = xmalloc_floats((size_t)4096 * 512), *B = xmalloc_floats((size_t)4096 * 512),
          *C = xmalloc_floats((size_t)4096 * 512);
    fill_normal_f(A, (size_t)4096 * 512, &rng);
    fill_normal_f(B, (size_t)4096 * 512, &rng);
    for (int mi = 0; mi < 2; mi++) {
        Shape sh[16];
        int n = model_shapes(sh, models[mi].BT, models[mi].C, models[mi].V);
        double tot[4] = {0, 0, 0, 0};
        for (int i = 0; i < n; i++) {
            char what[96];
            float zero = 0.0f, r[2];
            r[0] = (float)bound_ratio(sgemm_bf16_v1, sh[i], &rng);
            r[1] = (float)bound_ratio(sgemm_bf16, sh[i], &rng);
            snprintf(what, sizeof what, "%s %s v1 vs naive, share of the bf16 bound", models[mi].preset, sh[i].what);
            check(what, &r[0], &zero, 1, 0.0, 1.0);
            snprintf(what, sizeof what, "%s %s cur vs naive, share of the bf16 bound", models[mi].preset, sh[i].what);
            check(what, &r[1], &zero, 1, 0.0, 1.0);
            double t[4];
            time_four(&sh[i], quick_mode ? 2 : reps, A, B, C, t);
            double gf = 2.0 * sh[i].M * sh[i].N * (double)sh[i].K / 1e9;
            printf("  %-5s %-11s %4d x %4d x %4d  fp32 %6.1f  split %6.1f  v1 %6.1f  cur %6.1f GFLOP/s  cur/fp32 %.2fx\n",
                   models[mi].preset, sh[i].what, sh[i].M, sh[i].N, sh[i].K, gf / t[0], gf / t[3], gf / t[1],
                   gf / t[2], t[0] / t[2]);
            for (int f = 0; f < 4; f++) tot[f] += t[f];
        }
        printf("  %-5s all 13 products: fp32 %.2f ms  fp32 split %.2f ms  v1 %.2f ms  cur %.2f ms  cur/fp32 %.2fx\n",
               models[mi].preset, tot[0] * 1e3, tot[3] * 1e3, tot[1] * 1e3, tot[2] * 1e3, tot[0] / tot[2]);
    }
    free(A), free(B), free(C);
}
