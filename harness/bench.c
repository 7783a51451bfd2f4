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
 * The machine may be shared: every figure is the best of --repeats rounds,
 * and posbench and PyTorch alternate within a round, so a noisy moment hurts
 * both sides alike. Both run under this process's environment
 * (OPENBLAS_CORETYPE, thread count); OMP_WAIT_POLICY is set to passive when
 * unset (main.c), for both. MFU is a training step's FLOPs (bench_measure.c)
 * over the sgemm peak this run measured under the selected kernel set.
 *
 * This file is the command: the flags, then one function per section of the
 * table (bench.h lists the other parts).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef USE_BLAS
#include <cblas.h>
#endif
#include "../common/util.h"
#include "../methods/method.h"
#include "../model/gemm_bf16.h"
#include "../model/ops.h"
#include "bench.h"
#include "cli.h"
#include "run_common.h"
#include "runtime.h"

static const Command bench_cmd = {"bench", "", "measure speed and memory (sgemm peak, training, evaluation, threads)",
                                  NULL};

/* Training tokens/s per (preset, method), posbench and PyTorch: the best of the rounds. */
typedef struct TrainTable {
    double pb_tok[4][MAX_METHODS], pt_tok[4][MAX_METHODS], fpt[4][MAX_METHODS];
    double bf16_tok[4];   /* posbench with precision = bf16, method bf16_method (NAN: not measured) */
    size_t n_params[4][MAX_METHODS];
} TrainTable;

/* What the sections share: settings, shapes, the PyTorch side's state, the table. */
typedef struct Bench {
    Opts o;
    ModelShape shapes[4];
    int torch_ok;           /* PyTorch runs (cleared when a run fails) */
    char torch_note[4400];  /* why it does not, for the notes */
    double peak;            /* the selected kernel set's sgemm peak, GFLOP/s */
    Table t;
} Bench;

static void join_list(char *buf, size_t n, const char list[][32], int count) {
    buf[0] = 0;
    for (int i = 0; i < count; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%s", i ? "," : "", list[i]);
    }
}

/* ---- blas: the kernel set and the sgemm peak ---- */
static void section_sgemm(Bench *b) {
    const Opts *o = &b->o;
    const char *env_core = getenv("OPENBLAS_CORETYPE"), *sel = runtime_blas_core();
    Row *r = table_add(&b->t, "blas", "", "");
    const char *how = !env_core ? "auto-detected" : runtime_coretype_chosen() ? "chosen from the CPU flags" : "OPENBLAS_CORETYPE";
    snprintf(r->item, sizeof r->item, "kernel set: %s (%s)", sel, how);
#ifdef USE_BLAS
    table_note(&b->t, "OpenBLAS: %s; kernel set %s, %s.", openblas_get_config(), sel,
               !env_core ? "chosen by OpenBLAS's CPU detection (OPENBLAS_CORETYPE unset)"
               : runtime_coretype_chosen() ? "chosen by posbench from the CPU's flags (OPENBLAS_CORETYPE was unset)"
                                           : "as OPENBLAS_CORETYPE in the environment asks");
#else
    table_note(&b->t, "built without BLAS (NO_BLAS=1): sgemm is the naive loop");
#endif
    progress("sgemm under %s against the naive product on the model's shapes", sel);
    double check = bench_sgemm_check();
    int n = 0;
    progress("sgemm peak under %s (%d threads)", sel, o->threads);
    b->peak = bench_sgemm_peak(o->quick, &n);
    r = table_add(&b->t, "blas", "", "GFLOP/s");
    snprintf(r->item, sizeof r->item, "sgemm peak, %s kernels (selected)", sel);
    r->pb = b->peak;
    table_note(&b->t, "sgemm peak: best C = A B^T over square n in %s, %d threads; the selected set's is measured "
               "before and after training, the larger kept.", o->quick ? "{1024}" : "{512,1024,2048}", o->threads);
#ifdef USE_BLAS
    bench_other_cores(&b->t, o, b->peak, check);
#else
    (void)check;
#endif
}

/* The peak again, now that training has run: on a shared machine the larger of
 * the two is the closer to the truth (and the stricter for MFU). */
static void sgemm_again(Bench *b) {
    int n = 0;
    progress("sgemm peak under %s again", runtime_blas_core());
    double again = bench_sgemm_peak(b->o.quick, &n);
    if (again > b->peak) {
        b->peak = again;
        b->t.rows[1].pb = again;   /* the selected kernel set's row, added second by section_sgemm */
    }
}

/* One PyTorch training run of preset p's model over every method; best-of into tt. */
static void torch_train(Bench *b, int p, const char *mlist, int round, TrainTable *tt) {
    const Opts *o = &b->o;
    const ModelShape *s = &b->shapes[p];
    progress("train %s in PyTorch (%s), round %d/%d", s->preset, mlist, round + 1, o->repeats);
    char a_l[16], a_d[16], a_h[16], a_v[16], a_b[16], a_t[16], a_s[16], a_w[16];
    snprintf(a_l, 16, "%d", s->n_layer), snprintf(a_d, 16, "%d", s->d_model), snprintf(a_h, 16, "%d", s->n_head);
    snprintf(a_v, 16, "%d", s->vocab), snprintf(a_b, 16, "%d", s->batch), snprintf(a_t, 16, "%d", s->T);
    snprintf(a_s, 16, "%d", o->steps), snprintf(a_w, 16, "%d", o->warmup);
    char *args[] = {"--method", (char *)mlist, "--layers", a_l, "--dim", a_d, "--heads", a_h, "--vocab", a_v,
                    "--batch", a_b, "--train-len", a_t, "--steps", a_s, "--warmup", a_w, "--eval-lens", ""};
    TorchOut to;
    if (torch_run(o, args, NFLAGS(args), &to) != 0) {
        b->torch_ok = 0;
        snprintf(b->torch_note, sizeof b->torch_note, "PyTorch side skipped: %s", to.reason);
        return;
    }
    for (int i = 0; i < to.n_train; i++)
        for (int mi = 0; mi < o->n_methods; mi++)
            if (!strcmp(to.train[i].method, o->methods[mi]) && !(to.train[i].tok_s <= tt->pt_tok[p][mi]))
                tt->pt_tok[p][mi] = to.train[i].tok_s;
}

/* The method of the bf16 rows: nope when benched (no position work), else the first. */
static int bf16_method(const Opts *o) {
    for (int mi = 0; mi < o->n_methods; mi++)
        if (!strcmp(o->methods[mi], "nope")) return mi;
    return 0;
}

/* One bf16 training measurement of preset p's model, best-of into tt (when the CPU has the kernels). */
static void train_bf16(Bench *b, int p, int round, TrainTable *tt) {
    const Opts *o = &b->o;
    if (!gemm_bf16_available()) return;
    const ModelShape *s = &b->shapes[p];
    const char *m = o->methods[bf16_method(o)];
    progress("train %s %s in bf16, round %d/%d", s->preset, m, round + 1, o->repeats);
    ops_set_bf16(1);
    TrainResult r = bench_train(s, m, o->warmup, o->steps);
    ops_set_bf16(0);
    if (!(r.tok_s <= tt->bf16_tok[p])) tt->bf16_tok[p] = r.tok_s;
}

/* ---- train: rounds alternate posbench and PyTorch; best of rounds ---- */
static void measure_training(Bench *b, TrainTable *tt) {
    const Opts *o = &b->o;
    for (int p = 0; p < o->n_presets; p++) {
        tt->bf16_tok[p] = NAN;
        for (int mi = 0; mi < o->n_methods; mi++) tt->pb_tok[p][mi] = tt->pt_tok[p][mi] = NAN;
    }
    char mlist[512];
    join_list(mlist, sizeof mlist, o->methods, o->n_methods);
    for (int round = 0; round < o->repeats; round++)
        for (int p = 0; p < o->n_presets; p++) {
            const ModelShape *s = &b->shapes[p];
            for (int mi = 0; mi < o->n_methods; mi++) {
                progress("train %s %s (B %d, T %d), round %d/%d", s->preset, o->methods[mi], s->batch, s->T, round + 1,
                         o->repeats);
                TrainResult r = bench_train(s, o->methods[mi], o->warmup, o->steps);
                if (!(r.tok_s <= tt->pb_tok[p][mi])) tt->pb_tok[p][mi] = r.tok_s;
                tt->fpt[p][mi] = r.flops_per_token;
                tt->n_params[p][mi] = r.n_params;
                if (mi == bf16_method(o)) train_bf16(b, p, round, tt);   /* right after its fp32 twin */
            }
            if (b->torch_ok) torch_train(b, p, mlist, round, tt);
        }
}

/* Rows: tokens/s against PyTorch and MFU per (preset, method). */
static void training_rows(Bench *b, const TrainTable *tt) {
    const Opts *o = &b->o;
    for (int p = 0; p < o->n_presets; p++) {
        const ModelShape *s = &b->shapes[p];
        double need = !strcmp(s->preset, "quick") ? 2.0 : !strcmp(s->preset, "paper") ? 2.2 : 0;
        char item[256];
        for (int mi = 0; mi < o->n_methods; mi++) {
            snprintf(item, sizeof item, "%s %s tokens/s", s->preset, o->methods[mi]);
            Row *r = table_add(&b->t, "train", item, "tok/s");
            r->pb = tt->pb_tok[p][mi];
            r->pt = tt->pt_tok[p][mi];
            if (need > 0) row_target(r, r->pb / r->pt, need);
            else r->ratio = r->pb / r->pt;
            if (!isfinite(r->pt)) r->status = ST_NA;
        }
        for (int mi = 0; mi < o->n_methods; mi++) {
            snprintf(item, sizeof item, "%s %s MFU", s->preset, o->methods[mi]);
            Row *r = table_add(&b->t, "train", item, "%");
            r->pb = 100.0 * tt->pb_tok[p][mi] * tt->fpt[p][mi] / (b->peak * 1e9);
            r->pt = 100.0 * tt->pt_tok[p][mi] * tt->fpt[p][mi] / (b->peak * 1e9);
            snprintf(r->target, sizeof r->target, ">= 70%%");
            r->status = r->pb >= 70.0 ? ST_MET : ST_MISSED;
        }
        table_note(&b->t, "%s: %d layers, d %d, %d heads, vocab %d, batch %d x T %d; %zu parameters; %.2f MFLOP per "
                   "token = 6 x parameters + 6 x n_layer x T x d (causal attention, forward and backward).",
                   s->preset, s->n_layer, s->d_model, s->n_head, s->vocab, s->batch, s->T, tt->n_params[p][0],
                   tt->fpt[p][0] / 1e6);
    }
    table_note(&b->t, "training tokens/s: batch x T / the fastest step (forward, backward, clip, AdamW) of %d after "
               "%d warm-up, best of %d rounds, for both sides; MFU = tokens/s x FLOPs per token / the selected sgemm "
               "peak.", o->steps, o->warmup, o->repeats);
}

/* ---- bf16: posbench's bf16 products against its own fp32 step ---- */
static void bf16_rows(Bench *b, const TrainTable *tt) {
    const Opts *o = &b->o;
    const char *m = o->methods[bf16_method(o)];
    if (!gemm_bf16_available()) {
        table_note(&b->t, "bf16 rows skipped: %s.", gemm_bf16_why_not());
        return;
    }
    for (int p = 0; p < o->n_presets; p++) {
        const ModelShape *s = &b->shapes[p];
        char item[256];
        snprintf(item, sizeof item, "%s %s tokens/s, fp32", s->preset, m);
        table_add(&b->t, "bf16", item, "tok/s")->pb = tt->pb_tok[p][bf16_method(o)];
        snprintf(item, sizeof item, "%s %s tokens/s, bf16", s->preset, m);
        table_add(&b->t, "bf16", item, "tok/s")->pb = tt->bf16_tok[p];
        snprintf(item, sizeof item, "%s bf16 / fp32", s->preset);
        Row *r = table_add(&b->t, "bf16", item, "x");
        r->pb = tt->bf16_tok[p] / tt->pb_tok[p][bf16_method(o)];
        if (!strcmp(s->preset, "paper")) row_target(r, r->pb, 1.6);
        r->ratio = NAN;
    }
    table_note(&b->t, "bf16: precision = bf16, the linear layers' products with bf16 inputs and fp32 accumulation "
               "(posbench's AVX-512-BF16 kernels, model/gemm_bf16.c), everything else fp32; same steps and rounds "
               "as the fp32 rows, measured right after them; fp32 uses the selected OpenBLAS kernels.");
}

/* ---- overhead: each method's training tokens/s against nope's ---- */
static void overhead_rows(Bench *b, const TrainTable *tt) {
    const Opts *o = &b->o;
    int i_nope = -1;
    for (int mi = 0; mi < o->n_methods; mi++)
        if (!strcmp(o->methods[mi], "nope")) i_nope = mi;
    if (i_nope < 0) return;
    for (int p = 0; p < o->n_presets; p++)
        for (int mi = 0; mi < o->n_methods; mi++) {
            if (mi == i_nope) continue;
            char item[256];
            snprintf(item, sizeof item, "%s %s tokens/s vs nope", b->shapes[p].preset, o->methods[mi]);
            Row *r = table_add(&b->t, "overhead", item, "%");
            r->pb = 100.0 * (tt->pb_tok[p][mi] / tt->pb_tok[p][i_nope] - 1.0);
            r->pt = 100.0 * (tt->pt_tok[p][mi] / tt->pt_tok[p][i_nope] - 1.0);
            snprintf(r->target, sizeof r->target, ">= -5%%");
            r->status = r->pb >= -5.0 ? ST_MET : ST_MISSED;
        }
}

/* ---- threads: 1 vs N on the first preset's model, nope ---- */
static void section_threads(Bench *b) {
    const Opts *o = &b->o;
    if (o->threads <= 1 || o->n_presets <= 0) return;
    const ModelShape *s = &b->shapes[0];
    double one = 0, many = 0;
    for (int round = 0; round < o->repeats; round++) {
        progress("threads: train %s nope with 1 and %d threads, round %d/%d", s->preset, o->threads, round + 1,
                 o->repeats);
        runtime_set_threads(1);
        double x = bench_train(s, "nope", o->warmup, o->steps).tok_s;
        runtime_set_threads(o->threads);
        double y = bench_train(s, "nope", o->warmup, o->steps).tok_s;
        one = x > one ? x : one;
        many = y > many ? y : many;
    }
    char item[256];
    snprintf(item, sizeof item, "%s nope tokens/s, 1 thread", s->preset);
    table_add(&b->t, "threads", item, "tok/s")->pb = one;
    snprintf(item, sizeof item, "%s nope tokens/s, %d threads", s->preset, o->threads);
    table_add(&b->t, "threads", item, "tok/s")->pb = many;
    snprintf(item, sizeof item, "speed-up %d threads / 1", o->threads);
    Row *r = table_add(&b->t, "threads", item, "x");
    r->pb = many / one;
    if (o->threads == 2) row_target(r, many / one, 1.8);
    r->ratio = NAN;
}

/* Evaluation per length for one method, both sides, best of rounds. */
typedef struct EvalSide {
    double pb_ts[8], pb_rss[8], pt_ts[8], pt_rss[8];
} EvalSide;

/* PyTorch's evaluation of one method at every length (one process per length). */
static void torch_eval(Bench *b, const char *method, int round, EvalSide *e) {
    const Opts *o = &b->o;
    ModelShape ps;
    shape_of_preset(&ps, "paper");
    progress("eval %s in PyTorch (one process per length), round %d", method, round + 1);
    char a_l[16], a_d[16], a_h[16], a_v[16], a_r[16], lens_s[256] = "";
    snprintf(a_l, 16, "%d", ps.n_layer), snprintf(a_d, 16, "%d", ps.d_model), snprintf(a_h, 16, "%d", ps.n_head);
    snprintf(a_v, 16, "%d", ps.vocab), snprintf(a_r, 16, "%d", o->eval_repeats);
    for (int li = 0; li < o->n_eval_lens; li++) {
        size_t l = strlen(lens_s);
        snprintf(lens_s + l, sizeof lens_s - l, "%s%ld", li ? "," : "", o->eval_lens[li]);
    }
    char *args[] = {"--method", (char *)method, "--layers", a_l, "--dim", a_d, "--heads", a_h,
                    "--vocab", a_v, "--steps", "0", "--eval-lens", lens_s, "--eval-repeats", a_r, "--rss"};
    TorchOut to;
    if (torch_run(o, args, NFLAGS(args), &to) != 0) {
        b->torch_ok = 0;
        snprintf(b->torch_note, sizeof b->torch_note, "PyTorch side skipped: %s", to.reason);
        return;
    }
    for (int i = 0; i < to.n_eval; i++)
        for (int li = 0; li < o->n_eval_lens; li++)
            if (to.eval[i].T == o->eval_lens[li]) {
                if (!(to.eval[i].tok_s <= e->pt_ts[li])) e->pt_ts[li] = to.eval[i].tok_s;
                if (isfinite(to.eval[i].rss_mb) && !(to.eval[i].rss_mb >= e->pt_rss[li])) e->pt_rss[li] = to.eval[i].rss_mb;
            }
}

static void eval_rows(Bench *b, const char *method, const EvalSide *e) {
    const Opts *o = &b->o;
    for (int li = 0; li < o->n_eval_lens; li++) {
        long T = o->eval_lens[li];
        char item[256];
        snprintf(item, sizeof item, "%s T=%ld tokens/s", method, T);
        Row *r = table_add(&b->t, "eval", item, "tok/s");
        r->pb = e->pb_ts[li];
        r->pt = e->pt_ts[li];
        r->ratio = r->pb / r->pt;
        if (T == 4096) row_target(r, r->ratio, 2.5);
        if (T == 8192) row_target(r, r->ratio, 4.0);
        snprintf(item, sizeof item, "%s T=%ld peak RSS", method, T);
        r = table_add(&b->t, "eval", item, "MB");
        r->pb = e->pb_rss[li];
        r->pt = e->pt_rss[li];
        r->ratio = r->pt / r->pb;
        if (T == 8192) row_target(r, r->ratio, 10.0);
    }
    if (o->n_eval_lens >= 2) {
        int x = 0, y = o->n_eval_lens - 1;
        double per_k = (o->eval_lens[y] - o->eval_lens[x]) / 1000.0;
        Row *r = table_add(&b->t, "eval", "", "MB/1k tok");
        snprintf(r->item, sizeof r->item, "%s RSS growth %ld..%ld", method, o->eval_lens[x], o->eval_lens[y]);
        r->pb = (e->pb_rss[y] - e->pb_rss[x]) / per_k;
        r->pt = (e->pt_rss[y] - e->pt_rss[x]) / per_k;
    }
}

/* ---- eval: one child process per length, both sides ---- */
static void section_eval(Bench *b) {
    const Opts *o = &b->o;
    if (o->n_eval_lens <= 0) return;
    for (int em = 0; em < o->n_eval_methods; em++) {
        EvalSide e;
        for (int li = 0; li < o->n_eval_lens; li++) e.pb_ts[li] = e.pb_rss[li] = e.pt_ts[li] = e.pt_rss[li] = NAN;
        for (int round = 0; round < (o->repeats > 2 ? 2 : o->repeats); round++) {
            for (int li = 0; li < o->n_eval_lens; li++) {
                progress("eval %s T=%ld (child process), round %d", o->eval_methods[em], o->eval_lens[li], round + 1);
                double ts, rss;
                bench_eval_child(o, o->eval_methods[em], o->eval_lens[li], &ts, &rss);
                if (!(ts <= e.pb_ts[li])) e.pb_ts[li] = ts;
                if (isfinite(rss) && !(rss >= e.pb_rss[li])) e.pb_rss[li] = rss;
            }
            if (b->torch_ok) torch_eval(b, o->eval_methods[em], round, &e);
        }
        eval_rows(b, o->eval_methods[em], &e);
    }
    table_note(&b->t, "evaluation: paper preset's model, batch 1, one window of T random tokens, best of %d after a "
               "warm-up; peak RSS = the VmHWM of a fresh process per length, read by that process last (the whole "
               "process: binary or Python and PyTorch, model, buffers). PyTorch's figures are dev/bench_torch.py's, at its fair best (glibc's "
               "malloc thresholds tuned; see dev/README.md).", o->eval_repeats);
}

/* ---- attention: the tiled evaluation attention alone ---- */
static void section_attention(Bench *b) {
    const Opts *o = &b->o;
    ModelShape ps;
    shape_of_preset(&ps, "paper");
    const char *am = o->n_eval_methods ? o->eval_methods[0] : "nope";
    progress("tiled attention %s T=4096", am);
    double g = bench_attention_tiled(&ps, am, 4096, o->quick ? 2 : 3);
    char item[256];
    snprintf(item, sizeof item, "tiled %s T=4096 GFLOP/s", am);
    table_add(&b->t, "attention", item, "GFLOP/s")->pb = g;
    Row *r = table_add(&b->t, "attention", "tiled T=4096 share of sgemm peak", "%");
    r->pb = 100.0 * g / b->peak;
    snprintf(r->target, sizeof r->target, ">= 40%%");
    r->status = r->pb >= 40.0 ? ST_MET : ST_MISSED;
    table_note(&b->t, "tiled attention: %d heads of %d, FLOPs of the causal half only (2 x heads x T^2 x head size).",
               ps.n_head, ps.d_model / ps.n_head);
}

/* The closing notes: PyTorch, machine load, threads, duration. */
static void closing_notes(Bench *b, double load_start, double t_start) {
    if (b->torch_note[0]) table_note(&b->t, "%s.", b->torch_note);
    if (load_start > 0.5)
        table_note(&b->t, "the machine was busy: load average %.1f when the bench started (%d cores); other processes "
                   "slow both sides and make 2-thread figures unreliable; rerun on a quiet machine.",
                   load_start, (int)sysconf(_SC_NPROCESSORS_ONLN));
    const char *wp = getenv("OMP_WAIT_POLICY"), *sc = getenv("GOMP_SPINCOUNT");
    table_note(&b->t, "%d threads; OMP_WAIT_POLICY=%s, GOMP_SPINCOUNT=%s for both sides; %.0f s.", b->o.threads,
               wp ? wp : "(unset)", sc ? sc : "(unset)", now_seconds() - t_start);
}

/* The table on stdout; with --out, DIR/bench.json and DIR/bench.csv. */
static void write_outputs(const Bench *b, const char *out_dir) {
    const Opts *o = &b->o;
    printf("posbench bench — %s, %d threads, OpenBLAS kernels %s\n\n", runtime_cpu_name(), o->threads, runtime_blas_core());
    table_print(&b->t, stdout);
    if (!out_dir) return;
    char path[4200], err[ERRLEN];
    BenchMeta bm = {o->threads, o->steps, o->warmup, o->repeats, o->quick};
    AtomicFile af;
    snprintf(path, sizeof path, "%s/bench.json", out_dir);
    if (atomic_open(&af, path, "w", err, sizeof err) != 0) die_input("--out: %s", err);
    table_write_json(&b->t, af.fp, &bm);
    if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
    snprintf(path, sizeof path, "%s/bench.csv", out_dir);
    if (atomic_open(&af, path, "w", err, sizeof err) != 0) die_input("--out: %s", err);
    table_write_csv(&b->t, af.fp);
    if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
    fprintf(stderr, "bench: wrote %s/bench.json and %s/bench.csv\n", out_dir, out_dir);
}

/* Whether the PyTorch side can run; if not, why, into b->torch_note. */
static void torch_check(Bench *b) {
    static char script[4200];
    snprintf(script, sizeof script, "%s/dev/bench_torch.py", posbench_home());
    b->o.script = script;
    b->torch_ok = !b->o.skip_torch;
    if (b->torch_ok && !path_exists(script)) {
        b->torch_ok = 0;
        snprintf(b->torch_note, sizeof b->torch_note, "PyTorch side skipped: %s not found", script);
    } else if (b->torch_ok && access(b->o.python, X_OK) != 0) {
        b->torch_ok = 0;
        snprintf(b->torch_note, sizeof b->torch_note, "PyTorch side skipped: %s not found (apt-get install python3-torch)",
                 b->o.python);
    } else if (!b->torch_ok) {
        snprintf(b->torch_note, sizeof b->torch_note, "PyTorch side skipped (--skip-torch)");
    }
}

/* Every section in order, then the outputs (--kernels: the blas section only). */
static void bench_run(Bench *b, const char *out_dir) {
    double t_start = now_seconds(), load_start = load_average();
    torch_check(b);
    section_sgemm(b);
    if (b->o.kernels_only) {
        b->torch_note[0] = 0;
        closing_notes(b, load_start, t_start);
        write_outputs(b, out_dir);
        table_free(&b->t);
        return;
    }
    TrainTable *tt = xcalloc(1, sizeof(TrainTable));
    measure_training(b, tt);
    sgemm_again(b);
    training_rows(b, tt);
    bf16_rows(b, tt);
    overhead_rows(b, tt);
    free(tt);
    section_threads(b);
    section_eval(b);
    section_attention(b);
    closing_notes(b, load_start, t_start);
    write_outputs(b, out_dir);
    table_free(&b->t);
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

static Flag bench_flags[] = {
    {"--threads", "N", "0", "threads for posbench and PyTorch (0 = all cores)", NULL, 0},
    {"--methods", "LIST", "all", "position methods to train (all: every registered method)", NULL, 0},
    {"--presets", "LIST", "quick,paper", "presets whose model, batch and training length are benched", NULL, 0},
    {"--steps", "N", "10", "timed training steps per measurement (the fastest is reported)", NULL, 0},
    {"--warmup", "N", "2", "untimed training steps first", NULL, 0},
    {"--repeats", "N", "3", "rounds; every figure is the best of them", NULL, 0},
    {"--eval-lens", "LIST", "1024,4096,8192", "evaluation window lengths (batch 1, nonoverlapping)", NULL, 0},
    {"--eval-methods", "LIST", "all", "methods evaluated at those lengths (all: every registered method)", NULL, 0},
    {"--eval-repeats", "N", "2", "timed windows per length (best reported), after one warm-up", NULL, 0},
    {"--quick", NULL, NULL, "smoke test: 3 steps, 1 round, lengths 1024,4096, one sgemm size", NULL, 0},
    {"--kernels", NULL, NULL, "only the OpenBLAS kernel sets: each one's sgemm checked against the naive product on "
                              "the model's shapes, then timed; the fastest correct one recommended (and cached)", NULL, 0},
    {"--skip-torch", NULL, NULL, "do not run the PyTorch side", NULL, 0},
    {"--python", "PATH", "/usr/bin/python3", "Python with PyTorch (Debian's python3-torch)", NULL, 0},
    {"--out", "DIR", NULL, "also write DIR/bench.json and DIR/bench.csv", NULL, 0},
    {"--child", "WHAT", NULL, "internal: one measurement in this process, printed as JSON (sgemm, eval:M:T:R)", NULL, 0},
};
#define NBF NFLAGS(bench_flags)

/* --quick changes the defaults of the flags not given. */
static void apply_quick(Opts *o) {
    if (!flag_get(bench_flags, NBF, "--steps")->set) o->steps = 3;
    if (!flag_get(bench_flags, NBF, "--warmup")->set) o->warmup = 1;
    if (!flag_get(bench_flags, NBF, "--repeats")->set) o->repeats = 1;
    if (!flag_get(bench_flags, NBF, "--eval-repeats")->set) o->eval_repeats = 1;
}

/* The flags into o, every name and number checked before any measurement. */
static void read_opts(Opts *o) {
    Flag *fl = bench_flags;
    o->steps = (int)flag_int(fl, NBF, "--steps", 1, 100000);
    o->warmup = (int)flag_int(fl, NBF, "--warmup", 0, 100000);
    o->repeats = (int)flag_int(fl, NBF, "--repeats", 1, 1000);
    o->eval_repeats = (int)flag_int(fl, NBF, "--eval-repeats", 1, 1000);
    o->skip_torch = flag_on(fl, NBF, "--skip-torch") || flag_on(fl, NBF, "--kernels");
    o->kernels_only = flag_on(fl, NBF, "--kernels");
    o->python = flag_str(fl, NBF, "--python");
    o->n_methods = split_names(flag_str(fl, NBF, "--methods"), o->methods, MAX_METHODS, "--methods");
    o->n_presets = split_names(flag_str(fl, NBF, "--presets"), o->presets, 4, "--presets");
    o->n_eval_methods = split_names(flag_str(fl, NBF, "--eval-methods"), o->eval_methods, MAX_METHODS, "--eval-methods");
    const char *lens = flag_str(fl, NBF, "--eval-lens");
    if (o->quick && !flag_get(fl, NBF, "--eval-lens")->set) lens = "1024,4096";
    o->n_eval_lens = *lens ? parse_int_list(lens, 1, 1 << 20, o->eval_lens, 8) : 0;
    if (o->n_eval_lens < 0) die_input("--eval-lens: '%s' must be comma-separated whole numbers", lens);
    if (o->quick) apply_quick(o);
    char err[ERRLEN];
    for (int i = 0; i < o->n_methods; i++)
        if (pos_spec_check(o->methods[i], err, sizeof err) != 0) die_input("--methods: %s", err);
    for (int i = 0; i < o->n_eval_methods; i++)
        if (pos_spec_check(o->eval_methods[i], err, sizeof err) != 0) die_input("--eval-methods: %s", err);
}

int cmd_bench(int argc, char **argv) {
    flags_parse(bench_flags, NBF, argc, argv, &bench_cmd, NULL, 0);
    /* OMP_WAIT_POLICY and OPENBLAS_CORETYPE are settled before any command runs
     * (main.c, runtime_prepare_env); children and PyTorch inherit them. */
    Bench *b = xcalloc(1, sizeof(Bench));
    b->o.quick = flag_on(bench_flags, NBF, "--quick");
    b->o.threads = runtime_set_threads((int)flag_int(bench_flags, NBF, "--threads", 0, 1024));
    if (flag_str(bench_flags, NBF, "--child")) return bench_child(flag_str(bench_flags, NBF, "--child"), b->o.quick);
    read_opts(&b->o);
    for (int i = 0; i < b->o.n_presets; i++) shape_of_preset(&b->shapes[i], b->o.presets[i]); /* exits on an unknown preset */
    const char *out_dir = flag_str(bench_flags, NBF, "--out");
    char err[ERRLEN];
    if (out_dir && mkdir_p(out_dir, err, sizeof err) != 0) die_input("--out: %s", err);
    bench_run(b, out_dir);
    free(b);
    return 0;
}
