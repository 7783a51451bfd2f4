/* bench_children.c — the measurements `posbench bench` makes in child processes
 * (bench.h), each reporting one JSON line per measurement on stdout: the sgemm
 * peak under another OpenBLAS kernel set (OpenBLAS reads OPENBLAS_CORETYPE
 * once, when it is loaded, so each set needs its own process), an evaluation
 * window per length (so its peak RSS is that length's alone), and PyTorch.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "../common/spawn.h"
#include "../common/util.h"
#include "bench.h"
#include "runtime.h"

void progress(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

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

int torch_run(const Opts *o, char **args_extra, int n_extra, TorchOut *t) {
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

/* The kernel sets this CPU can run, slowest first (x86-64 only; elsewhere just the selected one).
 */
static int candidate_cores(const char *out[], int max) {
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
    double check;   /* worst error against the naive product over its bound: <= 1 is correct */
} CorePeak;

static void sgemm_line(const JsonValue *o, void *arg) {
    CorePeak *p = arg;
    const char *kind = jstr(o, "kind");
    if (kind && !strcmp(kind, "sgemm")) {
        snprintf(p->core, sizeof p->core, "%s", jstr(o, "core") ? jstr(o, "core") : "?");
        p->gflops = jnum(o, "gflops");
        p->check = jnum(o, "check");
    }
}

static void eval_line(const JsonValue *o, void *arg) {
    double *res = arg;   /* tokens/s, the child's own peak RSS in kB */
    const char *kind = jstr(o, "kind");
    if (kind && !strcmp(kind, "eval")) res[0] = jnum(o, "tokens_per_s"), res[1] = jnum(o, "vmhwm_kb");
}

double load_average(void) {
    double l = NAN;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = NAN;
        fclose(f);
    }
    return l;
}

/* sgemm peak of one kernel set in a child: {core it ran, GFLOP/s}; core "" on failure. */
static CorePeak core_peak(const Opts *o, const char *core) {
    char env[96], thr[16];
    snprintf(env, sizeof env, "OPENBLAS_CORETYPE=%s", core);
    snprintf(thr, sizeof thr, "%d", o->threads);
    char *argv[] = {"posbench", "bench", "--threads", thr, "--child", "sgemm", o->quick ? "--quick" : NULL, NULL};
    const char *envs[] = {env, NULL};
    char *out = NULL;
    CorePeak p = {"", NAN, NAN};
    SpawnOpts so = {.env = envs, .out = &out};
    if (spawn_self(argv, &so) == 0) for_json_lines(out, sgemm_line, &p);
    free(out);
    return p;
}

static int core_ok(const CorePeak *p) { return p->check <= 1.0; }

/* A row per kernel set: its sgemm against the naive product (bench_sgemm_check). */
static void check_row(Table *t, const CorePeak *p) {
    Row *r = table_add(t, "blas", "", "x bound");
    snprintf(r->item, sizeof r->item, "sgemm vs naive, %.63s kernels", p->core);
    r->pb = p->check;
    snprintf(r->target, sizeof r->target, "<= 1");
    r->status = core_ok(p) ? ST_MET : ST_MISSED;
}

/* Among the sets that passed the check: within 10% of the fastest, recommend the
 * oldest (candidates run slowest first): SkylakeX and Cooperlake share their sgemm
 * kernels, and a shared machine's noise should not pick between them. Warn when
 * it beats the selected set by more than KERNEL_ADVICE_RATIO (runtime.h), beyond
 * that noise, or when the selected set failed its check. */
static void recommend_core(Table *t, const CorePeak *peaks, int n_peaks, const CorePeak *sel) {
    const CorePeak *best = core_ok(sel) ? sel : NULL;
    for (int i = 0; i < n_peaks; i++)
        if (core_ok(&peaks[i]) && (!best || peaks[i].gflops > best->gflops)) best = &peaks[i];
    if (!best) {
        table_note(t, "WARNING: no OpenBLAS kernel set passed the check against the naive product.");
        return;
    }
    double top = best->gflops;
    for (int i = 0; i < n_peaks; i++)
        if (core_ok(&peaks[i]) && peaks[i].gflops >= 0.9 * top) {
            best = &peaks[i];
            break;
        }
    if (!core_ok(sel))
        table_note(t, "WARNING: the selected %s kernels FAILED the check against the naive product; choose another "
                   "set (export OPENBLAS_CORETYPE=%s).", sel->core, best->core);
    if (strcasecmp(best->core, sel->core) && (!core_ok(sel) || best->gflops > KERNEL_ADVICE_RATIO * sel->gflops)) {
        table_note(t,
                   "WARNING: the %s kernels (checked against the naive product) run sgemm %.2fx faster than the "
                   "selected %s. Choose them with `export OPENBLAS_CORETYPE=%s` before running posbench (or "
                   "`OPENBLAS_CORETYPE=%s make bench`); PyTorch here uses the same OpenBLAS and follows the same "
                   "variable. README, Kernel choice: why one might not.",
                   best->core, best->gflops / sel->gflops, sel->core, best->core, best->core);
        fprintf(stderr, "bench: WARNING: OPENBLAS_CORETYPE=%s runs sgemm %.2fx faster than the selected %s\n",
                best->core, best->gflops / sel->gflops, sel->core);
    } else {
        table_note(t, "kernel choice: the selected %s kernels are the fastest that passed the check (within 10%%).",
                   sel->core);
    }
}

static int seen_core(char seen[][64], int n_seen, const char *core) {
    for (int j = 0; j < n_seen; j++)
        if (!strcasecmp(seen[j], core)) return 1;
    return 0;
}

/* The figures for runtime_kernel_advice (train and sweep read them at start). */
static void cache_peaks(Table *t, const CorePeak *peaks, int n_peaks, const CorePeak *sel) {
    KernelPeak k[9];
    int n = 0;
    k[n] = (KernelPeak){.gflops = sel->gflops, .correct = core_ok(sel)};
    snprintf(k[n++].core, sizeof k[0].core, "%s", sel->core);
    for (int i = 0; i < n_peaks && n < 9; i++) {
        k[n] = (KernelPeak){.gflops = peaks[i].gflops, .correct = core_ok(&peaks[i])};
        snprintf(k[n++].core, sizeof k[0].core, "%.63s", peaks[i].core);
    }
    if (runtime_kernel_cache_write(k, n) == 0)
        table_note(t, "kernel peaks cached in %s: train and sweep name a faster set from it.",
                   runtime_kernel_cache_path());
}

/* Two rounds, the second in reverse order and the selected set measured in a child
 * like the others, each set keeping its best: on a shared machine one reading
 * can be off by half, and a set must not look faster by the order it ran in. */
void bench_other_cores(Table *t, const Opts *o, double peak_sel, double check_sel) {
    const char *cand[8];
    int nc = candidate_cores(cand, 8);
    CorePeak sel = {"", peak_sel, check_sel}, peaks[8];
    snprintf(sel.core, sizeof sel.core, "%s", runtime_blas_core());
    char seen[8][64];
    int n_seen = 0, n_peaks = 0;
    snprintf(seen[n_seen++], 64, "%s", sel.core);
    for (int i = 0; i < nc; i++) {   /* round 1: the sets that exist (check and peak) */
        if (seen_core(seen, n_seen, cand[i])) continue;
        progress("sgemm check and peak under OPENBLAS_CORETYPE=%s (child process)", cand[i]);
        CorePeak p = core_peak(o, cand[i]);
        if (!p.core[0] || !isfinite(p.gflops)) continue;
        /* OpenBLAS replaces a name it does not know by another set */
        if (seen_core(seen, n_seen, p.core) || n_seen >= 8) continue;
        snprintf(seen[n_seen++], 64, "%s", p.core);
        if (n_peaks < 8) peaks[n_peaks++] = p;
    }
    for (int i = n_peaks; i >= 0; i--) {   /* round 2, reversed; index n_peaks is the selected set */
        CorePeak *p = i < n_peaks ? &peaks[i] : &sel;
        progress("sgemm peak under OPENBLAS_CORETYPE=%s again (child process)", p->core);
        CorePeak q = core_peak(o, p->core);
        if (isfinite(q.gflops) && q.gflops > p->gflops) p->gflops = q.gflops;
        if (!(q.check <= p->check)) p->check = q.check;   /* the worse check counts */
    }
    check_row(t, &sel);
    for (int i = 0; i < n_peaks; i++) {
        Row *r = table_add(t, "blas", "", "GFLOP/s");
        snprintf(r->item, sizeof r->item, "sgemm peak, %.63s kernels", peaks[i].core);
        r->pb = peaks[i].gflops;
        check_row(t, &peaks[i]);
    }
    table_note(t, "kernel sets: each set's sgemm checked against the naive product, then its peak measured in a child "
               "process, twice (the second round reversed, the selected set included); the best of each compared.");
    recommend_core(t, peaks, n_peaks, &sel);
    cache_peaks(t, peaks, n_peaks, &sel);
}

void bench_eval_child(const Opts *o, const char *method, long T, double *tok_s, double *rss_mb) {
    char what[96], thr[16];
    snprintf(what, sizeof what, "eval:%s:%ld:%d", method, T, o->eval_repeats);
    snprintf(thr, sizeof thr, "%d", o->threads);
    char *argv[] = {"posbench", "bench", "--threads", thr, "--child", what, NULL};
    char *out = NULL;
    double res[2] = {NAN, NAN};
    SpawnOpts so = {.out = &out};
    if (spawn_self(argv, &so) == 0) for_json_lines(out, eval_line, res);
    free(out);
    *tok_s = res[0];
    *rss_mb = res[1] > 0 ? res[1] / 1024.0 : NAN;   /* the child's VmHWM (see bench_child) */
}
