/* test_stats.c — the report's statistics (plots/stats.c, plots/convergence.c)
 * against values computed by hand or read from printed t tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "../plots/run.h"
#include "../plots/sections.h"

#define NEAR(got, want, tol, what) CHECK(fabs((got) - (want)) <= (tol), "%s: got %.9g, want %.9g", what, got, want)

static void test_t_distribution(void) {
    /* two-sided 95% critical values from printed t tables */
    static const struct { double df, t; } table[] = {
        {1, 12.7062}, {2, 4.3027}, {3, 3.1824}, {4, 2.7764}, {9, 2.2622}, {29, 2.0452}, {120, 1.9799}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        NEAR(t_quantile(0.975, table[i].df), table[i].t, 1e-4, "t(0.975, df)");
    NEAR(t_quantile(0.025, 4), -2.7764, 1e-4, "t(0.025, 4) = -t(0.975, 4)");
    NEAR(t_quantile(0.5, 7), 0.0, 0.0, "median of t");
    /* df 3 has a closed form: 1/2 + (u/(1+u^2) + atan u)/pi with u = t/sqrt 3; at t = 1: 0.80449 */
    NEAR(t_cdf(1.0, 3), 0.5 + (0.25 * sqrt(3.0) + M_PI / 6) / M_PI, 1e-10, "t_cdf(1, 3)");
    /* df 1 is Cauchy: 1/2 + atan(t)/pi */
    NEAR(t_cdf(-2.0, 1), 0.5 + atan(-2.0) / M_PI, 1e-10, "t_cdf(-2, 1)");
    /* I_0.4(2, 3) = sum_{j=2..4} C(4,j) 0.4^j 0.6^(4-j) = 0.3456 + 0.1536 + 0.0256 */
    NEAR(betai(2, 3, 0.4), 0.5248, 1e-12, "I_0.4(2, 3)");
    NEAR(betai(3, 2, 0.6), 1 - 0.5248, 1e-12, "I_0.6(3, 2) by symmetry");
}

static void test_summaries(void) {
    double x[] = {1, 2, 3, 4};
    Stat s = stat_of(x, 4);
    CHECK(s.n == 4, "n = %d", s.n);
    NEAR(s.mean, 2.5, 1e-12, "mean of 1..4");
    NEAR(s.sd, sqrt(5.0 / 3.0), 1e-12, "sd of 1..4 (n - 1)");
    NEAR(s.half, 3.182446305 * sqrt(5.0 / 3.0) / 2.0, 1e-6, "95% half-width of 1..4");
    double one[] = {7, NAN};
    Stat o = stat_of(one, 2);
    CHECK(o.n == 1 && o.sd == 0 && isnan(o.half), "one finite value: sd 0, no interval");

    double a[] = {3, 5, 7}, b[] = {1, 2, 3};   /* differences 2, 3, 4: mean 3, sd 1 */
    Stat d = stat_paired(a, b, 3);
    NEAR(d.mean, 3.0, 1e-12, "paired mean");
    NEAR(d.sd, 1.0, 1e-12, "paired sd");
    NEAR(d.half, 4.302652730 / sqrt(3.0), 1e-6, "paired half-width");
    CHECK(stat_significant(d), "3 +- 2.48 excludes 0");
    double c[] = {1, 2, 3}, e[] = {1.5, 1, 3.4};   /* differences -0.5, 1, -0.4 */
    CHECK(!stat_significant(stat_paired(c, e, 3)), "0.03 +- 2.1 contains 0: not significant");
    double g[] = {1, NAN, 3}, h[] = {0, 1, 1};     /* pairs with a missing value are dropped */
    Stat p = stat_paired(g, h, 3);
    CHECK(p.n == 2, "pairs used: %d", p.n);
    NEAR(p.half, 12.70620474 * sqrt(0.5) / sqrt(2.0), 1e-5, "two pairs: t(0.975, 1)");
}

/* A run with one model whose held-out loss is logged at steps 20..100. */
static void test_convergence(void) {
    Run r;
    memset(&r, 0, sizeof r);
    static char *meth[] = {"alibi"};
    r.meth = meth;
    r.nmeth = 1;
    TrainRow rows[10];
    double val[] = {3.0, 2.5, 2.2, 2.1, 2.0};
    for (int i = 0; i < 10; i++) {
        long step = 10 * (i + 1);
        rows[i] = (TrainRow){.m = 0, .L = 64, .seed = 1, .step = step, .tokens = step * 2048.0, .loss = 2.5,
                             .val = step % 20 ? NAN : val[step / 20 - 1]};
    }
    r.tr = rows;
    r.ntr = 10;
    Convergence c;
    CHECK(convergence_of(&r, 0, 64, 1, &c) == 0, "a held-out curve is found");
    CHECK(c.steps == 100 && c.tokens == 204800, "budget: %ld steps, %.0f tokens", c.steps, c.tokens);
    NEAR(c.final_val, 2.0, 0, "final held-out loss");
    NEAR(c.change, (2.1 - 2.0) / 2.0, 1e-12, "change from step 80 to 100");
    CHECK(c.from == 80, "window from step %ld, want 80", c.from);
    rows[7].val = NAN;   /* no value at step 80: the window starts at 60, the last one before 80% */
    convergence_of(&r, 0, 64, 1, &c);
    NEAR(c.change, (2.2 - 2.0) / 2.0, 1e-12, "change from step 60 to 100");
    CHECK(c.from == 60, "window from step %ld, want 60", c.from);
    CHECK(convergence_of(&r, 0, 64, 2, &c) == -1, "no curve for another seed");
}

/* meta_train reads each (method, L) from meta.json's units, not the per-method summary
 * ("train" averages a method over every L). */
static void test_meta_train(void) {
    static const char *text =
        "{\"train\": {\"alibi\": {\"wall_s\": 99, \"peak_rss_mb\": 70, \"tokens_per_s\": 5}},"
        " \"units\": [{\"method\": \"alibi\", \"train_len\": 64, \"wall_s\": 10, \"peak_rss_mb\": 60},"
        " {\"method\": \"alibi\", \"train_len\": 64, \"wall_s\": 20, \"peak_rss_mb\": 65},"
        " {\"method\": \"alibi\", \"train_len\": 512, \"wall_s\": 40, \"peak_rss_mb\": 70}, null,"
        " {\"method\": \"sinusoidal\", \"train_len\": 64, \"wall_s\": 7}]}";
    Run r;
    memset(&r, 0, sizeof r);
    static char *meth[] = {"alibi", "sinusoidal", "rotary"};
    r.meth = meth;
    r.nmeth = 3;
    char err[256];
    CHECK(json_parse(&r.meta, text, strlen(text), err, sizeof err) == 0, "meta.json fixture parses: %s", err);
    r.have_meta = 1;
    NEAR(meta_train(&r, 0, 64, "wall_s"), 15.0, 0, "wall at L = 64: the mean of its two seeds");
    NEAR(meta_train(&r, 0, 512, "wall_s"), 40.0, 0, "wall at L = 512: its own unit, not the method's mean");
    NEAR(meta_train(&r, 0, 64, "peak_rss_mb"), 65.0, 0, "peak RSS: the largest over seeds");
    NEAR(meta_train(&r, 1, 64, "wall_s"), 7.0, 0, "another method's unit");
    NEAR(meta_train(&r, 0, 64, "tokens_per_s"), 5.0, 0, "a key the units lack: the summary's");
    CHECK(isnan(meta_train(&r, 2, 64, "wall_s")), "a method with no units and no summary: NaN");
    json_doc_free(&r.meta);
}

void test_stats(void) {
    test_t_distribution();
    test_summaries();
    test_convergence();
    test_meta_train();
}
