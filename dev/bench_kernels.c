/* bench_kernels.c — llm.c's dev/ pattern (docs/ARCHITECTURE.md, Conventions): every version of a kernel
 * is first checked against the naive one, then timed, on the shapes posbench
 * runs (head size 32, the quick and paper training shapes, evaluation at
 * 1024..8192). Versions: v0 = dev/attention_v0.c, dev/ops_v0.c (the first
 * kernels); v1 = dev/attention_v1.c (training attention with P materialised);
 * cur = model/attention.c, model/ops.c (what posbench runs).
 *
 *   make -f dev/Makefile && ./build/bench_kernels [--threads N] [--quick]
 *
 * Prints one line per check ("ok"/"FAIL") and per timing (best of several
 * runs, milliseconds and GFLOP/s with the FLOPs it counts). Exit 1 if a check
 * fails. Not part of posbench; CI does not run it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef USE_BLAS
#include <cblas.h>
#endif
#include "../model/attention.h"
#include "../model/ops.h"
#include "../common/util.h"
#include "kernels_v0.h"

static int n_fail;
int quick;

/* max |got - want| / (atol + rtol |want|) <= 1 */
void check(const char *what, const float *got, const float *want, size_t n, double rtol, double atol) {
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (atol + rtol * fabs(want[i]));
        if (!(e <= worst)) {
            worst = e;
            at = i;
        }
    }
    int ok = worst <= 1.0;
    if (!ok) n_fail++;
    if (!ok || !quick)
        printf("  %-4s %-58s worst %.2f of tolerance%s\n", ok ? "ok" : "FAIL", what, worst,
               ok ? "" : " <--");
    if (!ok) printf("       at %zu: got %.7g want %.7g\n", at, got[at], want[at]);
}

typedef void (*Fn)(void *);
static int use_cpu_time;   /* one thread: process CPU time, which a busy machine disturbs less than wall time */

double clock_now(void) {
    if (!use_cpu_time) return now_seconds();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* v0 and cur alternately, so a noisy moment on a shared machine hits both: best of each */
static void time_pair(Fn v0, Fn cur, void *arg, int reps, double *t_v0, double *t_cur) {
    v0(arg);
    cur(arg);
    *t_v0 = *t_cur = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = clock_now();
        v0(arg);
        double t1 = clock_now();
        cur(arg);
        double t2 = clock_now();
        if (t1 - t0 < *t_v0) *t_v0 = t1 - t0;
        if (t2 - t1 < *t_cur) *t_cur = t2 - t1;
    }
}

static void fill(float *x, size_t n, float s, Rng *rng) {
    for (size_t i = 0; i < n; i++) x[i] = s * rng_normal(rng);
}

/* ---- attention fixtures -------------------------------------------------------------- */

typedef struct Att {
    const PosMethod *pm;
    PosCtx ctx;
    float *params, *dparams, *cache, *table;
    const float **p;   /* (tensors): tensor k of the one layer benched */
    float **dp;
    int B, NH, T, hs;
    float *q, *k, *v, *out, *att, *dout, *dq, *dk, *dv, *ds, *db;
} Att;

static void att_init(Att *a, const char *method, int B, int NH, int T, int hs, Rng *rng) {
    memset(a, 0, sizeof *a);
    a->pm = pos_method_find(method);
    if (!a->pm) die_input("unknown method %s", method);
    a->B = B, a->NH = NH, a->T = T, a->hs = hs;
    PosConfig cfg = {.n_head = NH, .head_dim = hs, .d_model = NH * hs, .train_len = 64, .n_layer = 1};
    size_t np = pos_layer_param_count(a->pm, &cfg);
    int nt = pos_tensor_count(a->pm, &cfg);
    a->params = xmalloc_floats(np + 1);
    a->dparams = xmalloc_floats(np + 1);
    fill(a->params, np, 0.5f, rng);
    size_t nc = a->pm->cache_size ? a->pm->cache_size(&cfg, T) : 0;
    a->cache = xmalloc_floats(nc + 1);
    if (a->pm->cache_fill) a->pm->cache_fill(a->cache, &cfg, T);
    a->p = xcalloc((size_t)nt + 1, sizeof *a->p);
    a->dp = xcalloc((size_t)nt + 1, sizeof *a->dp);
    if (nt) pos_bind_flat(a->pm, &cfg, a->params, a->dparams, a->p, a->dp);
    a->ctx = (PosCtx){.cfg = cfg, .p = nt ? a->p : NULL, .dp = nt ? a->dp : NULL, .cache = a->cache, .cache_len = T};
    size_t nb = a->pm->table_size ? a->pm->table_size(&cfg, T) : 0;
    a->table = xmalloc_floats(nb + 1);
    if (a->pm->table_fill) {
        a->pm->table_fill(a->table, T, &a->ctx);
        a->ctx.table = a->table;
        a->ctx.table_len = T;
    }
    size_t n = (size_t)B * NH * T * hs;
    float **bufs[] = {&a->q, &a->k, &a->v, &a->out, &a->dout, &a->dq, &a->dk, &a->dv};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) *bufs[i] = xmalloc_floats(n);
    fill(a->q, n, 1.0f, rng);
    fill(a->k, n, 1.0f, rng);
    fill(a->v, n, 1.0f, rng);
    fill(a->dout, n, 1.0f, rng);
}

static void att_train_bufs(Att *a) {
    size_t tt = (size_t)a->B * a->NH * a->T * a->T;
    a->att = xmalloc_floats(tt);
    a->ds = xmalloc_floats(tt);
    a->db = xmalloc_floats((size_t)a->NH * a->T * a->T);
}

static void att_free(Att *a) {
    float *bufs[] = {a->params, a->dparams, a->cache, a->q, a->k, a->v, a->out, a->dout, a->dq, a->dk, a->dv,
                     a->att, a->ds, a->db};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
}

static size_t att_n(const Att *a) { return (size_t)a->B * a->NH * a->T * a->hs; }

static void run_tiled_cur(void *p) {
    Att *a = p;
    attention_forward_tiled(a->out, a->q, a->k, a->v, a->B, a->NH, a->T, a->hs, a->pm, &a->ctx);
}
static void run_tiled_v0(void *p) {
    Att *a = p;
    attention_forward_tiled_v0(a->out, a->q, a->k, a->v, a->B, a->NH, a->T, a->hs, a->pm, &a->ctx);
}
static void run_train_cur(void *p) {
    Att *a = p;
    attention_forward(a->out, a->att, a->q, a->k, a->v, a->B, a->NH, a->T, a->hs, a->pm, &a->ctx);
    attention_backward(a->dq, a->dk, a->dv, a->dout, a->att, a->q, a->k, a->v, a->B, a->NH, a->T,
                       a->hs, a->pm, &a->ctx);
}
static void run_train_v0(void *p) {
    Att *a = p;
    attention_forward_v0(a->out, a->att, a->q, a->k, a->v, a->B, a->NH, a->T, a->hs, a->pm, &a->ctx);
    attention_backward_v0(a->dq, a->dk, a->dv, a->ds, a->db, a->dout, a->att, a->q, a->k, a->v, a->B, a->NH, a->T,
                          a->hs, a->pm, &a->ctx);
}
static void run_train_v1(void *p) {
    Att *a = p;
    attention_forward_v1(a->out, a->att, a->q, a->k, a->v, a->B, a->NH, a->T, a->hs, a->pm, &a->ctx);
    attention_backward_v1(a->dq, a->dk, a->dv, a->ds, a->db, a->dout, a->att, a->q, a->k, a->v, a->B, a->NH, a->T,
                          a->hs, a->pm, &a->ctx);
}
static void run_train_fwd_v1(void *p) {
    Att *a = p;
    attention_forward_v1(a->out, a->att, a->q, a->k, a->v, a->B, a->NH, a->T, a->hs, a->pm, &a->ctx);
}
static void run_train_fwd_cur(void *p) {
    Att *a = p;
    attention_forward(a->out, a->att, a->q, a->k, a->v, a->B, a->NH, a->T, a->hs, a->pm, &a->ctx);
}
static void run_train_fwd_v0(void *p) {
    Att *a = p;
    attention_forward_v0(a->out, a->att, a->q, a->k, a->v, a->B, a->NH, a->T, a->hs, a->pm, &a->ctx);
}

static const char *const METHODS[] = {"nope", "sinusoidal", "rotary", "t5", "alibi"};
enum { N_METHODS = 5 };

/* Forward kernels (tiled v0/cur, training v0/cur) against the naive one. */
static void check_attention_forward(void) {
    printf("attention forward vs attention_forward_naive\n");
    static const int hss[] = {8, 32, 64}, Ts[] = {1, 7, 64, 65, 129, 200, 333};
    Rng rng;
    rng_seed(&rng, 7);
    for (int mi = 0; mi < N_METHODS; mi++)
        for (size_t hi = 0; hi < sizeof hss / sizeof hss[0]; hi++)
            for (size_t ti = 0; ti < sizeof Ts / sizeof Ts[0]; ti++) {
                Att a;
                att_init(&a, METHODS[mi], 1, 4, Ts[ti], hss[hi], &rng);
                att_train_bufs(&a);
                size_t n = att_n(&a);
                float *ref = xmalloc_floats(n);
                attention_forward_naive(ref, a.q, a.k, a.v, 1, 4, a.T, a.hs, a.pm, &a.ctx);
                char what[128];
                struct { const char *name; Fn fn; } vs[] = {{"tiled v0", run_tiled_v0}, {"tiled cur", run_tiled_cur},
                                                            {"train v0", run_train_fwd_v0}, {"train v1", run_train_fwd_v1},
                                                            {"train cur", run_train_fwd_cur}};
                for (int v = 0; v < 5; v++) {
                    memset(a.out, 0, n * sizeof(float));
                    vs[v].fn(&a);
                    snprintf(what, sizeof what, "%-10s %-9s hs=%-2d T=%d", METHODS[mi], vs[v].name, a.hs, a.T);
                    check(what, a.out, ref, n, 1e-4, 2e-5);
                }
                free(ref);
                att_free(&a);
            }
}

/* Training backward: cur against v0 (v0 is the version tests/test_attention.c
 * checked by finite differences), every gradient including the bias parameters. */
static void check_attention_backward(void) {
    printf("attention backward: v1 and cur vs v0\n");
    static const int hss[] = {8, 32, 64}, Ts[] = {1, 9, 64, 100, 130};
    Rng rng;
    rng_seed(&rng, 8);
    for (int mi = 0; mi < N_METHODS; mi++)
        for (size_t hi = 0; hi < sizeof hss / sizeof hss[0]; hi++)
            for (size_t ti = 0; ti < sizeof Ts / sizeof Ts[0]; ti++) {
                Att a;
                att_init(&a, METHODS[mi], 2, 4, Ts[ti], hss[hi], &rng);
                att_train_bufs(&a);
                size_t n = att_n(&a), np = pos_param_count(a.pm, &a.ctx.cfg);
                float *ref[4];
                for (int i = 0; i < 4; i++) ref[i] = xmalloc_floats(i < 3 ? n : np + 1);
                run_train_v0(&a);
                memcpy(ref[0], a.dq, n * sizeof(float));
                memcpy(ref[1], a.dk, n * sizeof(float));
                memcpy(ref[2], a.dv, n * sizeof(float));
                memcpy(ref[3], a.dparams, np * sizeof(float));
                struct { const char *name; Fn fn; } vs[] = {{"v1", run_train_v1}, {"cur", run_train_cur}};
                for (int v = 0; v < 2; v++) {
                    memset(a.dq, 0, n * sizeof(float));
                    memset(a.dk, 0, n * sizeof(float));
                    memset(a.dv, 0, n * sizeof(float));
                    memset(a.dparams, 0, (np + 1) * sizeof(float));
                    memset(a.att, 0, (size_t)a.B * a.NH * a.T * a.T * sizeof(float));
                    vs[v].fn(&a);
                    const char *names[] = {"dq", "dk", "dv", "dparams"};
                    float *got[] = {a.dq, a.dk, a.dv, a.dparams};
                    for (int i = 0; i < 4; i++) {
                        if (i == 3 && !np) continue;
                        char what[128];
                        snprintf(what, sizeof what, "%-10s %-3s %-7s hs=%-2d T=%d B=2", METHODS[mi], vs[v].name, names[i],
                                 a.hs, a.T);
                        check(what, got[i], ref[i], i < 3 ? n : np, 1e-4, 1e-5);
                    }
                }
                for (int i = 0; i < 4; i++) free(ref[i]);
                att_free(&a);
            }
}

static void time_attention(int reps) {
    printf("attention timings (NH 4, evaluation hs 32; GFLOP/s counts the causal half: 2 T^2 hs per head forward)\n");
    static const char *const ms[] = {"nope", "alibi", "t5"};
    Rng rng;
    rng_seed(&rng, 9);
    /* training: the quick (B 4, T 128, hs 16) and paper (B 8, T 256, hs 32) presets' shapes,
     * forward + backward (3x forward FLOPs) */
    static const int shapes[][3] = {{4, 128, 16}, {8, 256, 32}};
    for (int s = 0; s < 2; s++)
        for (int mi = 0; mi < 3; mi++) {
            Att a;
            att_init(&a, ms[mi], shapes[s][0], 4, shapes[s][1], shapes[s][2], &rng);
            att_train_bufs(&a);
            double flops = 3.0 * 2.0 * a.B * a.NH * (double)a.T * a.T * a.hs;
            double t0, t1, t2, t3;
            time_pair(run_train_v0, run_train_cur, &a, reps, &t0, &t1);
            time_pair(run_train_v1, run_train_cur, &a, reps, &t2, &t3);
            if (t3 < t1) t1 = t3;
            printf("  train fwd+bwd %-6s B=%-2d T=%-4d hs=%-2d  v0 %7.2f ms %5.1f GFLOP/s  v1 %7.2f ms %5.1f  cur %7.2f ms %5.1f  "
                   "(cur/v0 %.2fx, cur/v1 %.2fx)\n",
                   ms[mi], a.B, a.T, a.hs, t0 * 1e3, flops / t0 / 1e9, t2 * 1e3, flops / t2 / 1e9, t1 * 1e3, flops / t1 / 1e9,
                   t0 / t1, t2 / t1);
            att_free(&a);
        }
    static const int Ts[] = {1024, 4096, 8192};
    for (int ti = 0; ti < (quick ? 2 : 3); ti++)
        for (int mi = 0; mi < 3; mi++) {
            Att a;
            att_init(&a, ms[mi], 1, 4, Ts[ti], 32, &rng);
            double flops = 2.0 * a.NH * (double)a.T * a.T * a.hs;
            int r = Ts[ti] > 4096 ? (reps + 1) / 2 : reps;
            double t0, t1;
            time_pair(run_tiled_v0, run_tiled_cur, &a, r, &t0, &t1);
            printf("  eval tiled    %-6s T=%-5d       v0 %7.2f ms %6.1f GFLOP/s   cur %7.2f ms %6.1f GFLOP/s  (%.2fx)\n",
                   ms[mi], a.T, t0 * 1e3, flops / t0 / 1e9, t1 * 1e3, flops / t1 / 1e9, t0 / t1);
            att_free(&a);
        }
}

/* ---- elementwise and row-wise ops -------------------------------------------------------- */

typedef struct Ops {
    int BT, C, V;
    float *x, *y, *out, *out2, *dout, *w, *b, *dw, *db, *mean, *rstd, *lse;
    int *tg;
} Ops;

static void ops_init(Ops *o, int BT, int C, int V, Rng *rng) {
    memset(o, 0, sizeof *o);
    o->BT = BT, o->C = C, o->V = V;
    size_t big = (size_t)BT * (4 * C > V ? 4 * C : V);
    float **bufs[] = {&o->x, &o->y, &o->out, &o->out2, &o->dout};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) *bufs[i] = xmalloc_floats(big);
    fill(o->x, big, 2.0f, rng);
    fill(o->dout, big, 1.0f, rng);
    o->w = xmalloc_floats(C);
    o->b = xmalloc_floats(C);
    o->dw = xmalloc_floats(C);
    o->db = xmalloc_floats(C);
    for (int c = 0; c < C; c++) o->w[c] = 1.0f + 0.1f * rng_normal(rng), o->b[c] = 0.1f * rng_normal(rng);
    o->mean = xmalloc_floats(BT);
    o->rstd = xmalloc_floats(BT);
    o->lse = xmalloc_floats(BT);
    o->tg = xmalloc(sizeof(int) * BT);
    for (int t = 0; t < BT; t++) o->tg[t] = (int)(rng_u64(rng) % V);
}

static void ops_free(Ops *o) {
    float *bufs[] = {o->x, o->y, o->out, o->out2, o->dout, o->w, o->b, o->dw, o->db, o->mean, o->rstd, o->lse};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(o->tg);
}

static size_t n_4c(const Ops *o) { return (size_t)o->BT * 4 * o->C; }

#define OPS_RUN(name, call)                  \
    static void name(void *p) {              \
        Ops *o = p;                          \
        call;                                \
    }
OPS_RUN(gelu_f_cur, gelu_forward(o->out, o->x, (size_t)o->BT * 4 * o->C))
OPS_RUN(gelu_f_v0, gelu_forward_v0(o->out, o->x, (size_t)o->BT * 4 * o->C))
OPS_RUN(gelu_b_cur, gelu_backward(o->out, o->x, o->dout, (size_t)o->BT * 4 * o->C, 1.0f))
OPS_RUN(gelu_b_v0, gelu_backward_v0(o->out, o->x, o->dout, (size_t)o->BT * 4 * o->C))
/* training's GELU pair (the slope kept in the forward; y is a copy of x, which the forward overwrites)
 * against the forward and backward that recompute it, which the "v0" slot times here */
OPS_RUN(gelu_t_cur, memcpy(o->y, o->x, sizeof(float) * n_4c(o)); gelu_forward_keep_slope(o->out2, o->y, n_4c(o));
        gelu_backward_kept(o->out, o->y, o->dout, n_4c(o)))
OPS_RUN(gelu_t_v0, gelu_forward(o->out2, o->x, n_4c(o)); gelu_backward(o->out, o->x, o->dout, n_4c(o), 0.0f))
OPS_RUN(ln_f_cur, layernorm_forward(o->out, o->mean, o->rstd, o->x, o->w, o->b, o->BT, o->C))
OPS_RUN(ln_f_v0, layernorm_forward_v0(o->out, o->mean, o->rstd, o->x, o->w, o->b, o->BT, o->C))
OPS_RUN(ln_b_cur, layernorm_backward(o->out, o->dw, o->db, o->dout, o->x, o->w, o->mean, o->rstd, o->BT, o->C))
OPS_RUN(ln_b_v0, layernorm_backward_v0(o->out, o->dw, o->db, o->dout, o->x, o->w, o->mean, o->rstd, o->BT, o->C))
OPS_RUN(ce_f_cur, crossentropy_forward(o->out, o->lse, o->x, o->tg, o->BT, o->V))
OPS_RUN(ce_f_v0, crossentropy_forward_v0(o->out, o->lse, o->x, o->tg, o->BT, o->V))
OPS_RUN(ce_b_cur, crossentropy_backward(o->out, o->x, o->lse, o->tg, 1.0f / o->BT, o->BT, o->V, 1.0f))
OPS_RUN(ce_b_v0, crossentropy_backward_v0(o->out, o->x, o->lse, o->tg, 1.0f / o->BT, o->BT, o->V))

typedef struct OpPair {
    const char *name;
    Fn cur, v0;
    size_t (*n_out)(const Ops *);   /* elements of o->out to compare */
    int zero_out;                   /* backward ops accumulate: start from zero */
} OpPair;

static size_t n_c(const Ops *o) { return (size_t)o->BT * o->C; }
static size_t n_bt(const Ops *o) { return (size_t)o->BT; }
static size_t n_v(const Ops *o) { return (size_t)o->BT * o->V; }

static const OpPair OPS[] = {
    {"gelu_forward", gelu_f_cur, gelu_f_v0, n_4c, 0},
    {"gelu_backward", gelu_b_cur, gelu_b_v0, n_4c, 1},
    {"gelu train pair", gelu_t_cur, gelu_t_v0, n_4c, 1},
    {"layernorm_forward", ln_f_cur, ln_f_v0, n_c, 0},
    {"layernorm_backward", ln_b_cur, ln_b_v0, n_c, 1},
    {"crossentropy_forward", ce_f_cur, ce_f_v0, n_bt, 0},
    {"crossentropy_backward", ce_b_cur, ce_b_v0, n_v, 1},
};

static void ops_check_and_time(int reps) {
    printf("ops (BT 2048, C 128, V 256: the quick preset's shapes): cur vs v0, then timings\n");
    Rng rng;
    rng_seed(&rng, 11);
    Ops o;
    ops_init(&o, 2048, 128, 256, &rng);
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
        const OpPair *op = &OPS[i];
        size_t n = op->n_out(&o);
        /* crossentropy_backward needs lse from its forward */
        crossentropy_forward_v0(o.out2, o.lse, o.x, o.tg, o.BT, o.V);
        layernorm_forward_v0(o.out2, o.mean, o.rstd, o.x, o.w, o.b, o.BT, o.C);
        memset(o.out, 0, n * sizeof(float));
        op->v0(&o);
        float *ref = xmalloc_floats(n);
        memcpy(ref, o.out, n * sizeof(float));
        memset(o.out, 0, n * sizeof(float));
        op->cur(&o);
        char what[96];
        snprintf(what, sizeof what, "%s cur vs v0", op->name);
        check(what, o.out, ref, n, 2e-5, 1e-5);
        free(ref);
        double t0, t1;
        time_pair(op->v0, op->cur, &o, reps, &t0, &t1);
        printf("  %-22s v0 %7.3f ms   cur %7.3f ms  (%.2fx)\n", op->name, t0 * 1e3, t1 * 1e3, t0 / t1);
    }
    ops_free(&o);
}

int main(int argc, char **argv) {
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else {
            fprintf(stderr, "usage: %s [--threads N] [--quick]\n", argv[0]);
            return 2;
        }
    }
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
    threads = omp_get_max_threads();
#endif
#ifdef USE_BLAS
    openblas_set_num_threads(threads > 0 ? threads : 1);
    printf("threads %d, OpenBLAS core %s\n", threads, openblas_get_corename());
#endif
    int reps = quick ? 3 : 7;
    use_cpu_time = threads == 1;
    printf("timing: %s\n", use_cpu_time ? "process CPU time (1 thread)" : "wall time");
    check_attention_forward();
    check_attention_backward();
    ops_check_and_time(reps);
    time_attention(reps);
    gemm_check_and_time(reps, quick);
    printf("%d checks failed\n", n_fail);
    return n_fail ? 1 : 0;
}
