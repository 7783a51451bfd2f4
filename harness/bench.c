/* bench.c — `posbench bench` (issue 6): speed and memory on this machine, and
 * the same model in PyTorch (dev/bench_torch.py) for comparison. Prints one
 * table (and, with --out DIR, DIR/bench.json and DIR/bench.csv):
 *
 *   blas      OpenBLAS's kernel set and why it was chosen; the cblas_sgemm peak
 *             under it and under every other kernel set this CPU can run
 *             (each in a child process with OPENBLAS_CORETYPE set: OpenBLAS
 *             reads it once, when it is loaded).
 *   train     tokens/s of a full training step (forward, backward, clipping,
 *             AdamW) per method, on the quick and paper presets' models at
 *             their training length and batch, posbench and PyTorch; MFU.
 *   eval      batch 1, one nonoverlapping window of T tokens: tokens/s and the
 *             peak resident memory of a fresh process per length (wait4's
 *             ru_maxrss), posbench and PyTorch.
 *   attention the tiled evaluation attention alone at T = 4096, GFLOP/s over
 *             the causal half, as a share of the sgemm peak.
 *   overhead  each method's training tokens/s against nope's.
 *   threads   training step speed-up from 1 thread to --threads.
 *
 * FLOPs of a training step, per token: 6 N (N = every parameter; the output
 * matrix is the tied embedding, used once per token by the logits matmul) plus
 * attention 6 n_layer T d: forward q.k^T and p.v over the causal half are
 * 2 n_layer T d per token on average, the backward twice that. MFU is that
 * over the sgemm peak this run measured under the selected kernel set.
 *
 * The machine may be shared: every figure is the best of --repeats rounds,
 * and posbench and PyTorch alternate within a round, so a noisy moment hurts
 * both sides alike. Both run under this process's environment
 * (OPENBLAS_CORETYPE, thread count); OMP_WAIT_POLICY is set to passive when
 * unset (see cmd_bench), for both.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef USE_BLAS
#include <cblas.h>
#endif
#include "../model/attention.h"
#include "../common/json.h"
#include "../common/spawn.h"
#include "../model/model.h"
#include "../model/ops.h"
#include "cli.h"
#include "config.h"
#include "run_common.h"
#include "runtime.h"

/* ---- the table ------------------------------------------------------------------------ */

enum { ST_NONE, ST_MET, ST_MISSED, ST_NA };

typedef struct Row {
    char section[12];
    char item[128];
    char unit[16];
    double pb, pt;        /* posbench, PyTorch; NAN when absent */
    double ratio;         /* how many times better posbench is (NAN: none) */
    char target[24];      /* "" when the row has no target */
    int status;
} Row;

typedef struct Table {
    Row *rows;
    int n, cap;
    char **notes;
    int n_notes, cap_notes;
} Table;

static Row *table_add(Table *t, const char *section, const char *item, const char *unit) {
    if (t->n == t->cap) t->rows = xrealloc(t->rows, sizeof(Row) * (t->cap = t->cap ? 2 * t->cap : 64));
    Row *r = &t->rows[t->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->section, sizeof r->section, "%s", section);
    snprintf(r->item, sizeof r->item, "%.127s", item);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    r->pb = r->pt = r->ratio = NAN;
    return r;
}

static void table_note(Table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void table_note(Table *t, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (t->n_notes == t->cap_notes) t->notes = xrealloc(t->notes, sizeof(char *) * (t->cap_notes = t->cap_notes ? 2 * t->cap_notes : 16));
    t->notes[t->n_notes++] = xstrdup(buf);
}

/* A ratio row against a ">= x" target. */
static void row_target(Row *r, double ratio, double at_least) {
    r->ratio = ratio;
    snprintf(r->target, sizeof r->target, ">= %gx", at_least);
    r->status = isfinite(ratio) ? (ratio >= at_least ? ST_MET : ST_MISSED) : ST_NA;
}

static void fmt_value(char *buf, size_t n, double v, const char *unit) {
    if (!isfinite(v)) snprintf(buf, n, "-");
    else if (!strcmp(unit, "%")) snprintf(buf, n, "%.1f%%", v);
    else if (fabs(v) >= 100000) snprintf(buf, n, "%.0fk", v / 1000);
    else if (fabs(v) >= 1000) snprintf(buf, n, "%.0f", v);
    else if (fabs(v) >= 100) snprintf(buf, n, "%.1f", v);
    else snprintf(buf, n, "%.2f", v);
}

static const char *status_word(int s) {
    return s == ST_MET ? "met" : s == ST_MISSED ? "MISSED" : s == ST_NA ? "n/a" : "";
}

static void table_print(const Table *t, FILE *f) {
    fprintf(f, "%-9s %-48s %10s %10s %7s  %-8s %s\n", "section", "measurement", "posbench", "pytorch", "ratio",
            "target", "result");
    for (int i = 0; i < t->n; i++) {
        const Row *r = &t->rows[i];
        char item[160], a[32], b[32], c[32];
        snprintf(item, sizeof item, "%s%s%s%s", r->item, r->unit[0] ? " [" : "", r->unit, r->unit[0] ? "]" : "");
        fmt_value(a, sizeof a, r->pb, r->unit);
        fmt_value(b, sizeof b, r->pt, r->unit);
        if (isfinite(r->ratio)) snprintf(c, sizeof c, "%.2fx", r->ratio);
        else snprintf(c, sizeof c, "-");
        fprintf(f, "%-9s %-48s %10s %10s %7s  %-8s %s\n", r->section, item, a, b, c, r->target[0] ? r->target : "-",
                status_word(r->status));
    }
    for (int i = 0; i < t->n_notes; i++) fprintf(f, "%s %s\n", i ? "  " : "notes:", t->notes[i]);
}

static void json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fprintf(f, "null");
}

typedef struct BenchMeta {
    int threads, steps, warmup, repeats, quick;
} BenchMeta;

static void json_kv(FILE *f, const char *key, const char *value, int last) {
    fprintf(f, "\"%s\": ", key);
    json_fput_string(f, value);
    fprintf(f, last ? "" : ", ");
}

static void table_write_json(const Table *t, FILE *f, const BenchMeta *bm) {
    char ts[32];
    runtime_iso_time(ts, sizeof ts);
    fprintf(f, "{\"config\": {");
    json_kv(f, "cpu", runtime_cpu_name(), 0);
    json_kv(f, "blas", runtime_blas_name(), 0);
    json_kv(f, "blas_core", runtime_blas_core(), 0);
    json_kv(f, "OPENBLAS_CORETYPE", getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "", 0);
    json_kv(f, "OMP_WAIT_POLICY", getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "", 0);
    json_kv(f, "commit", runtime_commit(), 0);
    json_kv(f, "time", ts, 0);
    fprintf(f, "\"threads\": %d, \"steps\": %d, \"warmup\": %d, \"repeats\": %d, \"quick\": %s},\n \"rows\": [\n",
            bm->threads, bm->steps, bm->warmup, bm->repeats, bm->quick ? "true" : "false");
    for (int i = 0; i < t->n; i++) {
        const Row *r = &t->rows[i];
        fprintf(f, "  {\"section\": ");
        json_fput_string(f, r->section);
        fprintf(f, ", \"item\": ");
        json_fput_string(f, r->item);
        fprintf(f, ", \"unit\": ");
        json_fput_string(f, r->unit);
        fprintf(f, ", \"posbench\": ");
        json_num(f, r->pb);
        fprintf(f, ", \"pytorch\": ");
        json_num(f, r->pt);
        fprintf(f, ", \"ratio\": ");
        json_num(f, r->ratio);
        fprintf(f, ", \"target\": ");
        json_fput_string(f, r->target);
        fprintf(f, ", \"result\": ");
        json_fput_string(f, status_word(r->status));
        fprintf(f, "}%s\n", i + 1 < t->n ? "," : "");
    }
    fprintf(f, " ],\n \"notes\": [");
    for (int i = 0; i < t->n_notes; i++) {
        fprintf(f, "%s\n  ", i ? "," : "");
        json_fput_string(f, t->notes[i]);
    }
    fprintf(f, "]}\n");
}

static void csv_field(FILE *f, const char *s) {
    if (strpbrk(s, ",\"\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}

static void csv_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
}

static void table_write_csv(const Table *t, FILE *f) {
    fprintf(f, "section,item,unit,posbench,pytorch,ratio,target,result\n");
    for (int i = 0; i < t->n; i++) {
        const Row *r = &t->rows[i];
        csv_field(f, r->section);
        fputc(',', f);
        csv_field(f, r->item);
        fputc(',', f);
        csv_field(f, r->unit);
        fputc(',', f);
        csv_num(f, r->pb);
        fputc(',', f);
        csv_num(f, r->pt);
        fputc(',', f);
        csv_num(f, r->ratio);
        fputc(',', f);
        csv_field(f, r->target);
        fputc(',', f);
        csv_field(f, status_word(r->status));
        fputc('\n', f);
    }
}

/* ---- child processes ------------------------------------------------------------------ */

/* Run argv (argv[0] a path) with extra "NAME=value" environment entries set,
 * collect its stdout, and its peak RSS. Returns the exit status (-1 if it
 * could not run); *out is malloc'd, NUL-terminated. stderr passes through. */
static int run_child(char *const argv[], const char *const env_set[], char **out, long *maxrss_kb) {
    SpawnOpts so = {.env = env_set, .out = out, .maxrss_kb = maxrss_kb};
    return spawn_wait(argv[0], argv, &so);
}

/* Each line of text that parses as a JSON object, in order; fn(obj, arg) for each. */
static void for_json_lines(const char *text, void (*fn)(const JsonValue *, void *), void *arg) {
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && p[0] == '{') {
            JsonDoc doc;
            char err[ERRLEN];
            if (json_parse(&doc, p, n, err, sizeof err) == 0) {
                if (doc.root.type == JSON_OBJECT) fn(&doc.root, arg);
                json_doc_free(&doc);
            }
        }
        p += n + (e ? 1 : 0);
    }
}

static double jnum(const JsonValue *o, const char *key) {
    const JsonValue *v = json_get(o, key);
    if (!v || v->type != JSON_NUMBER) return NAN;
    return v->is_int ? (double)v->u.i : v->u.num;
}

static const char *jstr(const JsonValue *o, const char *key) {
    const JsonValue *v = json_get(o, key);
    return v && v->type == JSON_STRING ? v->u.str : NULL;
}

static char self_exe[4096];

/* ---- measurements in this process -------------------------------------------------------- */

typedef struct ModelShape {
    char preset[32];
    int n_layer, d_model, n_head, vocab, batch, T;
} ModelShape;

static void shape_of_preset(ModelShape *s, const char *preset) {
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

typedef struct TrainResult {
    double tok_s;           /* batch * T / fastest step time */
    double flops_per_token;
    size_t n_params;
} TrainResult;

/* Fastest of `steps` full training steps after `warmup` untimed ones (on a shared
 * machine the fastest step is the one least disturbed by other processes). */
static TrainResult bench_train(const ModelShape *s, const char *method, int warmup, int steps) {
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
        model_forward(&m, tok, tok + 1, B, T);
        model_zero_grad(&m);
        model_backward(&m);
        grad_clip(&m, 1.0f);
        adamw_update(&opt, &m, 1e-3f);
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
static double bench_sgemm_peak(int quick, int *best_n) {
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

/* One window of T tokens through model_eval_window: best seconds of `repeats` after one warm-up. */
static double bench_eval_window(const ModelShape *s, const char *method, int T, int repeats) {
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
static double bench_attention_tiled(const ModelShape *s, const char *method, int T, int repeats) {
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

/* ---- child modes: `posbench bench --child sgemm|eval:METHOD:T:REPEATS` ------------------ */

static int bench_child(const char *what, int quick) {
    if (!strcmp(what, "sgemm")) {
        int n = 0;
        double g = bench_sgemm_peak(quick, &n);
        printf("{\"kind\": \"sgemm\", \"core\": \"%s\", \"gflops\": %.2f, \"n\": %d, \"threads\": %d}\n",
               runtime_blas_core(), g, n, runtime_threads());
        return 0;
    }
    char method[64];
    int T, repeats;
    if (sscanf(what, "eval:%63[^:]:%d:%d", method, &T, &repeats) == 3 && T > 0 && repeats > 0) {
        ModelShape s;
        shape_of_preset(&s, "paper");
        double sec = bench_eval_window(&s, method, T, repeats);
        printf("{\"kind\": \"eval\", \"method\": \"%s\", \"T\": %d, \"seconds\": %.5f, \"tokens_per_s\": %.1f}\n", method,
               T, sec, T / sec);
        return 0;
    }
    die_input("bench: --child: unknown measurement '%s'", what);
}

/* ---- PyTorch (dev/bench_torch.py) ---------------------------------------------------------- */

typedef struct TorchTrain {
    char method[32];
    double tok_s;
} TorchTrain;

typedef struct TorchOut {
    int skipped;
    char reason[256];
    char core[64];
    TorchTrain train[16];
    int n_train;
    struct { char method[32]; int T; double tok_s, rss_mb; } eval[16];
    int n_eval;
} TorchOut;

static void torch_line(const JsonValue *o, void *arg) {
    TorchOut *t = arg;
    const char *kind = jstr(o, "kind");
    if (!kind) return;
    if (!strcmp(kind, "skipped")) {
        t->skipped = 1;
        snprintf(t->reason, sizeof t->reason, "%s", jstr(o, "reason") ? jstr(o, "reason") : "skipped");
    } else if (!strcmp(kind, "config")) {
        const JsonValue *b = json_get(o, "blas");
        const char *core = b ? jstr(b, "openblas_core") : NULL;
        if (core) snprintf(t->core, sizeof t->core, "%s", core);
    } else if (!strcmp(kind, "train") && t->n_train < 16 && jstr(o, "method")) {
        TorchTrain *r = &t->train[t->n_train++];
        snprintf(r->method, sizeof r->method, "%.31s", jstr(o, "method"));
        /* fastest step, as for posbench */
        double best = jnum(o, "step_ms_min");
        r->tok_s = isfinite(best) && best > 0 ? jnum(o, "batch") * jnum(o, "T") / (best / 1000.0) : jnum(o, "tokens_per_s_best");
    } else if (!strcmp(kind, "eval") && t->n_eval < 16 && jstr(o, "method")) {
        snprintf(t->eval[t->n_eval].method, sizeof t->eval[0].method, "%.31s", jstr(o, "method"));
        t->eval[t->n_eval].T = (int)jnum(o, "T");
        t->eval[t->n_eval].tok_s = jnum(o, "tokens_per_s");
        t->eval[t->n_eval].rss_mb = jnum(o, "peak_rss_mb");
        t->n_eval++;
    }
}

typedef struct Opts {
    int threads, quick, steps, warmup, repeats, skip_torch, eval_repeats;
    const char *python, *script;
    char methods[16][32];
    int n_methods;
    char presets[4][32];
    int n_presets;
    char eval_methods[16][32];
    int n_eval_methods;
    long eval_lens[8];
    int n_eval_lens;
} Opts;

static int torch_run(const Opts *o, char **args_extra, int n_extra, TorchOut *t) {
    memset(t, 0, sizeof *t);
    char threads[16];
    snprintf(threads, sizeof threads, "%d", o->threads);
    char *argv[64];
    int a = 0;
    argv[a++] = (char *)o->python;
    argv[a++] = (char *)o->script;
    argv[a++] = "--threads";
    argv[a++] = threads;
    for (int i = 0; i < n_extra && a < 62; i++) argv[a++] = args_extra[i];
    argv[a] = NULL;
    char *out = NULL;
    int rc = run_child(argv, NULL, &out, NULL);
    if (out) for_json_lines(out, torch_line, t);
    free(out);
    if (rc != 0 && !t->skipped) {
        t->skipped = 1;
        snprintf(t->reason, sizeof t->reason, "%s %s exited with status %d", o->python, o->script, rc);
    }
    return t->skipped ? -1 : 0;
}

static void join_list(char *buf, size_t n, char list[][32], int count) {
    buf[0] = 0;
    for (int i = 0; i < count; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%s", i ? "," : "", list[i]);
    }
}

/* ---- OpenBLAS kernel sets --------------------------------------------------------------------- */

/* The kernel sets this CPU can run, slowest first (x86-64 only; elsewhere just the selected one).
 * Unused in a NO_BLAS build. */
__attribute__((unused)) static int candidate_cores(const char *out[], int max) {
    int n = 0;
#if defined(__x86_64__)
    char flags[8300] = "";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[8192];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "flags", 5)) {
                snprintf(flags, sizeof flags, " %s ", strchr(line, ':') ? strchr(line, ':') + 1 : line);
                break;
            }
        fclose(f);
    }
    for (char *p = flags; *p; p++)
        if (*p == '\n' || *p == '\t') *p = ' ';
#define HAS(x) (strstr(flags, " " x " ") != NULL)
    if (n < max) out[n++] = "Prescott";
    if (HAS("avx") && n < max) out[n++] = "Sandybridge";
    if (HAS("avx2") && HAS("fma") && n < max) out[n++] = "Haswell";
    if (HAS("avx512f") && HAS("avx512bw") && HAS("avx512vl") && HAS("avx512dq") && HAS("avx512cd") && n < max)
        out[n++] = "SkylakeX";
    if (HAS("avx512_bf16") && n < max) out[n++] = "Cooperlake";
#undef HAS
#else
    (void)out;
    (void)max;
#endif
    return n;
}

typedef struct CorePeak {
    char core[64];
    double gflops;
} CorePeak;

__attribute__((unused)) static void sgemm_line(const JsonValue *o, void *arg) {
    CorePeak *p = arg;
    const char *kind = jstr(o, "kind");
    if (kind && !strcmp(kind, "sgemm")) {
        snprintf(p->core, sizeof p->core, "%s", jstr(o, "core") ? jstr(o, "core") : "?");
        p->gflops = jnum(o, "gflops");
    }
}

static void eval_line(const JsonValue *o, void *arg) {
    double *tok_s = arg;
    const char *kind = jstr(o, "kind");
    if (kind && !strcmp(kind, "eval")) *tok_s = jnum(o, "tokens_per_s");
}

/* 1-minute load average (NAN if unknown). */
static double load_average(void) {
    double l = NAN;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = NAN;
        fclose(f);
    }
    return l;
}

/* ---- the command --------------------------------------------------------------------------------- */

static const Command bench_cmd = {"bench", "", "measure speed and memory (sgemm peak, training, evaluation, threads)",
                                  NULL};

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* "a,b,c" into out[]; "all" is every registered method. */
static int split_names(const char *s, char out[][32], int max, const char *flag) {
    int n = 0;
    if (!strcmp(s, "all") && strcmp(flag, "--presets")) {
        if (pos_method_count > max) die_input("%s: all %d methods exceed the limit of %d", flag, pos_method_count, max);
        for (int k = 0; k < pos_method_count; k++) snprintf(out[n++], 32, "%s", pos_methods[k]->name);
        return n;
    }
    char *buf = xstrdup(s), *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n >= max) die_input("%s: at most %d names", flag, max);
        if (strlen(tok) >= 32) die_input("%s: '%s' is too long", flag, tok);
        snprintf(out[n++], 32, "%s", tok);
    }
    free(buf);
    if (!n) die_input("%s: empty list", flag);
    return n;
}

static void sgemm_section(Table *t, const Opts *o, double *peak_sel) {
    const char *env_core = getenv("OPENBLAS_CORETYPE");
    const char *sel = runtime_blas_core();
    Row *r = table_add(t, "blas", "", "");
    const char *how = !env_core ? "auto-detected" : runtime_coretype_chosen() ? "chosen from the CPU flags" : "OPENBLAS_CORETYPE";
    snprintf(r->item, sizeof r->item, "kernel set: %s (%s)", sel, how);
#ifdef USE_BLAS
    table_note(t, "OpenBLAS: %s; kernel set %s, %s.", openblas_get_config(), sel,
               !env_core ? "chosen by OpenBLAS's CPU detection (OPENBLAS_CORETYPE unset)"
               : runtime_coretype_chosen() ? "chosen by posbench from the CPU's flags (OPENBLAS_CORETYPE was unset)"
                                           : "as OPENBLAS_CORETYPE in the environment asks");
#else
    table_note(t, "built without BLAS (NO_BLAS=1): sgemm is the naive loop");
#endif
    int n = 0;
    progress("sgemm peak under %s (%d threads)", sel, o->threads);
    *peak_sel = bench_sgemm_peak(o->quick, &n);
    r = table_add(t, "blas", "", "GFLOP/s");
    snprintf(r->item, sizeof r->item, "sgemm peak, %s kernels (selected)", sel);
    r->pb = *peak_sel;
    table_note(t, "sgemm peak: best C = A B^T over square n in %s, %d threads; the selected set's is measured before "
               "and after training, the larger kept.", o->quick ? "{1024}" : "{512,1024,2048}", o->threads);
#ifdef USE_BLAS
    const char *cand[8];
    int nc = candidate_cores(cand, 8);
    CorePeak best = {"", *peak_sel};
    snprintf(best.core, sizeof best.core, "%s", sel);
    char seen[8][64];
    int n_seen = 0, n_peaks = 0;
    CorePeak peaks[8];
    snprintf(seen[n_seen++], 64, "%s", sel);
    for (int i = 0; i < nc; i++) {
        int dup = 0;
        for (int j = 0; j < n_seen; j++) dup |= !strcasecmp(seen[j], cand[i]);
        if (dup) continue;
        progress("sgemm peak under OPENBLAS_CORETYPE=%s (child process)", cand[i]);
        char env[96], thr[16];
        snprintf(env, sizeof env, "OPENBLAS_CORETYPE=%s", cand[i]);
        snprintf(thr, sizeof thr, "%d", o->threads);
        char *argv[] = {self_exe, "bench", "--threads", thr, "--child", "sgemm", o->quick ? "--quick" : NULL, NULL};
        const char *envs[] = {env, NULL};
        char *out = NULL;
        CorePeak p = {"", NAN};
        if (run_child(argv, envs, &out, NULL) == 0) for_json_lines(out, sgemm_line, &p);
        free(out);
        if (!p.core[0] || !isfinite(p.gflops)) continue;
        int dup2 = 0;   /* OpenBLAS replaces a name it does not know by another set */
        for (int j = 0; j < n_seen; j++) dup2 |= !strcasecmp(seen[j], p.core);
        if (dup2 || n_seen >= 8) continue;
        snprintf(seen[n_seen++], 64, "%s", p.core);
        r = table_add(t, "blas", "", "GFLOP/s");
        snprintf(r->item, sizeof r->item, "sgemm peak, %s kernels", p.core);
        r->pb = p.gflops;
        if (n_peaks < 8) peaks[n_peaks++] = p;
        if (p.gflops > best.gflops) best = p;
    }
    /* within 10% of the fastest, recommend the oldest set (candidates run slowest
     * first): SkylakeX and Cooperlake share their sgemm kernels, and a shared
     * machine's noise should not pick between them */
    for (int i = 0; i < n_peaks; i++)
        if (peaks[i].gflops >= 0.9 * best.gflops) {
            best = peaks[i];
            break;
        }
    if (strcasecmp(best.core, sel) && best.gflops > 1.25 * *peak_sel) {   /* beyond the noise of a shared machine */
        table_note(t,
                   "WARNING: the %s kernels run sgemm %.1fx faster than the selected %s. Choose them with "
                   "`export OPENBLAS_CORETYPE=%s` before running posbench (or `OPENBLAS_CORETYPE=%s make bench`); "
                   "PyTorch here uses the same OpenBLAS and follows the same variable.",
                   best.core, best.gflops / *peak_sel, sel, best.core, best.core);
        fprintf(stderr, "bench: WARNING: OPENBLAS_CORETYPE=%s runs sgemm %.1fx faster than the selected %s\n",
                best.core, best.gflops / *peak_sel, sel);
    }
#endif
}

int cmd_bench(int argc, char **argv) {
    Flag fl[] = {
        {"--threads", "N", "0", "threads for posbench and PyTorch (0 = all cores)", NULL, 0},
        {"--methods", "LIST", "nope,sinusoidal,rotary,t5,alibi", "position methods to train", NULL, 0},
        {"--presets", "LIST", "quick,paper", "presets whose model, batch and training length are benched", NULL, 0},
        {"--steps", "N", "10", "timed training steps per measurement (the fastest is reported)", NULL, 0},
        {"--warmup", "N", "2", "untimed training steps first", NULL, 0},
        {"--repeats", "N", "3", "rounds; every figure is the best of them", NULL, 0},
        {"--eval-lens", "LIST", "1024,4096,8192", "evaluation window lengths (batch 1, nonoverlapping)", NULL, 0},
        {"--eval-methods", "LIST", "alibi", "methods evaluated at those lengths", NULL, 0},
        {"--eval-repeats", "N", "2", "timed windows per length (best reported), after one warm-up", NULL, 0},
        {"--quick", NULL, NULL, "smoke test: 3 steps, 1 round, lengths 1024,4096, one sgemm size", NULL, 0},
        {"--skip-torch", NULL, NULL, "do not run the PyTorch side", NULL, 0},
        {"--python", "PATH", "/usr/bin/python3", "Python with PyTorch (Debian's python3-torch)", NULL, 0},
        {"--out", "DIR", NULL, "also write DIR/bench.json and DIR/bench.csv", NULL, 0},
        {"--child", "WHAT", NULL, "internal: one measurement in this process, printed as JSON (sgemm, eval:M:T:R)", NULL, 0},
    };
    int nf = NFLAGS(fl);
    flags_parse(fl, nf, argc, argv, &bench_cmd, NULL, 0);
    ssize_t n_exe = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n_exe <= 0) die_internal("bench: cannot find this executable (/proc/self/exe)");
    self_exe[n_exe] = 0;
    /* OMP_WAIT_POLICY and OPENBLAS_CORETYPE are settled before any command runs
     * (main.c, runtime_prepare_env); children and PyTorch inherit them. */
    Opts o;
    memset(&o, 0, sizeof o);
    o.quick = flag_on(fl, nf, "--quick");
    o.threads = runtime_set_threads((int)flag_int(fl, nf, "--threads", 0, 1024));
    if (flag_str(fl, nf, "--child")) return bench_child(flag_str(fl, nf, "--child"), o.quick);

    o.steps = (int)flag_int(fl, nf, "--steps", 1, 100000);
    o.warmup = (int)flag_int(fl, nf, "--warmup", 0, 100000);
    o.repeats = (int)flag_int(fl, nf, "--repeats", 1, 1000);
    o.eval_repeats = (int)flag_int(fl, nf, "--eval-repeats", 1, 1000);
    o.skip_torch = flag_on(fl, nf, "--skip-torch");
    o.python = flag_str(fl, nf, "--python");
    o.n_methods = split_names(flag_str(fl, nf, "--methods"), o.methods, 16, "--methods");
    o.n_presets = split_names(flag_str(fl, nf, "--presets"), o.presets, 4, "--presets");
    o.n_eval_methods = split_names(flag_str(fl, nf, "--eval-methods"), o.eval_methods, 16, "--eval-methods");
    const char *lens = flag_str(fl, nf, "--eval-lens");
    if (o.quick && !flag_get(fl, nf, "--eval-lens")->set) lens = "1024,4096";
    o.n_eval_lens = *lens ? parse_int_list(lens, 1, 1 << 20, o.eval_lens, 8) : 0;
    if (o.n_eval_lens < 0) die_input("--eval-lens: '%s' must be comma-separated whole numbers", lens);
    if (o.quick) {
        if (!flag_get(fl, nf, "--steps")->set) o.steps = 3;
        if (!flag_get(fl, nf, "--warmup")->set) o.warmup = 1;
        if (!flag_get(fl, nf, "--repeats")->set) o.repeats = 1;
        if (!flag_get(fl, nf, "--eval-repeats")->set) o.eval_repeats = 1;
    }
    char err[ERRLEN];
    for (int i = 0; i < o.n_methods; i++)
        if (pos_spec_check(o.methods[i], err, sizeof err) != 0) die_input("--methods: %s", err);
    for (int i = 0; i < o.n_eval_methods; i++)
        if (pos_spec_check(o.eval_methods[i], err, sizeof err) != 0) die_input("--eval-methods: %s", err);
    ModelShape shapes[4];
    for (int i = 0; i < o.n_presets; i++) shape_of_preset(&shapes[i], o.presets[i]);   /* exits on an unknown preset */
    const char *out_dir = flag_str(fl, nf, "--out");
    if (out_dir && mkdir_p(out_dir, err, sizeof err) != 0) die_input("--out: %s", err);

    static char script[4200];
    snprintf(script, sizeof script, "%s/dev/bench_torch.py", posbench_home());
    o.script = script;
    int torch_ok = !o.skip_torch;
    char torch_note[512] = "";
    if (torch_ok && !path_exists(o.script)) {
        torch_ok = 0;
        snprintf(torch_note, sizeof torch_note, "PyTorch side skipped: %s not found", o.script);
    } else if (torch_ok && access(o.python, X_OK) != 0) {
        torch_ok = 0;
        snprintf(torch_note, sizeof torch_note, "PyTorch side skipped: %s not found (apt-get install python3-torch)", o.python);
    } else if (!torch_ok) {
        snprintf(torch_note, sizeof torch_note, "PyTorch side skipped (--skip-torch)");
    }

    Table t = {0};
    double t_start = now_seconds(), load_start = load_average();
    /* ---- BLAS ---- */
    double peak = 0;
    sgemm_section(&t, &o, &peak);

    /* ---- training: rounds alternate posbench and PyTorch; best of rounds ---- */
    double pb_tok[4][16], pt_tok[4][16], fpt[4][16];
    size_t n_params[4][16];
    for (int p = 0; p < o.n_presets; p++)
        for (int mi = 0; mi < o.n_methods; mi++) pb_tok[p][mi] = pt_tok[p][mi] = NAN;
    char mlist[512];
    join_list(mlist, sizeof mlist, o.methods, o.n_methods);
    for (int round = 0; round < o.repeats; round++)
        for (int p = 0; p < o.n_presets; p++) {
            const ModelShape *s = &shapes[p];
            for (int mi = 0; mi < o.n_methods; mi++) {
                progress("train %s %s (B %d, T %d), round %d/%d", s->preset, o.methods[mi], s->batch, s->T, round + 1,
                         o.repeats);
                TrainResult r = bench_train(s, o.methods[mi], o.warmup, o.steps);
                if (!(r.tok_s <= pb_tok[p][mi])) pb_tok[p][mi] = r.tok_s;
                fpt[p][mi] = r.flops_per_token;
                n_params[p][mi] = r.n_params;
            }
            if (!torch_ok) continue;
            progress("train %s in PyTorch (%s), round %d/%d", s->preset, mlist, round + 1, o.repeats);
            char a_l[16], a_d[16], a_h[16], a_v[16], a_b[16], a_t[16], a_s[16], a_w[16];
            snprintf(a_l, 16, "%d", s->n_layer), snprintf(a_d, 16, "%d", s->d_model), snprintf(a_h, 16, "%d", s->n_head);
            snprintf(a_v, 16, "%d", s->vocab), snprintf(a_b, 16, "%d", s->batch), snprintf(a_t, 16, "%d", s->T);
            snprintf(a_s, 16, "%d", o.steps), snprintf(a_w, 16, "%d", o.warmup);
            char *args[] = {"--method", mlist, "--layers", a_l, "--dim", a_d, "--heads", a_h, "--vocab", a_v,
                            "--batch", a_b, "--train-len", a_t, "--steps", a_s, "--warmup", a_w, "--eval-lens", ""};
            TorchOut to;
            if (torch_run(&o, args, NFLAGS(args), &to) != 0) {
                torch_ok = 0;
                snprintf(torch_note, sizeof torch_note, "PyTorch side skipped: %s", to.reason);
                continue;
            }
            for (int i = 0; i < to.n_train; i++)
                for (int mi = 0; mi < o.n_methods; mi++)
                    if (!strcmp(to.train[i].method, o.methods[mi]) && !(to.train[i].tok_s <= pt_tok[p][mi]))
                        pt_tok[p][mi] = to.train[i].tok_s;
        }
    /* the peak again, now that training has run: on a shared machine the larger
     * of the two is the closer to the truth (and the stricter for MFU) */
    {
        int n = 0;
        progress("sgemm peak under %s again", runtime_blas_core());
        double again = bench_sgemm_peak(o.quick, &n);
        if (again > peak) {
            peak = again;
            t.rows[1].pb = peak;   /* the selected kernel set's row, added second by sgemm_section */
        }
    }
    for (int p = 0; p < o.n_presets; p++) {
        const ModelShape *s = &shapes[p];
        double need = !strcmp(s->preset, "quick") ? 2.0 : !strcmp(s->preset, "paper") ? 1.25 : 0;
        for (int mi = 0; mi < o.n_methods; mi++) {
            char item[256];
            snprintf(item, sizeof item, "%s %s tokens/s", s->preset, o.methods[mi]);
            Row *r = table_add(&t, "train", item, "tok/s");
            r->pb = pb_tok[p][mi];
            r->pt = pt_tok[p][mi];
            if (need > 0) row_target(r, r->pb / r->pt, need);
            else r->ratio = r->pb / r->pt;
            if (!isfinite(r->pt)) r->status = ST_NA;
        }
        for (int mi = 0; mi < o.n_methods; mi++) {
            char item[256];
            snprintf(item, sizeof item, "%s %s MFU", s->preset, o.methods[mi]);
            Row *r = table_add(&t, "train", item, "%");
            r->pb = 100.0 * pb_tok[p][mi] * fpt[p][mi] / (peak * 1e9);
            r->pt = 100.0 * pt_tok[p][mi] * fpt[p][mi] / (peak * 1e9);
            snprintf(r->target, sizeof r->target, ">= 70%%");
            r->status = r->pb >= 70.0 ? ST_MET : ST_MISSED;
        }
        table_note(&t, "%s: %d layers, d %d, %d heads, vocab %d, batch %d x T %d; %zu parameters; %.2f MFLOP per token "
                   "= 6 x parameters + 6 x n_layer x T x d (causal attention, forward and backward).",
                   s->preset, s->n_layer, s->d_model, s->n_head, s->vocab, s->batch, s->T, n_params[p][0],
                   fpt[p][0] / 1e6);
    }
    table_note(&t, "training tokens/s: batch x T / the fastest step (forward, backward, clip, AdamW) of %d after "
               "%d warm-up, best of %d rounds, for both sides; MFU = tokens/s x FLOPs per token / the selected sgemm peak.",
               o.steps, o.warmup, o.repeats);

    /* ---- method overhead (posbench) ---- */
    int i_nope = -1;
    for (int mi = 0; mi < o.n_methods; mi++)
        if (!strcmp(o.methods[mi], "nope")) i_nope = mi;
    if (i_nope >= 0)
        for (int p = 0; p < o.n_presets; p++)
            for (int mi = 0; mi < o.n_methods; mi++) {
                if (mi == i_nope) continue;
                char item[256];
                snprintf(item, sizeof item, "%s %s tokens/s vs nope", shapes[p].preset, o.methods[mi]);
                Row *r = table_add(&t, "overhead", item, "%");
                r->pb = 100.0 * (pb_tok[p][mi] / pb_tok[p][i_nope] - 1.0);
                r->pt = 100.0 * (pt_tok[p][mi] / pt_tok[p][i_nope] - 1.0);
                snprintf(r->target, sizeof r->target, ">= -5%%");
                r->status = r->pb >= -5.0 ? ST_MET : ST_MISSED;
            }

    /* ---- threads: 1 vs N on the first preset's model, nope ---- */
    if (o.threads > 1 && o.n_presets > 0) {
        const ModelShape *s = &shapes[0];
        double one = 0, many = 0;
        for (int round = 0; round < o.repeats; round++) {
            progress("threads: train %s nope with 1 and %d threads, round %d/%d", s->preset, o.threads, round + 1,
                     o.repeats);
            runtime_set_threads(1);
            double a = bench_train(s, "nope", o.warmup, o.steps).tok_s;
            runtime_set_threads(o.threads);
            double b = bench_train(s, "nope", o.warmup, o.steps).tok_s;
            one = a > one ? a : one;
            many = b > many ? b : many;
        }
        char item[256];
        snprintf(item, sizeof item, "%s nope tokens/s, 1 thread", s->preset);
        table_add(&t, "threads", item, "tok/s")->pb = one;
        snprintf(item, sizeof item, "%s nope tokens/s, %d threads", s->preset, o.threads);
        table_add(&t, "threads", item, "tok/s")->pb = many;
        snprintf(item, sizeof item, "speed-up %d threads / 1", o.threads);
        Row *r = table_add(&t, "threads", item, "x");
        r->pb = many / one;
        if (o.threads == 2) row_target(r, many / one, 1.7);
        r->ratio = NAN;
    }

    /* ---- evaluation: one child process per length, both sides ---- */
    if (o.n_eval_lens > 0) {
        ModelShape ps;
        shape_of_preset(&ps, "paper");
        for (int em = 0; em < o.n_eval_methods; em++) {
            double pb_ts[8], pb_rss[8], pt_ts[8], pt_rss[8];
            for (int li = 0; li < o.n_eval_lens; li++) pb_ts[li] = pb_rss[li] = pt_ts[li] = pt_rss[li] = NAN;
            for (int round = 0; round < (o.repeats > 2 ? 2 : o.repeats); round++) {
                for (int li = 0; li < o.n_eval_lens; li++) {
                    long T = o.eval_lens[li];
                    progress("eval %s T=%ld (child process), round %d", o.eval_methods[em], T, round + 1);
                    char what[96], thr[16];
                    snprintf(what, sizeof what, "eval:%s:%ld:%d", o.eval_methods[em], T, o.eval_repeats);
                    snprintf(thr, sizeof thr, "%d", o.threads);
                    char *argv2[] = {self_exe, "bench", "--threads", thr, "--child", what, NULL};
                    char *out = NULL;
                    long rss = -1;
                    double ts = NAN;
                    if (run_child(argv2, NULL, &out, &rss) == 0) for_json_lines(out, eval_line, &ts);
                    free(out);
                    if (!(ts <= pb_ts[li])) pb_ts[li] = ts;
                    if (rss > 0 && !(rss / 1024.0 >= pb_rss[li])) pb_rss[li] = rss / 1024.0;
                }
                if (!torch_ok) continue;
                progress("eval %s in PyTorch (one process per length), round %d", o.eval_methods[em], round + 1);
                char a_l[16], a_d[16], a_h[16], a_v[16], a_r[16], lens_s[256] = "";
                snprintf(a_l, 16, "%d", ps.n_layer), snprintf(a_d, 16, "%d", ps.d_model), snprintf(a_h, 16, "%d", ps.n_head);
                snprintf(a_v, 16, "%d", ps.vocab), snprintf(a_r, 16, "%d", o.eval_repeats);
                for (int li = 0; li < o.n_eval_lens; li++) {
                    size_t l = strlen(lens_s);
                    snprintf(lens_s + l, sizeof lens_s - l, "%s%ld", li ? "," : "", o.eval_lens[li]);
                }
                char *args[] = {"--method", o.eval_methods[em], "--layers", a_l, "--dim", a_d, "--heads", a_h,
                                "--vocab", a_v, "--steps", "0", "--eval-lens", lens_s, "--eval-repeats", a_r, "--rss"};
                TorchOut to;
                if (torch_run(&o, args, NFLAGS(args), &to) != 0) {
                    torch_ok = 0;
                    snprintf(torch_note, sizeof torch_note, "PyTorch side skipped: %s", to.reason);
                    continue;
                }
                for (int i = 0; i < to.n_eval; i++)
                    for (int li = 0; li < o.n_eval_lens; li++)
                        if (to.eval[i].T == o.eval_lens[li]) {
                            if (!(to.eval[i].tok_s <= pt_ts[li])) pt_ts[li] = to.eval[i].tok_s;
                            if (isfinite(to.eval[i].rss_mb) && !(to.eval[i].rss_mb >= pt_rss[li])) pt_rss[li] = to.eval[i].rss_mb;
                        }
            }
            for (int li = 0; li < o.n_eval_lens; li++) {
                long T = o.eval_lens[li];
                char item[256];
                snprintf(item, sizeof item, "%s T=%ld tokens/s", o.eval_methods[em], T);
                Row *r = table_add(&t, "eval", item, "tok/s");
                r->pb = pb_ts[li];
                r->pt = pt_ts[li];
                r->ratio = r->pb / r->pt;
                if (T == 4096) row_target(r, r->ratio, 2.5);
                if (T == 8192) row_target(r, r->ratio, 4.0);
                snprintf(item, sizeof item, "%s T=%ld peak RSS", o.eval_methods[em], T);
                r = table_add(&t, "eval", item, "MB");
                r->pb = pb_rss[li];
                r->pt = pt_rss[li];
                r->ratio = r->pt / r->pb;
                if (T == 8192) row_target(r, r->ratio, 10.0);
            }
            if (o.n_eval_lens >= 2) {
                int a = 0, b = o.n_eval_lens - 1;
                Row *r = table_add(&t, "eval", "", "MB/1k tok");
                snprintf(r->item, sizeof r->item, "%s RSS growth %ld..%ld", o.eval_methods[em], o.eval_lens[a], o.eval_lens[b]);
                r->pb = (pb_rss[b] - pb_rss[a]) / ((o.eval_lens[b] - o.eval_lens[a]) / 1000.0);
                r->pt = (pt_rss[b] - pt_rss[a]) / ((o.eval_lens[b] - o.eval_lens[a]) / 1000.0);
            }
        }
        table_note(&t, "evaluation: paper preset's model, batch 1, one window of T random tokens, best of %d after a "
                   "warm-up; peak RSS = ru_maxrss of a fresh process per length (the whole process: binary or Python "
                   "and PyTorch, model, buffers). PyTorch's figures are dev/bench_torch.py's, at its fair best (glibc's "
                   "malloc thresholds tuned; see dev/README.md).", o.eval_repeats);
    }

    /* ---- tiled attention alone ---- */
    {
        ModelShape ps;
        shape_of_preset(&ps, "paper");
        const char *am = o.n_eval_methods ? o.eval_methods[0] : "nope";
        progress("tiled attention %s T=4096", am);
        double g = bench_attention_tiled(&ps, am, 4096, o.quick ? 2 : 3);
        char item[256];
        snprintf(item, sizeof item, "tiled %s T=4096 GFLOP/s", am);
        table_add(&t, "attention", item, "GFLOP/s")->pb = g;
        Row *r = table_add(&t, "attention", "tiled T=4096 share of sgemm peak", "%");
        r->pb = 100.0 * g / peak;
        snprintf(r->target, sizeof r->target, ">= 40%%");
        r->status = r->pb >= 40.0 ? ST_MET : ST_MISSED;
        table_note(&t, "tiled attention: %d heads of %d, FLOPs of the causal half only (2 x heads x T^2 x head size).",
                   ps.n_head, ps.d_model / ps.n_head);
    }

    if (torch_note[0]) table_note(&t, "%s.", torch_note);
    if (load_start > 0.5)
        table_note(&t, "the machine was busy: load average %.1f when the bench started (%d cores); other processes "
                   "slow both sides and make 2-thread figures unreliable; rerun on a quiet machine.",
                   load_start, (int)sysconf(_SC_NPROCESSORS_ONLN));
    const char *wp = getenv("OMP_WAIT_POLICY");
    table_note(&t, "%d threads; OMP_WAIT_POLICY=%s for both sides; %.0f s.", o.threads, wp ? wp : "(unset)",
               now_seconds() - t_start);

    /* ---- output ---- */
    printf("posbench bench — %s, %d threads, OpenBLAS kernels %s\n\n", runtime_cpu_name(), o.threads, runtime_blas_core());
    table_print(&t, stdout);
    if (out_dir) {
        char path[4200];
        BenchMeta bm = {o.threads, o.steps, o.warmup, o.repeats, o.quick};
        AtomicFile af;
        snprintf(path, sizeof path, "%s/bench.json", out_dir);
        if (atomic_open(&af, path, "w", err, sizeof err) != 0) die_input("--out: %s", err);
        table_write_json(&t, af.fp, &bm);
        if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
        snprintf(path, sizeof path, "%s/bench.csv", out_dir);
        if (atomic_open(&af, path, "w", err, sizeof err) != 0) die_input("--out: %s", err);
        table_write_csv(&t, af.fp);
        if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
        fprintf(stderr, "bench: wrote %s/bench.json and %s/bench.csv\n", out_dir, out_dir);
    }
    for (int i = 0; i < t.n_notes; i++) free(t.notes[i]);
    free(t.notes);
    free(t.rows);
    return 0;
}
