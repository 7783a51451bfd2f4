/* bench_measure.c — the measurements `posbench bench` makes inside one process
 * (bench.h); each returns the best of its repeats (on a shared machine the
 * fastest run is the one least disturbed by other processes).
 *
 * FLOPs of a training step, per token: 6 N (N = every parameter; the output
 * matrix is the tied embedding, used once per token by the logits matmul) plus
 * attention 6 n_layer T d: forward q.k^T and p.v over the causal half are
 * 2 n_layer T d per token on average, the backward twice that.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/util.h"
#include "../model/attention.h"
#include "../model/model.h"
#include "../model/ops.h"
#include "bench.h"
#include "config.h"
#include "runtime.h"

void shape_of_preset(ModelShape *s, const char *preset) {
    RunConfig c;
    config_init(&c, preset);
    snprintf(s->preset, sizeof s->preset, "%s", preset);
    s->n_layer = c.n_layer;
    s->d_model = c.d_model;
    s->n_head = c.n_head;
    s->vocab = strcmp(c.tokenizer, "bpe") ? 256 : c.bpe_vocab;
    s->batch = c.batch;
    s->T = (int)c.train_lens[0];
}

static void build_model(Model *m, const ModelShape *s, const char *method, int train_len) {
    ModelConfig mc = {.vocab = s->vocab, .n_layer = s->n_layer, .n_head = s->n_head, .d_model = s->d_model,
                      .train_len = train_len};
    snprintf(mc.method, sizeof mc.method, "%s", method);
    char err[ERRLEN];
    if (model_build(m, &mc, err, sizeof err) != 0) die_input("bench: %s", err);
    model_init_weights(m, 1);
}

/* FLOPs of one training step per token (see the file header). */
static double train_flops_per_token(const Model *m, int T) {
    return 6.0 * (double)m->n_params + 6.0 * m->cfg.n_layer * (double)T * m->cfg.d_model;
}

/* Fastest of `steps` full training steps after `warmup` untimed ones (on a shared
 * machine the fastest step is the one least disturbed by other processes). */
TrainResult bench_train(const ModelShape *s, const char *method, int warmup, int steps) {
    Model m;
    AdamW opt;
    build_model(&m, s, method, s->T);
    adamw_init(&opt, &m, 0.1f);
    int B = s->batch, T = s->T;
    int *tok = xmalloc(sizeof(int) * ((size_t)B * T + 1));
    Rng rng;
    rng_seed(&rng, 1234);
    for (int i = 0; i <= B * T; i++) tok[i] = (int)(rng_u64(&rng) % (uint64_t)s->vocab);
    double best = 1e30;
    for (int i = 0; i < warmup + steps; i++) {
        double t0 = now_seconds();
        float loss, norm;
        model_train_step(&m, &opt, tok, tok + 1, B, T, 1e-3f, 1.0f, &loss, &norm);
        double dt = now_seconds() - t0;
        if (i >= warmup && dt < best) best = dt;
    }
    TrainResult r = {.tok_s = (double)B * T / best, .flops_per_token = train_flops_per_token(&m, T),
                     .n_params = m.n_params};
    free(tok);
    adamw_free(&opt);
    model_free(&m);
    return r;
}

/* Best GFLOP/s of C = A B^T (the layout of matmul_forward) over a few square sizes. */
double bench_sgemm_peak(int quick, int *best_n) {
    static const int sizes[] = {512, 1024, 2048};
    double best = 0;
    for (int si = quick ? 1 : 0; si < (quick ? 2 : 3); si++) {
        int n = sizes[si];
        float *A = xmalloc_floats((size_t)n * n), *B = xmalloc_floats((size_t)n * n), *C = xmalloc_floats((size_t)n * n);
        Rng rng;
        rng_seed(&rng, 5);
        for (size_t i = 0; i < (size_t)n * n; i++) A[i] = rng_uniform(&rng), B[i] = rng_uniform(&rng);
        double flops = 2.0 * n * n * (double)n;
        int reps = (int)(1e9 / flops) + 1;
        for (int r = 0; r < (quick ? 3 : 5) + 1; r++) {
            double t0 = now_seconds();
            for (int k = 0; k < reps; k++) sgemm(0, 1, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
            double g = flops * reps / (now_seconds() - t0) / 1e9;
            if (r > 0 && g > best) {   /* the first round warms up */
                best = g;
                if (best_n) *best_n = n;
            }
        }
        free(A);
        free(B);
        free(C);
    }
    return best;
}

/* sgemm against the naive product on the products of the quick and paper models
 * (d 64 and 128; q/k/v, projection, MLP and vocabulary matrices; forward, d input
 * and d weight), with 301 token rows (odd, so every kernel's edge code runs).
 * Both are fp32 sums, each within (K + 2) 2^-24 sum_k |a_k b_k| of the exact
 * product whatever their order; returns the worst |sgemm - naive| over twice
 * that bound (<= 1: correct), sum |a b| taken from the naive product of |A|, |B|. */
double bench_sgemm_check(void) {
    enum { R = 301 };
    double worst = 0;
    for (int C = 64; C <= 128; C *= 2) {
        int shapes[][5] = {{0, 1, R, 3 * C, C}, {0, 1, R, C, C},     {0, 1, R, 4 * C, C}, {0, 1, R, C, 4 * C},
                           {0, 1, R, 256, C},   {0, 0, R, C, 3 * C}, {0, 0, R, C, 4 * C}, {0, 0, R, 4 * C, C},
                           {0, 0, R, C, 256},   {1, 0, 3 * C, C, R}, {1, 0, C, 4 * C, R}, {1, 0, 256, C, R}};
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            int ta = shapes[s][0], tb = shapes[s][1], M = shapes[s][2], N = shapes[s][3], K = shapes[s][4];
            int lda = ta ? M : K, ldb = tb ? K : N;
            size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
            float *A = xmalloc_floats(na), *B = xmalloc_floats(nb), *C1 = xmalloc_floats(nc),
                  *C2 = xmalloc_floats(nc), *S = xmalloc_floats(nc);
            Rng rng;
            rng_seed(&rng, 11 + s);
            for (size_t i = 0; i < na; i++) A[i] = rng_normal(&rng);
            for (size_t i = 0; i < nb; i++) B[i] = rng_normal(&rng);
            sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C1, N);
            sgemm_naive(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C2, N);
            for (size_t i = 0; i < na; i++) A[i] = fabsf(A[i]);
            for (size_t i = 0; i < nb; i++) B[i] = fabsf(B[i]);
            sgemm_naive(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, S, N);
            for (size_t i = 0; i < nc; i++) {
                double e = fabs((double)C1[i] - C2[i]) / (2.0 * (K + 2) * ldexp(1.0, -24) * 1.01 * S[i] + 1e-30);
                if (!(e <= worst)) worst = e;   /* NaN counts as wrong */
            }
            free(A), free(B), free(C1), free(C2), free(S);
        }
    }
    return worst;
}

/* One window of T tokens through model_eval_window: best seconds of `repeats` after one warm-up. */
double bench_eval_window(const ModelShape *s, const char *method, int T, int repeats) {
    Model m;
    build_model(&m, s, method, s->T);
    char err[ERRLEN];
    if (model_check_len(&m, T, err, sizeof err) != 0) die_input("bench: %s at %d: %s", method, T, err);
    int *tok = xmalloc(sizeof(int) * ((size_t)T + 1));
    float *nll = xmalloc_floats(T);
    Rng rng;
    rng_seed(&rng, 77 + (uint64_t)T);
    for (int i = 0; i <= T; i++) tok[i] = (int)(rng_u64(&rng) % (uint64_t)s->vocab);
    double best = 1e30;
    for (int r = 0; r < repeats + 1; r++) {
        double t0 = now_seconds();
        model_eval_window(&m, tok, tok + 1, T, nll);
        double dt = now_seconds() - t0;
        if (r > 0 && dt < best) best = dt;
    }
    free(tok);
    free(nll);
    model_free(&m);
    return best;
}

/* The tiled evaluation attention alone: GFLOP/s over the causal half (2 NH T^2 hs). */
double bench_attention_tiled(const ModelShape *s, const char *method, int T, int repeats) {
    int NH = s->n_head, hs = s->d_model / s->n_head;
    Model m;
    build_model(&m, s, method, s->T);
    model_pos_cache(&m, T);
    PosCtx ctx = model_pos_ctx(&m, 0, 0);
    size_t n = (size_t)NH * T * hs;
    float *q = xmalloc_floats(n), *k = xmalloc_floats(n), *v = xmalloc_floats(n), *o = xmalloc_floats(n);
    Rng rng;
    rng_seed(&rng, 3);
    for (size_t i = 0; i < n; i++) q[i] = rng_normal(&rng), k[i] = rng_normal(&rng), v[i] = rng_normal(&rng);
    double best = 1e30;
    for (int r = 0; r < repeats + 1; r++) {
        double t0 = now_seconds();
        attention_forward_tiled(o, q, k, v, 1, NH, T, hs, m.pos, &ctx);
        double dt = now_seconds() - t0;
        if (r > 0 && dt < best) best = dt;
    }
    free(q), free(k), free(v), free(o);
    model_free(&m);
    return 2.0 * NH * (double)T * T * hs / best / 1e9;
}

int bench_child(const char *what, int quick) {
    if (!strcmp(what, "sgemm")) {   /* checked against the naive product first */
        double check = bench_sgemm_check();
        int n = 0;
        double g = bench_sgemm_peak(quick, &n);
        printf("{\"kind\": \"sgemm\", \"core\": \"%s\", \"gflops\": %.2f, \"n\": %d, \"threads\": %d, "
               "\"check\": %.4g}\n", runtime_blas_core(), g, n, runtime_threads(), isfinite(check) ? check : 1e30);
        return 0;
    }
    char method[64];
    int T, repeats;
    if (sscanf(what, "eval:%63[^:]:%d:%d", method, &T, &repeats) == 3 && T > 0 && repeats > 0) {
        ModelShape s;
        shape_of_preset(&s, "paper");
        double sec = bench_eval_window(&s, method, T, repeats);
        /* the peak as this process's own VmHWM, read last: the parent's wait4 ru_maxrss would also
         * count the parent's pages at fork, which Linux carries over exec */
        printf("{\"kind\": \"eval\", \"method\": \"%s\", \"T\": %d, \"seconds\": %.5f, \"tokens_per_s\": %.1f, "
               "\"vmhwm_kb\": %ld}\n", method, T, sec, T / sec, peak_rss_kb());
        return 0;
    }
    die_input("bench: --child: unknown measurement '%s'", what);
}

