/* test_attention.c — for every method: the tiled evaluation kernel and the
 * training kernel against the naive oracle at lengths 1 .. beyond 4x the
 * training length (including lengths that are not multiples of the tiles),
 * and the training backward (dq, dk, dv and the bias parameters) against
 * finite differences. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "gradcheck.h"
#include "pos_bound.h"
#include "../model/attention.h"

enum { NH = 4, HS = 8, LTRAIN = 16 };

typedef struct AttCase {
    const PosMethod *pm;
    PosBound pb;
    PosCtx ctx;
    int B, T, hs;
    float *q, *k, *v, *out, *att, *up;
} AttCase;

static void case_init(AttCase *a, const PosMethod *pm, int B, int T, int hs, Rng *rng) {
    memset(a, 0, sizeof *a);
    a->pm = pm;
    a->B = B;
    a->T = T;
    a->hs = hs;
    PosConfig cfg = {.n_head = NH, .head_dim = hs, .d_model = NH * hs, .train_len = LTRAIN, .n_layer = 2};
    pos_options_default(pm, &cfg);
    /* nonzero so learned biases matter; the method's own init when N(0, 0.5) is not a valid point */
    a->pb = pos_bound_make(pm, cfg, T, pm->fd.near_kink || pm->project ? 0.0f : 0.5f, rng_u64(rng));
    a->ctx = a->pb.ctx;
    size_t n = (size_t)B * NH * T * hs;
    a->q = xmalloc_floats(n);
    a->k = xmalloc_floats(n);
    a->v = xmalloc_floats(n);
    a->out = xmalloc_floats(n);
    a->up = xmalloc_floats(n);
    a->att = xmalloc_floats((size_t)B * NH * T * T);
    fill_normal(a->q, n, 1.0f, rng);
    fill_normal(a->k, n, 1.0f, rng);
    fill_normal(a->v, n, 1.0f, rng);
    fill_normal(a->up, n, 1.0f, rng);
}

static void case_free(AttCase *a) {
    pos_bound_free(&a->pb);
    free(a->q); free(a->k); free(a->v); free(a->out); free(a->up); free(a->att);
}

static void check_forward_kernels(const PosMethod *pm, int T, Rng *rng) {
    AttCase a;
    case_init(&a, pm, 1, T, HS, rng);
    size_t n = (size_t)NH * T * HS;
    float *ref = xmalloc_floats(n), *tiled = xmalloc_floats(n);
    attention_forward_naive(ref, a.q, a.k, a.v, 1, NH, T, HS, pm, &a.ctx);
    attention_forward_tiled(tiled, a.q, a.k, a.v, 1, NH, T, HS, pm, &a.ctx);
    attention_forward(a.out, a.att, a.q, a.k, a.v, 1, NH, T, HS, pm, &a.ctx);
    char what[96];
    snprintf(what, sizeof what, "%s tiled vs naive attention, T=%d", pm->name, T);
    CHECK_CLOSE(what, tiled, ref, n, 1e-4, 2e-5);
    snprintf(what, sizeof what, "%s training vs naive attention, T=%d", pm->name, T);
    CHECK_CLOSE(what, a.out, ref, n, 1e-4, 2e-5);
    free(ref);
    free(tiled);
    case_free(&a);
}

static double att_fn(void *p) {
    AttCase *a = p;
    pos_bound_refresh(&a->pb);   /* the table follows the (perturbed) parameters */
    attention_forward(a->out, a->att, a->q, a->k, a->v, a->B, NH, a->T, HS, a->pm, &a->ctx);
    return dot_up(a->up, a->out, (size_t)a->B * NH * a->T * HS);
}

static void check_backward(const PosMethod *pm, Rng *rng) {
    AttCase a;
    case_init(&a, pm, 2, 9, HS, rng);
    size_t n = (size_t)a.B * NH * a.T * HS;
    float *dq = xmalloc_floats(n), *dk = xmalloc_floats(n), *dv = xmalloc_floats(n);
    att_fn(&a);
    attention_backward(dq, dk, dv, a.up, a.att, a.q, a.k, a.v, a.B, NH, a.T, HS, pm, &a.ctx);
    char what[96];
    snprintf(what, sizeof what, "%s attention dq", pm->name);
    GRADCHECK(what, att_fn, &a, a.q, dq, n, 1e-3, 3e-3);
    snprintf(what, sizeof what, "%s attention dk", pm->name);
    GRADCHECK(what, att_fn, &a, a.k, dk, n, 1e-3, 3e-3);
    snprintf(what, sizeof what, "%s attention dv", pm->name);
    GRADCHECK(what, att_fn, &a, a.v, dv, n, 1e-3, 3e-3);
    size_t np = a.pb.n_params;
    if (np && pm->bias_backward) {
        /* the method's own step and tolerance (method.h), away from its kinks */
        /* at least 1e-3: the loss here goes through float attention, whose rounding a smaller
         * step would amplify */
        double eps = pm->fd.eps > 1e-3 ? pm->fd.eps : 1e-3, tol = pm->fd.tol > 3e-3 ? pm->fd.tol : 3e-3;
        for (int tries = 0; pm->fd.near_kink && pm->fd.near_kink(&a.pb.ctx, eps) && tries < 50; tries++) {
            PosBound fresh = pos_bound_make(pm, a.pb.ctx.cfg, a.T, 0.0f, 500 + (uint64_t)tries);
            memcpy(a.pb.params, fresh.params, sizeof(float) * np);
            pos_bound_free(&fresh);
            pos_bound_refresh(&a.pb);
        }
        CHECK(!pm->fd.near_kink || !pm->fd.near_kink(&a.pb.ctx, eps), "%s: no parameters away from kinks", pm->name);
        memset(a.pb.dparams, 0, sizeof(float) * np);
        memset(dq, 0, sizeof(float) * n), memset(dk, 0, sizeof(float) * n), memset(dv, 0, sizeof(float) * n);
        pos_bound_zero_ddata(&a.pb);
        att_fn(&a);
        attention_backward(dq, dk, dv, a.up, a.att, a.q, a.k, a.v, a.B, NH, a.T, HS, pm, &a.ctx);
        pos_bound_data_backward(&a.pb, a.B);   /* a data-dependent method: its values' gradient into dparams */
        snprintf(what, sizeof what, "%s attention bias parameters", pm->name);
        /* A method with kinks (FIRE) has bias gradients of ~1e-3 here, at the resolution of the
         * float loss over this step (FLT_EPSILON |loss| / eps ~ 3e-3): its floor is 30 such units
         * (a sign flip still shows). Its exact check is test_methods.c's, in double, and the fixture. */
        double floor = pm->fd.near_kink ? 30 * FLT_EPSILON * fabs(att_fn(&a)) / eps : 1e-3;
        gradcheck_floor(what, att_fn, &a, a.pb.params, a.pb.dparams, np, NULL, 0, eps, pm->fd.near_kink ? 3e-2 : tol,
                        floor, __FILE__, __LINE__);
    }
    free(dq); free(dk); free(dv);
    case_free(&a);
}

/* The training backward against the double-precision oracle at head sizes that reach
 * each register-block width of the kernels (NR = 32 and NR / 2 = 16 columns, then the
 * edge: 8, 16, 24, 40, 56) and lengths around the MR = 8 row blocks. */
static void check_token_major(AttCase *a, const float *g);
static void check_backward_oracle(const PosMethod *pm, int hs, int T, Rng *rng) {
    AttCase a;
    case_init(&a, pm, 2, T, hs, rng);
    size_t n = (size_t)a.B * NH * T * hs;
    float *g = xcalloc(3 * n, sizeof(float)), *ref = xcalloc(3 * n, sizeof(float));
    float *fwd = xmalloc_floats(n), *tiled = xmalloc_floats(n);
    attention_forward_naive(fwd, a.q, a.k, a.v, a.B, NH, T, hs, pm, &a.ctx);
    attention_forward_tiled(tiled, a.q, a.k, a.v, a.B, NH, T, hs, pm, &a.ctx);
    attention_forward(a.out, a.att, a.q, a.k, a.v, a.B, NH, T, hs, pm, &a.ctx);
    char what[96];
    snprintf(what, sizeof what, "%s training vs naive attention, hs=%d T=%d", pm->name, hs, T);
    CHECK_CLOSE(what, a.out, fwd, n, 1e-4, 2e-5);
    snprintf(what, sizeof what, "%s tiled vs naive attention, hs=%d T=%d", pm->name, hs, T);
    CHECK_CLOSE(what, tiled, fwd, n, 1e-4, 2e-5);
    free(fwd);
    free(tiled);
    for (size_t i = 0; i < 3 * n; i++) g[i] = NAN;   /* written whole: nothing of the old contents is read */
    attention_backward(g, g + n, g + 2 * n, a.up, a.att, a.q, a.k, a.v, a.B, NH, T, hs, pm, &a.ctx);
    attention_backward_naive(ref, ref + n, ref + 2 * n, a.up, a.q, a.k, a.v, a.B, NH, T, hs, pm, &a.ctx);
    static const char *name[3] = {"dq", "dk", "dv"};
    for (int x = 0; x < 3; x++) {
        snprintf(what, sizeof what, "%s attention %s vs the oracle, hs=%d T=%d", pm->name, name[x], hs, T);
        CHECK_CLOSE(what, g + x * n, ref + x * n, n, 1e-4, 1e-4);
    }
    check_token_major(&a, g);
    free(g);
    free(ref);
    case_free(&a);
}

/* dst (B, T, ld) at columns col + h hs = src (B, NH, T, hs), or back when to_heads */
static void relayout(float *tok, float *heads, int B, int T, int hs, int ld, int col, int to_heads) {
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++)
                for (int e = 0; e < hs; e++) {
                    float *x = tok + ((size_t)b * T + t) * ld + col + h * hs + e;
                    float *y = heads + (((size_t)b * NH + h) * T + t) * hs + e;
                    if (to_heads) *y = *x;
                    else *x = *y;
                }
}

/* Training's layouts: v and d v read and written in place in a (B, T, 3C) qkv, the output and its
 * gradient token-major (B, T, C): the same bits as the head-major calls (a.out, g = dq, dk, dv). */
static void check_token_major(AttCase *a, const float *g) {
    int B = a->B, T = a->T, hs = a->hs, C = NH * hs;
    size_t n = (size_t)B * NH * T * hs;
    float *qkv = xcalloc(3 * n, sizeof(float)), *dqkv = xcalloc(3 * n, sizeof(float));
    float *out = xmalloc_floats(n), *dout = xmalloc_floats(n), *o2 = xmalloc_floats(n), *dv2 = xmalloc_floats(n);
    float *att = xmalloc_floats((size_t)B * NH * T), *dq = xmalloc_floats(n), *dk = xmalloc_floats(n);
    relayout(qkv, a->v, B, T, hs, 3 * C, 2 * C, 0);
    relayout(dout, a->up, B, T, hs, C, 0, 0);
    HeadRows vr = rows_token_major(T, 3 * C, hs), orow = rows_token_major(T, C, hs);
    attention_forward_at(out, orow, att, a->q, a->k, qkv + 2 * C, vr, B, NH, T, hs, a->pm, &a->ctx);
    attention_backward_at(dq, dk, dqkv + 2 * C, dout, orow, att, a->q, a->k, qkv + 2 * C, vr, B, NH, T, hs, a->pm,
                          &a->ctx);
    relayout(out, o2, B, T, hs, C, 0, 1);
    relayout(dqkv, dv2, B, T, hs, 3 * C, 2 * C, 1);
    int q_k_untouched = 1;   /* the q and k columns of dqkv are not written */
    for (size_t r = 0; r < (size_t)B * T; r++)
        for (int c = 0; c < 2 * C; c++) q_k_untouched &= dqkv[r * 3 * C + c] == 0.0f;
    CHECK(!memcmp(o2, a->out, n * sizeof(float)) && !memcmp(dq, g, n * sizeof(float)) &&
          !memcmp(dk, g + n, n * sizeof(float)) && !memcmp(dv2, g + 2 * n, n * sizeof(float)) && q_k_untouched,
          "%s attention in training's layouts (v in qkv, token-major output): the head-major bits, hs=%d T=%d",
          a->pm->name, hs, T);
    free(qkv); free(dqkv); free(out); free(dout); free(o2); free(dv2); free(att); free(dq); free(dk);
}

void test_attention(void) {
    Rng rng;
    rng_seed(&rng, 99);
    static const int lengths[] = {1, 2, 5, 16, 33, 63, 64, 65, 127, 128, 129, 200};
    int n_len = check_quick ? 6 : (int)(sizeof lengths / sizeof lengths[0]);
    for (int i = 0; i < pos_method_count; i++) {
        for (int t = 0; t < n_len; t++) check_forward_kernels(pos_methods[i], lengths[t], &rng);
        check_backward(pos_methods[i], &rng);
        static const int hs_list[] = {8, 16, 24, 40, 56}, t_list[] = {7, 40, 67};
        for (int h = 0; h < 5; h++)
            for (int t = 0; t < (check_quick ? 1 : 3); t++) check_backward_oracle(pos_methods[i], hs_list[h], t_list[t], &rng);
    }
}
