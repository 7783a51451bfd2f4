/* test_train.c — evaluation windows exactly as docs/DEFINITIONS.md (Evaluation) defines them (every target scored
 * once, by the right window), and a few hundred training steps on real text
 * lowering the loss well below ln(256) for every method. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "../datasets/data.h"
#include "../harness/eval.h"

static void build_small(Model *m, const char *method, int L, int vocab) {
    ModelConfig cfg = {.vocab = vocab, .n_layer = 2, .n_head = 2, .d_model = 32, .train_len = L};
    snprintf(cfg.method, sizeof cfg.method, "%s", method);
    char err[ERRLEN];
    if (model_build(m, &cfg, err, sizeof err) != 0) die_internal("%s", err);
    model_init_weights(m, 42);
    Rng r;
    rng_seed(&r, 9);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] += 0.1f * rng_normal(&r);
}

/* The score of target t (1 <= t < N) by brute force: find the first window that
 * reaches it and evaluate that window alone. */
static double brute_force(Model *m, const uint16_t *x, long N, long W, long S, long *scored) {
    double total = 0;
    *scored = 0;
    int *in = xmalloc(sizeof(int) * (W + 1));
    float *nll = xmalloc_floats(W);
    for (long t = 1; t < N; t++) {
        long s = 0;
        while (!(t >= s + 1 && t <= s + ((N - 1 - s) < W ? N - 1 - s : W))) s += S;
        long w = (N - 1 - s) < W ? N - 1 - s : W;
        for (long i = 0; i <= w; i++) in[i] = x[s + i];
        model_eval_window(m, in, in + 1, (int)w, nll);
        total += nll[t - s - 1];
        (*scored)++;
    }
    free(in);
    free(nll);
    return total;
}

static void check_windows(void) {
    Model m;
    build_small(&m, "alibi", 8, 64);
    uint16_t x[53];
    Rng r;
    rng_seed(&r, 5);
    for (int i = 0; i < 53; i++) x[i] = (uint16_t)(rng_u64(&r) % 64);
    static const long cases[][2] = {{8, 8}, {8, 3}, {8, 1}, {13, 5}, {52, 52}, {7, 7}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        long W = cases[c][0], S = cases[c][1], scored;
        EvalResult res;
        eval_stream(&m, x, 53, W, S, NULL, NULL, &res, NULL);
        double want = brute_force(&m, x, 53, W, S, &scored);
        CHECK(res.scored == 52 && scored == 52, "W=%ld S=%ld scores every token but x[0] once (%ld)", W, S, res.scored);
        CHECK(fabs(res.nll - want) < 1e-4 * fabs(want), "W=%ld S=%ld total NLL %.6f, brute force %.6f", W, S, res.nll, want);
        long windows = (52 + S - 1) / S;   /* starts 0, S, ... until the last target is reached */
        (void)windows;
        CHECK(S == W ? res.processed == 52 : res.processed > 52, "W=%ld S=%ld processed %ld tokens", W, S, res.processed);
    }
    /* per-position loss: nonoverlapping windows of 8 over 53 tokens: 6 full windows + one of 4 */
    double pos_sum[8] = {0};
    long pos_cnt[8] = {0};
    EvalResult res;
    eval_stream(&m, x, 53, 8, 8, pos_sum, pos_cnt, &res, NULL);
    CHECK(pos_cnt[0] == 7 && pos_cnt[3] == 7 && pos_cnt[4] == 6 && pos_cnt[7] == 6,
          "per-position counts (%ld, %ld, %ld, %ld)", pos_cnt[0], pos_cnt[3], pos_cnt[4], pos_cnt[7]);
    double s = 0;
    for (int p = 0; p < 8; p++) s += pos_sum[p];
    CHECK(fabs(s - res.nll) < 1e-6 * fabs(s), "per-position sums add up to the total");
    model_free(&m);
}

static void check_training_lowers_loss(void) {
    Dataset ds;
    char err[ERRLEN];
    data_verbose = 0;
    if (data_open(&ds, "default", "byte", 0, err, sizeof err) != 0) {
        CHECK(0, "open the embedded corpus: %s", err);
        return;
    }
    const DataSplit *train = data_split(&ds, "train");
    int B = 8, T = 32, steps = check_quick ? 60 : 200;
    int *in = xmalloc(sizeof(int) * B * T), *tg = xmalloc(sizeof(int) * B * T);
    for (int i = 0; i < pos_method_count; i++) {
        Model m;
        build_small(&m, pos_methods[i]->name, T, 256);
        model_init_weights(&m, 1);
        AdamW o;
        adamw_init(&o, &m, 0.1f);
        Rng r;
        rng_seed(&r, 77);
        double first = 0, last = 0;
        for (int step = 0; step < steps; step++) {
            data_batch(train, &r, B, T, in, tg);
            float loss = model_forward(&m, in, tg, B, T);
            model_zero_grad(&m);
            model_backward(&m);
            grad_clip(&m, 1.0f);
            adamw_update(&o, &m, lr_schedule(step, 20, steps, 5e-3f, 5e-4f));
            if (step < 10) first += loss / 10;
            if (step >= steps - 10) last += loss / 10;
        }
        double bound = check_quick ? 3.6 : 3.3;
        CHECK(first > 5.0 && last < bound, "%s: loss %.3f -> %.3f after %d steps (want < %.1f; ln 256 = 5.545)",
              pos_methods[i]->name, first, last, steps, bound);
        adamw_free(&o);
        model_free(&m);
    }
    free(in);
    free(tg);
    data_close(&ds);
}

void test_train(void) {
    check_windows();
    check_training_lowers_loss();
}
