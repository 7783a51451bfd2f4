/* test_probe.c — retrieval probes and evaluation-time variants: where a probe plants its strings,
 * what it scores, its chance level; a scorer that copies (an induction rule) gets accuracy 1 and
 * one that never copies 0; the Wilson interval against hand values; probes.csv's columns;
 * variants with neutral settings give the base method's numbers bit for bit; windowed attention
 * against the naive oracle with the window as a -inf mask; log-n scaling's factors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "../common/runfiles.h"
#include "../harness/probe.h"
#include "../harness/variant.h"
#include "../model/attention.h"
#include "gradcheck.h"
#include "pos_bound.h"

/* Filler text for the tests: all 'Q' (no planted character ever occurs in it). */
static uint16_t *filler(size_t n) {
    uint16_t *t = xmalloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++) t[i] = 'Q';
    return t;
}

/* An induction-head rule: predict the token that followed the earlier position whose preceding
 * tokens match the longest suffix ending at t (the latest on a tie). A copier by construction. */
static void induction_scorer(void *ctx, const int *in, const int *tgt, int T, int shared, float *nll, int *top1,
                             int from) {
    for (int t = 0; t < T; t++) {
        nll[t] = 0.0f;
        if (t < from) continue;
        int best = -1, best_len = 0;
        for (int j = t - 1; j >= 0; j--) {
            int len = 0;
            while (len <= j && in[j - len] == in[t - len]) len++;
            if (len > best_len) best_len = len, best = j;
        }
        top1[t] = best >= 0 ? in[best + 1] : 'Q';
    }
}

/* Never copies: always predicts the filler token. */
static void never_scorer(void *ctx, const int *in, const int *tgt, int T, int shared, float *nll, int *top1, int from) {
    for (int t = 0; t < T; t++) nll[t] = 1.0f, top1[t] = 'Q';
}

static void check_copy_layout(void) {
    long T = 200, D = 50;
    int k = 16, x[201];
    uint16_t *text = filler(1000);
    Rng rng;
    rng_seed(&rng, 3);
    ProbeLayout lay;
    CHECK(probe_build(PROBE_COPY, T, D, k, text, 1000, &rng, x, &lay) == 0, "copy probe T=200 D=50 builds");
    CHECK(lay.second == T + 1 - k && lay.second - (lay.first + k) == D, "copy: second copy ends the window (at %ld), "
          "D tokens after the first (%ld)", lay.second, lay.first);
    int same = 1, alpha = 1, fill = 1;
    for (int i = 0; i < k; i++) {
        same &= x[lay.first + i] == x[lay.second + i];
        alpha &= strchr(PROBE_COPY_ALPHABET, x[lay.first + i]) != NULL && x[lay.first + i] != 0;
    }
    for (long i = 0; i <= T; i++)
        if (i < lay.first || (i >= lay.first + k && i < lay.second)) fill &= x[i] == 'Q';
    CHECK(same && alpha && fill, "copy: the second copy repeats the first (%d), both from the alphabet (%d), "
          "filler elsewhere (%d)", same, alpha, fill);
    CHECK(lay.score_from == lay.second, "copy: scoring starts at the second copy's first token as input");
    CHECK(probe_max_distance(PROBE_COPY, T, k) == T - 2 * k, "copy: the largest distance is T - 2k");
    CHECK(probe_build(PROBE_COPY, T, T - 2 * k + 1, k, text, 1000, &rng, x, &lay) == -1, "copy: D > T - 2k refused");
    long d[16];
    int nd = probe_default_distances(PROBE_COPY, 256, k, d, 16);
    CHECK(nd == 4 && d[0] == 16 && d[3] == 128, "default distances at T=256: 16..128 (%d)", nd);
    free(text);
}

static void check_passkey_layout(void) {
    long T = 120, D = 30;
    int x[121];
    uint16_t *text = filler(500);
    Rng rng;
    rng_seed(&rng, 5);
    ProbeLayout lay;
    CHECK(probe_build(PROBE_PASSKEY, T, D, 16, text, 500, &rng, x, &lay) == 0, "passkey probe builds");
    size_t intro = strlen(PROBE_PASSKEY_INTRO);
    int ok = lay.second + (long)intro + PROBE_PASSKEY_DIGITS == T + 1 && lay.score_from == T - PROBE_PASSKEY_DIGITS;
    for (int i = 0; i < PROBE_PASSKEY_DIGITS; i++) {
        int a = x[lay.first + intro + i], b = x[lay.second + intro + i];
        ok &= a == b && a >= '0' && a <= '9';
    }
    ok &= x[lay.first + intro + 5] == '.' && x[lay.first + intro + 6] == ' ';
    ok &= lay.second - (lay.first + (long)intro + 7) == D;
    CHECK(ok, "passkey: the key's digits end the window and repeat the first sentence's, D tokens after it");
    free(text);
}

/* Scorers on 20 probes: the copier gets 1, the non-copier 0. */
static void check_scorers(void) {
    uint16_t *text = filler(3000);
    for (int kind = 0; kind < PROBE_KINDS; kind++) {
        Rng rng;
        ProbeStats st;
        rng_seed(&rng, 11);
        probe_run(kind, 300, 64, 16, 20, text, 3000, &rng, induction_scorer, NULL, &st);
        CHECK(st.n == 20 && st.correct == st.tokens && st.exact == 20 && st.tokens == 20 * (kind == PROBE_COPY ? 15 : 5),
              "%s: a copying scorer is right on all %ld scored tokens (%ld)", probe_kind_name(kind), st.tokens, st.correct);
        rng_seed(&rng, 11);
        probe_run(kind, 300, 64, 16, 20, text, 3000, &rng, never_scorer, NULL, &st);
        CHECK(st.correct == 0 && st.exact == 0 && fabs(st.nll / st.tokens - 1.0) < 1e-12,
              "%s: a scorer that never copies gets 0 (%ld); NLL is the scored tokens' mean", probe_kind_name(kind), st.correct);
    }
    free(text);
}

/* The training mixture: one string of k alphabet tokens planted twice, the rest untouched. */
static void check_plant(void) {
    int x[129], ok = 1;
    Rng rng;
    rng_seed(&rng, 17);
    for (int trial = 0; trial < 50; trial++) {
        for (int i = 0; i < 129; i++) x[i] = 'Q';
        probe_plant_copy(x, 129, 16, &rng);
        int first = 1;
        while (first < 129 && x[first] == 'Q') first++;
        int second = first + 16;
        while (second < 129 && x[second] == 'Q') second++;
        int planted = 0;
        for (int i = 0; i < 129; i++) planted += x[i] != 'Q';
        ok &= x[0] == 'Q' && second + 16 <= 129 && planted == 32 &&
              !memcmp(x + first, x + second, 16 * sizeof(int));
        for (int i = 0; i < 16 && ok; i++) ok &= strchr(PROBE_COPY_ALPHABET, x[first + i]) != NULL;
    }
    CHECK(ok, "train_copy_mix: a random alphabet string planted twice, after position 0, inside the window");
}

static void check_wilson(void) {
    /* hand values, z = 1.959964 (e.g. 5/10: Wilson's (0.2366, 0.7634)) */
    static const struct { long k, n; double lo, hi; } w[] = {
        {0, 10, 0.0, 0.27753}, {5, 10, 0.23659, 0.76341}, {10, 10, 0.72247, 1.0}, {1, 50, 0.00354, 0.10495}};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        double lo, hi;
        wilson_interval(w[i].k, w[i].n, &lo, &hi);
        CHECK(fabs(lo - w[i].lo) < 1e-5 && fabs(hi - w[i].hi) < 1e-5, "Wilson %ld/%ld: (%.5f, %.5f), want (%.5f, %.5f)",
              w[i].k, w[i].n, lo, hi, w[i].lo, w[i].hi);
    }
}

/* probes.csv: the header, and rows with every column; chance levels. */
static void check_rows(void) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    runfile_header(f, probes_cols, PR_N_COLS);
    ProbeStats st = {.n = 4, .tokens = 20, .correct = 10, .exact = 1, .nll = 10.0};
    probe_write_rows(f, "rotary+pi=2", 128, 1, PROBE_PASSKEY, 256, 32, 16, &st);
    probe_write_rows(f, "alibi", 128, 1, PROBE_COPY, 256, 32, 16, &st);
    fclose(f);
    const char *want_head = "method,train_len,seed,kind,T,D,n,nll,acc,lo,hi,chance\n";
    CHECK(!strncmp(text, want_head, strlen(want_head)), "probes.csv header: %.60s", text);
    int rows = 0, fields_ok = 1;
    for (char *l = strchr(text, '\n') + 1; *l; l = strchr(l, '\n') + 1, rows++) {
        int n = 1;
        for (char *c = l; *c != '\n'; c++) n += *c == ',';
        fields_ok &= n == PR_N_COLS;
    }
    CHECK(rows == 3 && fields_ok, "three rows (passkey, passkey_digit, copy) of %d fields", PR_N_COLS);
    CHECK(strstr(text, "rotary+pi=2,128,1,passkey,256,32,4,0.50000,0.25000,") && strstr(text, ",1e-05\n") &&
          strstr(text, "rotary+pi=2,128,1,passkey_digit,256,32,20,0.50000,0.50000,") && strstr(text, ",0.1\n") &&
          strstr(text, "alibi,128,1,copy,256,32,20,0.50000,0.50000,") && strstr(text, ",0.0277778\n"),
          "rows: n trials, acc, chance 1e-5 (key), 1/10 (digit), 1/36 (copy):\n%s", text);
    free(text);
}

static void check_variant_parse(void) {
    Variant v;
    char err[ERRLEN];
    CHECK(variant_parse("rotary+yarn=4+logn", &v, err, sizeof err) == 0 && v.logn && !strcmp(v.opts, "yarn=4") &&
          !strcmp(v.base, "rotary"), "rotary+yarn=4+logn parses: %s", err);
    CHECK(variant_parse("alibi+window=256", &v, err, sizeof err) == 0 && v.window == 256, "alibi+window=256 parses");
    /* a per-layer composition shares '+' with variants: its items name methods */
    CHECK(pos_spec_variant("layers=rotary+nope") == NULL && pos_spec_variant("alibi") == NULL,
          "a composition or a plain method is not a variant");
    CHECK(variant_parse("layers=rotary+nope+window=64", &v, err, sizeof err) == 0 && v.window == 64 &&
          !strcmp(v.base, "layers=rotary+nope"), "layers=rotary+nope+window=64 has base layers=rotary+nope: %s", err);
    CHECK(variant_parse("layers=rotary:pi=2+alibi+logn", &v, err, sizeof err) == 0 && v.logn &&
          !strcmp(v.base, "layers=rotary:pi=2+alibi"), "layers=rotary:pi=2+alibi+logn parses: %s", err);
    static const char *bad[] = {"rotary", "+logn", "alibi+dyntk", "alibi+pi=2", "rotary+pi=2+ntk=2", "rotary+window=0",
                                "rotary+wobble", "nosuch+logn"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(variant_parse(bad[i], &v, err, sizeof err) == -1 && err[0], "variant '%s' refused: %s", bad[i], err);
}

/* A small random model of method spec `method` trained at L. */
static void build_model(Model *m, const char *method, int L) {
    ModelConfig cfg = {.vocab = 256, .n_layer = 2, .n_head = 4, .d_model = 32, .train_len = L};
    snprintf(cfg.method, sizeof cfg.method, "%s", method);
    char err[ERRLEN];
    CHECK(model_build(m, &cfg, err, sizeof err) == 0, "model_build %s: %s", method, err);
    model_init_weights(m, 7);
}

/* nll of a window under variant spec (NULL: the base). */
static void eval_under(Model *m, const char *spec, const int *x, int T, float *nll) {
    Variant v;
    char err[ERRLEN];
    if (spec) CHECK(variant_parse(spec, &v, err, sizeof err) == 0, "parse %s: %s", spec, err);
    CHECK(variant_apply(m, spec ? &v : NULL, T, err, sizeof err) == 0, "apply %s: %s", spec ? spec : "base", err);
    model_eval_window(m, x, x + 1, T, nll);
}

/* Neutral settings (factor 1, W >= T, logn and dyntk at T <= L) equal the base bit for bit;
 * a real window, logn or dyntk past L changes the numbers. */
static void check_neutral_variants(void) {
    enum { L = 32, TMAX = 300 };
    int x[TMAX + 1];
    Rng rng;
    rng_seed(&rng, 9);
    for (int i = 0; i <= TMAX; i++) x[i] = (int)(rng_u64(&rng) % 256);
    float *base = xmalloc_floats(TMAX), *got = xmalloc_floats(TMAX);
    static const struct { const char *method, *variant; int T, same; } cases[] = {
        {"rotary", "rotary+pi=1", 200, 1}, {"rotary", "rotary+ntk=1", 200, 1}, {"rotary", "rotary+yarn=1", 200, 1},
        {"rotary", "rotary+dyntk", L, 1}, {"rotary", "rotary+logn", L, 1}, {"alibi", "alibi+logn", L, 1},
        {"alibi", "alibi+window=300", 300, 1}, {"t5", "t5+window=200", 200, 1}, {"rotary", "rotary+window=300", 300, 1},
        {"alibi", "alibi+window=100", 300, 0}, {"rotary", "rotary+logn", 200, 0}, {"rotary", "rotary+dyntk", 200, 0},
        {"nope", "nope+window=64", 150, 0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Model m;
        build_model(&m, cases[c].method, L);
        int T = cases[c].T;
        eval_under(&m, NULL, x, T, base);
        eval_under(&m, cases[c].variant, x, T, got);
        int same = !memcmp(base, got, sizeof(float) * T);
        CHECK(same == cases[c].same, "%s at T=%d: %s the base's NLL", cases[c].variant, T,
              cases[c].same ? "bit-identical to" : "differs from");
        eval_under(&m, NULL, x, T, got);
        CHECK(!memcmp(base, got, sizeof(float) * T), "%s: the base again after the variant", cases[c].method);
        model_free(&m);
    }
    free(base);
    free(got);
}

/* The evaluation of a window's last rows from the saved keys and values of its first P equals
 * the whole window's (to float rounding), for qk and bias methods and with variants. */
static void check_prefix_reuse(void) {
    enum { L = 32, T = 300, P = 170 };
    int x[T + 1], top_a[T], top_b[T];
    Rng rng;
    rng_seed(&rng, 13);
    for (int i = 0; i <= T; i++) x[i] = (int)(rng_u64(&rng) % 256);
    float *a = xmalloc_floats(T), *b = xmalloc_floats(T);
    static const char *const cases[][2] = {{"rotary", NULL}, {"alibi", NULL}, {"t5", NULL}, {"sinusoidal", NULL},
                                           {"rotary", "rotary+yarn=4+logn"}, {"alibi", "alibi+window=100"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Model m;
        build_model(&m, cases[c][0], L);
        for (int l = 0; l < m.cfg.n_layer; l++)   /* sharp attention, so that wrong keys would show */
            for (size_t i = 0; i < (size_t)3 * m.cfg.d_model * m.cfg.d_model; i++) m.p.blocks[l].qkv_w[i] *= 30.0f;
        Variant v;
        char err[ERRLEN];
        if (cases[c][1]) variant_parse(cases[c][1], &v, err, sizeof err);
        variant_apply(&m, cases[c][1] ? &v : NULL, T, err, sizeof err);
        model_eval_window_top1(&m, x, x + 1, T, a, top_a, P);
        EvalPrefix pre = {0};
        model_eval_window_prefix(&m, x, x + 1, P, &pre, 1, b, NULL, P);
        for (int rep = 0; rep < 2; rep++) model_eval_window_prefix(&m, x, x + 1, T, &pre, 0, b, top_b, P);
        char what[96];
        snprintf(what, sizeof what, "%s: rows %d..%d from a saved prefix vs the whole window", cases[c][1] ? cases[c][1] : cases[c][0], P, T - 1);
        CHECK_CLOSE(what, b + P, a + P, T - P, 1e-4, 1e-4);
        CHECK(!memcmp(top_a + P, top_b + P, sizeof(int) * (T - P)), "%s: the same top-1 tokens", what);
        model_prefix_free(&pre);
        model_free(&m);
    }
    free(a);
    free(b);
}

/* The naive oracle with a window: the wrapped method's bias, then -inf for j <= i - W. */
static const PosMethod *win_inner;
static int win_W;
static void win_bias(float *s, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx) {
    if (win_inner->bias_add) win_inner->bias_add(s, ld, h, i0, ni, j0, nj, ctx);
    for (int r = 0; r < ni; r++)
        for (int c = 0; c < nj; c++)
            if (j0 + c <= i0 + r - win_W) s[(size_t)r * ld + c] = -INFINITY;
}

static void check_window_kernel(void) {
    enum { NH = 2, HS = 8 };
    static const int Ts[] = {50, 200, 333}, Ws[] = {1, 7, 64, 130, 256};
    static const char *methods[] = {"alibi", "nope", "t5"};
    Rng rng;
    rng_seed(&rng, 21);
    for (size_t mi = 0; mi < 3; mi++)
        for (size_t ti = 0; ti < 3; ti++)
            for (size_t wi = 0; wi < 5; wi++) {
                const PosMethod *pm = pos_method_find(methods[mi]);
                int T = Ts[ti];
                PosConfig cfg = {.n_head = NH, .head_dim = HS, .d_model = NH * HS, .train_len = 16, .n_layer = 1};
                pos_options_default(pm, &cfg);
                PosBound pb = pos_bound_make(pm, cfg, T, 0.5f, 3);
                size_t n = (size_t)NH * T * HS;
                float *q = xmalloc_floats(n), *k = xmalloc_floats(n), *v = xmalloc_floats(n);
                float *ref = xmalloc_floats(n), *got = xmalloc_floats(n);
                fill_normal(q, n, 1.0f, &rng), fill_normal(k, n, 1.0f, &rng), fill_normal(v, n, 1.0f, &rng);
                PosMethod masked = *pm;
                masked.bias_add = win_bias;
                win_inner = pm, win_W = Ws[wi];
                attention_forward_naive(ref, q, k, v, 1, NH, T, HS, &masked, &pb.ctx);
                attention_forward_tiled_window(got, q, k, v, 1, NH, T, HS, pm, &pb.ctx, Ws[wi]);
                char what[96];
                snprintf(what, sizeof what, "%s windowed tiled vs naive, T=%d W=%d", pm->name, T, Ws[wi]);
                CHECK_CLOSE(what, got, ref, n, 1e-4, 2e-5);
                free(q), free(k), free(v), free(ref), free(got);
                pos_bound_free(&pb);
            }
}

static void check_logn(void) {
    enum { B = 1, NH = 2, T = 40, HS = 3, L = 16 };
    float q[B * NH * T * HS];
    for (int i = 0; i < B * NH * T * HS; i++) q[i] = 2.0f;
    attention_scale_logn(q, B, NH, T, HS, L);
    int ok = 1;
    for (int h = 0; h < NH; h++)
        for (int p = 0; p < T; p++) {
            double f = p <= L ? 1.0 : log((double)p) / log((double)L);
            for (int e = 0; e < HS; e++) ok &= fabs(q[(h * T + p) * HS + e] - 2.0 * f) < 1e-6;
        }
    CHECK(ok && q[(T - 1) * HS] > 2.6f, "logn: row p scaled by max(1, log p / log L) (p=39: %.4f)", q[(T - 1) * HS] / 2);
}

void test_probe(void) {
    check_copy_layout();
    check_passkey_layout();
    check_scorers();
    check_plant();
    check_wilson();
    check_rows();
    check_variant_parse();
    check_neutral_variants();
    check_prefix_reuse();
    check_window_kernel();
    check_logn();
}
