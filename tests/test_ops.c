/* test_ops.c — every op's backward against central finite differences, and
 * sgemm (BLAS) against the naive oracle. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "gradcheck.h"
#include "../model/ops.h"

enum { BT = 7, C = 12, OC = 10, V = 9 };

typedef struct OpCtx {
    float inp[BT * 4 * C], w[4 * C * C], b[4 * C], out[BT * 4 * C], up[BT * 4 * C];
    float mean[BT], rstd[BT], lse[BT];
    int tokens[BT];
    int which;
} OpCtx;

static double ln_fn(void *p) {
    OpCtx *c = p;
    layernorm_forward(c->out, c->mean, c->rstd, c->inp, c->w, c->b, BT, C);
    return dot_up(c->up, c->out, BT * C);
}
static double mm_fn(void *p) {
    OpCtx *c = p;
    matmul_forward(c->out, c->inp, c->w, c->b, BT, C, OC);
    return dot_up(c->up, c->out, BT * OC);
}
static double gelu_fn(void *p) {
    OpCtx *c = p;
    gelu_forward(c->out, c->inp, BT * C);
    return dot_up(c->up, c->out, BT * C);
}
static double ce_fn(void *p) {
    OpCtx *c = p;
    crossentropy_forward(c->out, c->lse, c->inp, c->tokens, BT, V);
    return dot_up(c->up, c->out, BT);
}
static double enc_fn(void *p) {
    OpCtx *c = p;
    encoder_forward(c->out, c->tokens, c->w, 1.7f, BT, C);
    return dot_up(c->up, c->out, BT * C);
}

static void test_layernorm(OpCtx *c, Rng *rng) {
    fill_normal(c->inp, BT * C, 1.0f, rng);
    for (int i = 0; i < C; i++) { c->w[i] = 1.0f + 0.3f * rng_normal(rng); c->b[i] = 0.3f * rng_normal(rng); }
    fill_normal(c->up, BT * C, 1.0f, rng);
    float din[BT * C] = {0}, dw[C] = {0}, db[C] = {0};
    ln_fn(c);
    layernorm_backward(din, dw, db, c->up, c->inp, c->w, c->mean, c->rstd, BT, C);
    GRADCHECK("layernorm dinp", ln_fn, c, c->inp, din, BT * C, 1e-3, 2e-3);
    GRADCHECK("layernorm dw", ln_fn, c, c->w, dw, C, 1e-3, 2e-3);
    GRADCHECK("layernorm db", ln_fn, c, c->b, db, C, 1e-3, 2e-3);
    /* accumulation: a second backward doubles the gradient */
    float din2[BT * C], dw2[C], db2[C];
    memcpy(din2, din, sizeof din); memcpy(dw2, dw, sizeof dw); memcpy(db2, db, sizeof db);
    layernorm_backward(din2, dw2, db2, c->up, c->inp, c->w, c->mean, c->rstd, BT, C);
    int ok = 1;
    for (int i = 0; i < C; i++) ok &= fabsf(dw2[i] - 2 * dw[i]) <= 1e-5f * (1 + fabsf(dw[i]));
    CHECK(ok, "layernorm_backward accumulates into dw");
}

static void test_matmul(OpCtx *c, Rng *rng) {
    fill_normal(c->inp, BT * C, 1.0f, rng);
    fill_normal(c->w, OC * C, 0.5f, rng);
    fill_normal(c->b, OC, 0.5f, rng);
    fill_normal(c->up, BT * OC, 1.0f, rng);
    float din[BT * C], dw[OC * C] = {0}, db[OC] = {0};
    for (int i = 0; i < BT * C; i++) din[i] = NAN;   /* beta 0 overwrites without reading */
    mm_fn(c);
    matmul_backward(din, dw, db, c->up, c->inp, c->w, BT, C, OC, 0.0f);
    GRADCHECK("matmul dinp", mm_fn, c, c->inp, din, BT * C, 1e-3, 1e-3);
    GRADCHECK("matmul dw", mm_fn, c, c->w, dw, OC * C, 1e-3, 1e-3);
    GRADCHECK("matmul dbias", mm_fn, c, c->b, db, OC, 1e-3, 1e-3);
}

/* the fused linear + residual equals matmul_forward then residual_forward */
static void test_matmul_residual(OpCtx *c, Rng *rng) {
    fill_normal(c->inp, BT * C, 1.0f, rng);
    fill_normal(c->w, OC * C, 0.5f, rng);
    fill_normal(c->b, OC, 0.5f, rng);
    float resid[BT * OC], want[BT * OC], got[BT * OC];
    fill_normal(resid, BT * OC, 1.0f, rng);
    matmul_forward(want, c->inp, c->w, c->b, BT, C, OC);
    residual_forward(want, want, resid, BT * OC);
    matmul_residual_forward(got, c->inp, c->w, c->b, resid, BT, C, OC);
    CHECK_CLOSE("matmul_residual_forward vs matmul + residual", got, want, BT * OC, 1e-5, 1e-6);
    memcpy(got, resid, sizeof got);   /* in place: out is resid, as the model calls it */
    matmul_residual_forward(got, c->inp, c->w, c->b, got, BT, C, OC);
    CHECK_CLOSE("matmul_residual_forward in place", got, want, BT * OC, 1e-5, 1e-6);
}

/* e^x without libm: within a few ulp of expf, 0 at -inf, inf above the range */
static void test_expf_fast(void) {
    double worst = 0;
    for (float x = -87.0f; x < 88.0f; x += 0.0137f) {
        double e = fabs((double)expf_fast(x) - exp((double)x)) / exp((double)x);
        if (e > worst) worst = e;
    }
    CHECK(worst < 3e-7, "expf_fast relative error %.3g over [-87, 88]", worst);
    CHECK(expf_fast(-INFINITY) == 0.0f && isinf(expf_fast(100.0f)) && isnan(expf_fast(NAN)),
          "expf_fast: exp(-inf) = 0, overflow to inf, NaN stays NaN");
}

static void test_gelu(OpCtx *c, Rng *rng) {
    fill_normal(c->inp, BT * C, 2.0f, rng);
    fill_normal(c->up, BT * C, 1.0f, rng);
    float din[BT * C], din2[BT * C];
    for (int i = 0; i < BT * C; i++) din[i] = NAN;   /* beta 0 overwrites without reading */
    gelu_forward(c->out, c->inp, BT * C);
    gelu_backward(din, c->inp, c->up, BT * C, 0.0f);
    GRADCHECK("gelu", gelu_fn, c, c->inp, din, BT * C, 1e-3, 2e-3);
    memcpy(din2, din, sizeof din);   /* beta 1 accumulates: a second backward doubles it */
    gelu_backward(din2, c->inp, c->up, BT * C, 1.0f);
    int ok = 1;
    for (int i = 0; i < BT * C; i++) ok &= fabsf(din2[i] - 2 * din[i]) <= 1e-6f * (1 + fabsf(din[i]));
    CHECK(ok, "gelu_backward with beta 1 accumulates");
    /* training's pair (the slope kept in place of x; the backward in place on d gelu) is bitwise the pair above */
    float slope[BT * C], out2[BT * C], dk[BT * C];
    gelu_forward(c->out, c->inp, BT * C);   /* the gradient check left a perturbed output */
    memcpy(slope, c->inp, sizeof slope);
    memcpy(dk, c->up, sizeof dk);
    gelu_forward_keep_slope(out2, slope, BT * C);
    gelu_backward_kept(dk, slope, dk, BT * C);
    CHECK(!memcmp(out2, c->out, sizeof out2) && !memcmp(dk, din, sizeof dk) && memcmp(slope, c->inp, sizeof slope),
          "gelu_forward_keep_slope, gelu_backward_kept: bitwise gelu_forward, gelu_backward");
    /* value: GELU_tanh(1) = 0.8411919906 */
    float one = 1.0f, g;
    gelu_forward(&g, &one, 1);
    CHECK(fabsf(g - 0.8411919906f) < 1e-6f, "gelu(1) = %.9f, want 0.8411919906", g);
}

static void test_crossentropy(OpCtx *c, Rng *rng) {
    fill_normal(c->inp, BT * V, 2.0f, rng);
    fill_normal(c->up, BT, 1.0f, rng);
    for (int t = 0; t < BT; t++) c->tokens[t] = (int)(rng_u64(rng) % V);
    float dl[BT * V] = {0};
    ce_fn(c);
    int ok = 1;
    for (int t = 0; t < BT; t++) {
        float row[V], twice[V];
        for (int i = 0; i < V; i++) row[i] = NAN;   /* beta 0 overwrites without reading */
        crossentropy_backward(row, c->inp + t * V, c->lse + t, c->tokens + t, c->up[t], 1, V, 0.0f);
        memcpy(dl + t * V, row, sizeof row);
        memcpy(twice, row, sizeof row);   /* beta 1 accumulates */
        crossentropy_backward(twice, c->inp + t * V, c->lse + t, c->tokens + t, c->up[t], 1, V, 1.0f);
        for (int i = 0; i < V; i++) ok &= fabsf(twice[i] - 2 * row[i]) <= 1e-6f * (1 + fabsf(row[i]));
    }
    GRADCHECK("crossentropy dlogits", ce_fn, c, c->inp, dl, BT * V, 1e-3, 1e-3);
    CHECK(ok, "crossentropy_backward with beta 1 accumulates");
    /* uniform logits: loss = ln V */
    float z[V] = {0}, l, s;
    int tgt = 3;
    crossentropy_forward(&l, &s, z, &tgt, 1, V);
    CHECK(fabsf(l - logf(V)) < 1e-6f, "uniform cross-entropy %.7f, want ln %d", l, V);
}

static void test_encoder(OpCtx *c, Rng *rng) {
    fill_normal(c->w, V * C, 1.0f, rng);
    fill_normal(c->up, BT * C, 1.0f, rng);
    for (int t = 0; t < BT; t++) c->tokens[t] = t % 3;   /* repeated tokens accumulate */
    float dw[V * C] = {0};
    encoder_backward(dw, c->up, c->tokens, 1.7f, BT, C);
    GRADCHECK("encoder dwte", enc_fn, c, c->w, dw, V * C, 1e-3, 1e-3);
}

static void test_sgemm(Rng *rng) {
    int M = 37, N = 29, K = 41;
    float *A = xmalloc_floats(64 * 64), *B = xmalloc_floats(64 * 64), *C1 = xmalloc_floats(64 * 64),
          *C2 = xmalloc_floats(64 * 64);
    fill_normal(A, 64 * 64, 1.0f, rng);
    fill_normal(B, 64 * 64, 1.0f, rng);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            fill_normal(C1, 64 * 64, 1.0f, rng);
            memcpy(C2, C1, 64 * 64 * sizeof(float));
            sgemm(ta, tb, M, N, K, 0.7f, A, 64, B, 64, 0.3f, C1, 64);
            sgemm_naive(ta, tb, M, N, K, 0.7f, A, 64, B, 64, 0.3f, C2, 64);
            char what[64];
            snprintf(what, sizeof what, "sgemm transA=%d transB=%d vs naive", ta, tb);
            CHECK_CLOSE(what, C1, C2, 64 * 64, 1e-5, 1e-5);
        }
    free(A); free(B); free(C1); free(C2);
}

/* The linear layers' products with the rows split over 2 threads (ops.c, sgemm_split_rows:
 * forward, dinp and dw, row counts that are not multiples of 16) against the naive product. */
static void test_matmul_split(Rng *rng) {
    enum { R = 200, CI = 24, CO = 72 };
    float *inp = xmalloc_floats(R * CI), *w = xmalloc_floats(CO * CI), *b = xmalloc_floats(CO),
          *dout = xmalloc_floats(R * CO), *out = xmalloc_floats(R * CO), *ref = xmalloc_floats(R * CO),
          *din = xmalloc_floats(R * CI), *din_ref = xmalloc_floats(R * CI), *dw = xmalloc_floats(CO * CI),
          *dw_ref = xmalloc_floats(CO * CI), *db = xcalloc(CO, sizeof(float));
    fill_normal(inp, R * CI, 1.0f, rng);
    fill_normal(w, CO * CI, 0.5f, rng);
    fill_normal(b, CO, 0.5f, rng);
    fill_normal(dout, R * CO, 1.0f, rng);
    fill_normal(din, R * CI, 1.0f, rng);   /* nonzero: backward accumulates */
    fill_normal(dw, CO * CI, 1.0f, rng);
    memcpy(din_ref, din, sizeof(float) * R * CI);
    memcpy(dw_ref, dw, sizeof(float) * CO * CI);
    int before = omp_max_threads();
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    matmul_forward(out, inp, w, b, R, CI, CO);
    matmul_backward(din, dw, db, dout, inp, w, R, CI, CO, 1.0f);
#ifdef _OPENMP
    omp_set_num_threads(before);
#endif
    for (int t = 0; t < R; t++) memcpy(ref + (size_t)t * CO, b, sizeof(float) * CO);
    sgemm_naive(0, 1, R, CO, CI, 1.0f, inp, CI, w, CI, 1.0f, ref, CO);
    sgemm_naive(0, 0, R, CI, CO, 1.0f, dout, CO, w, CI, 1.0f, din_ref, CI);
    sgemm_naive(1, 0, CO, CI, R, 1.0f, dout, CO, inp, CI, 1.0f, dw_ref, CI);
    CHECK_CLOSE("matmul_forward on 2 threads vs naive", out, ref, R * CO, 1e-5, 1e-5);
    CHECK_CLOSE("matmul_backward dinp on 2 threads vs naive", din, din_ref, R * CI, 1e-5, 1e-5);
    CHECK_CLOSE("matmul_backward dw on 2 threads vs naive", dw, dw_ref, CO * CI, 1e-5, 1e-4);
    free(inp); free(w); free(b); free(dout); free(out); free(ref); free(din); free(din_ref); free(dw); free(dw_ref);
    free(db);
}

static void test_layouts(Rng *rng) {
    int B = 2, T = 5, NH = 3, hs = 4, Cm = NH * hs;
    float qkv[2 * 5 * 3 * 12], q[120], k[120], v[120], dqkv[360] = {0}, tok[120], back[120];
    fill_normal(qkv, sizeof qkv / sizeof(float), 1.0f, rng);
    split_heads(q, k, v, qkv, B, T, NH, hs);
    /* element (b=1, t=3, h=2, i=1) of q, k, v */
    size_t hrow = ((size_t)(1 * NH + 2) * T + 3) * hs + 1, trow = (size_t)(1 * T + 3) * 3 * Cm + 2 * hs + 1;
    CHECK(q[hrow] == qkv[trow] && k[hrow] == qkv[trow + Cm] && v[hrow] == qkv[trow + 2 * Cm], "split_heads layout");
    merge_heads_grad(dqkv, q, k, v, B, T, NH, hs);
    CHECK(memcmp(dqkv, qkv, sizeof qkv) == 0, "merge_heads_grad inverts split_heads");
    float merged[360];
    merge_heads(merged, q, k, v, B, T, NH, hs);
    CHECK(memcmp(merged, qkv, sizeof qkv) == 0, "merge_heads (writing) inverts split_heads");
    heads_to_tokens(tok, q, B, T, NH, hs);
    tokens_to_heads(back, tok, B, T, NH, hs);
    CHECK(memcmp(back, q, sizeof q) == 0, "tokens_to_heads inverts heads_to_tokens");
}

#ifdef _OPENMP
/* static_slice against OpenMP's own schedule(static): the same owner for every item, for
 * teams of 1..5 and 0..40 items (the ops' partial sums keep their rows when a loop moves from
 * one to the other). */
static void check_static_slice(void) {
    int same = 1, teams = 1;
    for (int nth = 1; nth <= 5; nth++)
        for (int n = 0; n <= 40; n++) {
            int owner[40], team = 0;
#pragma omp parallel num_threads(nth)
            {
#pragma omp for schedule(static)
                for (int i = 0; i < n; i++) owner[i] = omp_get_thread_num();
#pragma omp single
                team = omp_get_num_threads();
            }
            teams &= team == nth;
            for (int id = 0; id < team; id++) {
                long lo, hi;
                static_slice(n, id, team, &lo, &hi);
                for (long i = lo; i < hi; i++) same &= owner[i] == id;
                same &= lo >= 0 && hi <= n && lo <= hi;
            }
        }
    CHECK(teams, "FOR_SLICES test: OpenMP gave the teams asked (1..5 threads)");
    CHECK(same, "static_slice gives each item the thread that schedule(static) gives it");
}

/* Some of the ops that FOR_SLICES splits, on x (R, W). */
static void row_ops(float *y, float *kept, float *ln, float *mean, float *rstd, float *loss, float *lse,
                    const float *x, const float *w, const float *b, const int *tg, int R, int W) {
    gelu_forward_keep_slope(y, kept, (size_t)R * W);
    layernorm_forward(ln, mean, rstd, x, w, b, R, W);
    crossentropy_forward(loss, lse, x, tg, R, W);
}

/* FOR_SLICES at the top level splits [0, n) over a team (each item once, one slice per thread);
 * inside an active region (a data-parallel shard) it runs [0, n) as slice 0 on the caller and
 * opens no region (omp_get_level stays 1); and the ops give the same bits both ways. */
static void check_for_slices(Rng *rng) {
    enum { N = 37, R = 23, W = 16 };
    int seen[N] = {0}, ids = 0, before = omp_max_threads();
    omp_set_num_threads(3);
    FOR_SLICES(N, id, lo, hi, {
        for (long i = lo; i < hi; i++) __atomic_fetch_add(&seen[i], 1, __ATOMIC_RELAXED);
        __atomic_fetch_or(&ids, 1 << id, __ATOMIC_RELAXED);
    });
    int once = 1;
    for (int i = 0; i < N; i++) once &= seen[i] == 1;
    CHECK(once && ids == 7, "FOR_SLICES on 3 threads: every item once, slices 0..2 (ids mask %d)", ids);
    int serial_ok[2] = {0, 0};
    omp_set_num_threads(2);
#pragma omp parallel num_threads(2)
    {
        int me = omp_get_thread_num(), ok = 1, runs = 0;
        FOR_SLICES(N, id, lo, hi, {
            ok &= id == 0 && lo == 0 && hi == N && omp_get_level() == 1 && omp_get_thread_num() == me;
            runs++;
        });
        serial_ok[me] = ok && runs == 1;
    }
    CHECK(serial_ok[0] && serial_ok[1], "FOR_SLICES inside a region: [0, N) once on the caller, no region opened");
    /* elementwise and row-wise ops: a 2-thread team at the top level vs each thread of a region alone */
    float x[R * W], w[W], b[W], y[2][R * W], kept[2][R * W], mean[2][R], rstd[2][R], ln[2][R * W], lse[2][R],
        loss[2][R];
    int tg[R];
    fill_normal(x, R * W, 1.5f, rng);
    fill_normal(w, W, 1.0f, rng);
    fill_normal(b, W, 1.0f, rng);
    for (int t = 0; t < R; t++) tg[t] = t % W;
    for (int pass = 0; pass < 2; pass++) {
        memcpy(kept[pass], x, sizeof x);
        if (pass == 0) {
            row_ops(y[0], kept[0], ln[0], mean[0], rstd[0], loss[0], lse[0], x, w, b, tg, R, W);
            continue;
        }
#pragma omp parallel num_threads(2)
#pragma omp single
        row_ops(y[1], kept[1], ln[1], mean[1], rstd[1], loss[1], lse[1], x, w, b, tg, R, W);
    }
    CHECK(!memcmp(y[0], y[1], sizeof y[0]) && !memcmp(kept[0], kept[1], sizeof kept[0]) &&
              !memcmp(ln[0], ln[1], sizeof ln[0]) && !memcmp(rstd[0], rstd[1], sizeof rstd[0]) &&
              !memcmp(loss[0], loss[1], sizeof loss[0]),
          "gelu, layernorm, cross-entropy: the same bits on a team and inside a region");
    omp_set_num_threads(before);
}
#endif

void test_ops(void) {
    Rng rng;
    rng_seed(&rng, 1234);
    OpCtx *c = xcalloc(1, sizeof *c);
    test_layernorm(c, &rng);
    test_matmul(c, &rng);
    test_matmul_residual(c, &rng);
    test_expf_fast();
    test_gelu(c, &rng);
    test_crossentropy(c, &rng);
    test_encoder(c, &rng);
    free(c);
    test_sgemm(&rng);
    test_matmul_split(&rng);
    test_layouts(&rng);
#ifdef _OPENMP
    check_static_slice();
    check_for_slices(&rng);
#endif
}
