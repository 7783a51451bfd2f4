/* sweep.c — `posbench sweep`: the paper's experiment as one command.
 *
 * A sweep is a plan of units (plan.h): one per (train length L, method, seed), written to
 * RUN/plan.tsv after the configuration and the data are checked (and the data prepared, once).
 * Then, by --executor and --jobs:
 *   local, --jobs 1  every unit in turn in this process (unit.c: a child `posbench train`, then a
 *                    child `posbench eval` per evaluation), then the merge (merge.c);
 *   local, --jobs J  J child `posbench unit` processes at once, cores split between them
 *                    (J x threads <= cores), each logging to RUN/units/ID/unit.log; then the merge;
 *   slurm            job scripts in RUN/slurm/ submitted as one array job and a merge job
 *                    (slurm.c); the sweep exits once they are queued.
 * --plan-only stops after the plan. A re-run on the same folder skips what is finished and
 * resumes an interrupted training from its checkpoint; the numbers do not depend on how the
 * units were run.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../common/spawn.h"
#include "merge.h"
#include "plan.h"
#include "run_common.h"
#include "runtime.h"
#include "slurm.h"
#include "sweep_clock.h"
#include "unit.h"

/* Temporary files of dead writers in the units' folders and figures/ (run_lock_folder did RUN). */
static void remove_stale_unit_tmp(const char *dir) {
    char path[4400];
    snprintf(path, sizeof path, "%s/figures", dir);
    remove_stale_tmp(path);
    snprintf(path, sizeof path, "%s/units", dir);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char unit[4700];
        snprintf(unit, sizeof unit, "%s/%s", path, e->d_name);
        remove_stale_tmp(unit);
    }
    closedir(d);
}

#define SWEEP_MAX_METHODS 32

/* One sweep: its configuration, folder, methods, data and plan. */
typedef struct Sweep {
    RunConfig cfg;
    char dir[4096], conf_path[4400];
    char mbuf[256], *methods[SWEEP_MAX_METHODS];   /* methods point into mbuf */
    int n_methods;
    Dataset ds;
    Plan plan;
    int jobs, unit_threads;                        /* units at once; threads per unit */
} Sweep;

static const Command sweep_cmd = {"sweep", "",
    "train every method at L, evaluate every length, plot and report: RUN/plan.tsv, the units, the merge.\n"
    "  --jobs J runs J units at once here; rule: J x threads <= cores (threads = 0 gives each unit cores / J).\n"
    "  --executor slurm submits one array job (a task per unit, --cpus-per-task = --threads) and a merge job\n"
    "  (afterany) and exits; the run folder, the binary and the dataset cache must be on storage every node sees", NULL};

/* The methods of the config, each checked and given once; train lengths given once. */
static int sweep_methods(const RunConfig *cfg, char *mbuf, size_t mcap, char **methods) {
    char err[ERRLEN];
    int n_methods = 0;
    snprintf(mbuf, mcap, "%s", cfg->methods);
    char *save = NULL;
    for (char *m = strtok_r(mbuf, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        if (pos_spec_check_layers(m, cfg->n_layer, err, sizeof err) != 0) die_input("--methods: %s", err);
        if (n_methods == SWEEP_MAX_METHODS) die_input("--methods: at most %d methods", SWEEP_MAX_METHODS);
        for (int j = 0; j < n_methods; j++)
            if (!strcmp(methods[j], m)) die_input("--methods: '%s' is given twice (each method is one set of units)", m);
        methods[n_methods++] = m;
    }
    if (!n_methods) die_input("--methods: no method given");
    for (int i = 0; i < cfg->n_train_lens; i++)
        for (int j = 0; j < i; j++)
            if (cfg->train_lens[i] == cfg->train_lens[j])
                die_input("--train-lens: %ld is given twice (each length is one set of units)", cfg->train_lens[i]);
    return n_methods;
}

/* The config's variants: each parses, is a variant of one of the methods, is given once, and a
 * method has at most PLAN_MAX_VARIANTS. */
static void sweep_check_variants(const RunConfig *cfg, char *const *methods, int n_methods) {
    char buf[sizeof cfg->variants], err[ERRLEN], *save = NULL;
    int count[SWEEP_MAX_METHODS] = {0};
    snprintf(buf, sizeof buf, "%s", cfg->variants);
    for (char *v = strtok_r(buf, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
        Variant var;
        if (variant_parse(v, &var, err, sizeof err) != 0) die_input("variants: %s", err);
        int mi = 0;
        while (mi < n_methods && strcmp(methods[mi], var.base)) mi++;
        if (mi == n_methods) die_input("variants: '%s' is a variant of %s, which is not among the methods", v, var.base);
        if (++count[mi] > PLAN_MAX_VARIANTS) die_input("variants: at most %d per method", PLAN_MAX_VARIANTS);
        for (char *w = buf; w < v; w += strlen(w) + 1)
            if (!strcmp(w, v)) die_input("variants: '%s' is given twice", v);
    }
}

/* The run folder: created, writable, locked for this process, stale temporaries gone. */
static void sweep_open_folder(const char *dir) {
    char err[ERRLEN], path[4400];
    run_check_out_path(dir, "--out", 200);
    if (mkdir_p(dir, err, sizeof err) != 0) die_input("--out: %s", err);
    snprintf(path, sizeof path, "%s/.write-test", dir);
    FILE *probe = fopen(path, "w");
    if (!probe) die_input("--out: %s is not writable", dir);
    fclose(probe);
    unlink(path);
    run_lock_folder(dir, "--out");   /* one writer per run folder; children die with this process */
    remove_stale_unit_tmp(dir);
}

/* 1 when the run's config.conf at path and cfg differ at most in the eval-only keys
 * (config_key_eval_only: probes, probe_*, variants), which training never reads, and in a larger
 * `seeds` (a unit's training depends on its own seed, never on how many there are, so the units
 * of the seeds already trained are kept and the new seeds' units added); *prev_seeds gets the
 * run's earlier seed count. */
static int sweep_same_training(const RunConfig *cfg, const char *path, int *prev_seeds) {
    RunConfig prev;
    config_init(&prev, cfg->preset);
    config_load_file(&prev, path);
    *prev_seeds = prev.seeds;
    if (prev.seeds < cfg->seeds) prev.seeds = cfg->seeds;
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    FILE *fa = open_memstream(&a, &na), *fb = open_memstream(&b, &nb);
    config_write_training(cfg, fa);
    config_write_training(&prev, fb);
    fclose(fa);
    fclose(fb);
    int same = !strcmp(a, b);
    free(a);
    free(b);
    return same;
}

/* The resolved config as DIR/config.conf: children read it; a re-run must not mix configurations
 * (except for what only adds evaluations or seeds: sweep_same_training). */
static void sweep_write_config(const char *dir, const RunConfig *cfg) {
    char err[ERRLEN], path[4400];
    char *cfg_text = NULL;
    size_t cfg_len = 0;
    FILE *mem = open_memstream(&cfg_text, &cfg_len);
    config_write(cfg, mem);
    fclose(mem);
    snprintf(path, sizeof path, "%s/config.conf", dir);
    char *old = read_file(path, NULL, err, sizeof err);
    int changed = old && strcmp(old, cfg_text), prev_seeds = cfg->seeds;
    if (changed && !sweep_same_training(cfg, path, &prev_seeds))
        die_input("--out: %s holds a run with a different configuration (%s); choose another folder%s", dir, path,
                  prev_seeds > cfg->seeds ? " (seeds may grow, not shrink)" : "");
    if (changed && prev_seeds < cfg->seeds)
        fprintf(stderr, "sweep: %s: seeds grew from %d to %d; the trained units are kept and the new seeds' units "
                        "trained\n", path, prev_seeds, cfg->seeds);
    else if (changed) fprintf(stderr, "sweep: %s: only probes, probe_* or variants changed; the trained units are kept "
                                      "and what is new is evaluated\n", path);
    if (!old || changed) {
        AtomicFile af;
        if (atomic_open(&af, path, "w", err, sizeof err) != 0) die_input("--out: %s", err);
        fputs(cfg_text, af.fp);
        if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
    }
    free(old);
    free(cfg_text);
}

/* The data, opened (and prepared) once here so bad input stops the sweep before training. */
static void sweep_open_data(Dataset *ds, RunConfig *cfg, const char *dir) {
    char err[ERRLEN];
    run_open_data(ds, cfg->data, cfg->tokenizer, cfg->bpe_vocab, "--data");
    const DataSplit *evs = run_eval_split(ds, cfg->data, cfg->split, "--data");
    run_check_data_hash(dir, ds, cfg->data);
    const DataSplit *trs = data_split(ds, "train");
    for (int i = 0; i < cfg->n_train_lens; i++) {
        long lens[CFG_MAX_LIST];
        int n = config_eval_lengths(cfg, cfg->train_lens[i], lens, CFG_MAX_LIST);
        for (int p = 0; cfg->probes[0] && p < cfg->n_probe_lengths; p++)
            if ((long)evs->n_tokens < cfg->probe_lengths[p] + 2)
                die_input("probe_lengths: %ld is longer than the %s split of %s (%zu tokens)", cfg->probe_lengths[p],
                          cfg->split, cfg->data, evs->n_tokens);
        if ((long)evs->n_tokens < lens[n - 1] + 1)
            die_input("--lengths: %ld is longer than the %s split of %s (%zu tokens)", lens[n - 1], cfg->split,
                      cfg->data, evs->n_tokens);
        if (data_check_window(trs, (int)cfg->train_lens[i], err, sizeof err) != 0) die_input("--train-lens: %s", err);
        config_batch(cfg, cfg->train_lens[i]);   /* batch_tokens must divide by every L */
    }
}

/* The plan of the sweep as RUN/plan.tsv; the data's prepared folder named absolutely. */
static void sweep_plan(Sweep *sw) {
    char err[ERRLEN], data_dir[PATH_MAX];
    if (!realpath(sw->ds.dir, data_dir)) snprintf(data_dir, sizeof data_dir, "%s", sw->ds.dir);
    plan_build(&sw->plan, &sw->cfg, sw->methods, sw->n_methods, data_dir);
    if (plan_write(&sw->plan, sw->dir, err, sizeof err) != 0) die_internal("%s", err);
}

/* --jobs J: threads per unit so that J x threads <= cores. The config's threads when they fit;
 * threads = 0 (all cores) becomes cores / J. Exit 2 naming --jobs when J cannot fit. */
static int sweep_jobs_threads(int jobs, int threads) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    if (jobs == 1) return threads;
    if (jobs > cores)
        die_input("--jobs: %d units at once need at least %d cores (J x threads <= cores); this machine has %ld",
                  jobs, jobs, cores);
    if (threads == 0) return (int)(cores / jobs);
    if ((long)jobs * threads > cores)
        die_input("--jobs: %d units x %d threads = %d threads, more than the %ld cores here (J x threads <= cores); "
                  "lower --jobs or --threads", jobs, threads, jobs * threads, cores);
    return threads;
}

/* Every unit in turn, in this process. The number of steps that failed. */
static int sweep_sequential(Sweep *sw) {
    int failures = 0;
    for (int i = 0; i < sw->plan.n_units; i++) {
        const PlanUnit *u = &sw->plan.units[i];
        fprintf(stderr, "sweep: unit %d/%d  %s L=%ld seed=%d\n", i + 1, sw->plan.n_units, u->method, u->L, u->seed);
        UnitJob j = {.cfg = &sw->cfg, .run_dir = sw->dir, .conf_path = sw->conf_path, .u = u,
                     .threads = sw->unit_threads};
        if (unit_run(&j) == UNIT_BUSY) j.failed_steps++;
        failures += j.failed_steps;
    }
    return failures;
}

/* Start `posbench unit RUN ID --threads T` for unit u, logging to its unit.log. Its pid. */
static pid_t sweep_start_unit(const Sweep *sw, const PlanUnit *u) {
    char udir[4300], log[4400], err[ERRLEN], threads[16];
    plan_unit_dir(sw->dir, u, udir, sizeof udir);
    snprintf(log, sizeof log, "%s/unit.log", udir);
    int logged = mkdir_p(udir, err, sizeof err) == 0;   /* else the child says why it cannot start */
    snprintf(threads, sizeof threads, "%d", sw->unit_threads);
    char *args[] = {"posbench", "unit", (char *)sw->dir, (char *)u->id, "--threads", threads, NULL};
    SpawnOpts o = {.log = logged ? log : NULL};
    pid_t pid = spawn_start("/proc/self/exe", args, &o);
    if (pid < 0) die_internal("cannot start a child posbench process");
    fprintf(stderr, "sweep: unit %d/%d  %s started (threads %d; log %s)\n", u->index, sw->plan.n_units, u->id,
            sw->unit_threads, log);
    return pid;
}

/* --jobs J: J units at once, each a child `posbench unit`. The number of units that failed. */
static int sweep_parallel(Sweep *sw) {
    pid_t *slot = xcalloc(sw->jobs, sizeof(pid_t));
    int *unit_of = xcalloc(sw->jobs, sizeof(int));
    int next = 0, running = 0, failed = 0;
    while (next < sw->plan.n_units || running) {
        for (int s = 0; s < sw->jobs && next < sw->plan.n_units; s++)
            if (!slot[s]) {
                unit_of[s] = next;
                slot[s] = sweep_start_unit(sw, &sw->plan.units[next++]);
                running++;
            }
        pid_t pid;
        int rc = spawn_wait_any(&pid), s = 0;
        if (pid < 0) die_internal("cannot wait for a child posbench process");
        while (s < sw->jobs && slot[s] != pid) s++;
        if (s == sw->jobs) continue;   /* not one of ours */
        const PlanUnit *u = &sw->plan.units[unit_of[s]];
        if (rc == 0) fprintf(stderr, "sweep: unit %s done\n", u->id);
        else fprintf(stderr, "sweep: unit %s failed (exit %d; see %s/units/%s/unit.log)\n", u->id, rc, sw->dir, u->id);
        failed += rc != 0;
        slot[s] = 0;
        running--;
    }
    free(slot);
    free(unit_of);
    return failed;
}

static Flag sweep_flags[] = {
    {"--preset", "P", "quick", "preset under harness/presets: tiny, quick, paper, headline", NULL, 0},
    {"--config", "FILE", NULL, "config file of 'key = value' lines overriding the preset", NULL, 0},
    {"--set", "K=V;...", NULL, "override config keys, e.g. \"steps=500;lr=1e-3\"", NULL, 0},
    {"--methods", "a,b,...", NULL, "position methods (default: the config's methods)", NULL, 0},
    {"--train-lens", "a,b,...", NULL, "training lengths (default: the config's train_lens)", NULL, 0},
    {"--lengths", "a,b,...", NULL, "evaluation lengths (default: the config's eval_mults x L)", NULL, 0},
    {"--seeds", "N", NULL, "seeds per (method, L) (default: the config's seeds)", NULL, 0},
    {"--data", "D", NULL, "corpus, prepared folder or text file (default: the config's data)", NULL, 0},
    {"--out", "DIR", NULL, "run folder (default: runs/PRESET)", NULL, 0},
    {"--threads", "N", NULL, "threads per unit (default: the config's threads; 0 = all cores)", NULL, 0},
    {"--no-plot", NULL, NULL, "skip figures and report", NULL, 0},
    {"--jobs", "J", "1", "units at once on this machine; rule: J x threads <= cores (threads 0: cores / J each)", NULL, 0},
    {"--plan-only", NULL, NULL, "write RUN/plan.tsv and prepare the data, run nothing (then posbench unit, merge)", NULL, 0},
    {"--executor", "local|slurm", "local", "run the units here, or submit them as a Slurm job array and a merge job", NULL, 0},
    {"--slurm-args", "\"ARGS\"", NULL, "sbatch options for the job scripts: \"--partition=cpu --time=60\" (one alone: --slurm-args=--hold)", NULL, 0},
    {"--resume", NULL, NULL, "with --executor slurm: submit only the units that are missing or failed", NULL, 0},
};

/* The config from the preset, --config, --set and the flags that override single keys. */
static void sweep_config(Sweep *sw, Flag *fl, int nf) {
    RunConfig *cfg = &sw->cfg;
    run_config_resolve(cfg, flag_str(fl, nf, "--preset"), flag_str(fl, nf, "--config"), flag_str(fl, nf, "--set"));
    static const struct { const char *flag, *key; } over[] = {{"--methods", "methods"}, {"--train-lens", "train_lens"},
        {"--lengths", "lengths"}, {"--seeds", "seeds"}, {"--data", "data"}, {"--threads", "threads"}};
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++)
        if (flag_str(fl, nf, over[i].flag)) config_set(cfg, over[i].key, flag_str(fl, nf, over[i].flag), over[i].flag);
    runtime_use_precision(cfg->precision);   /* a bf16 sweep on a CPU without it warns here, once, not per unit */
}

/* How the units run, from --executor, --jobs, --resume, --slurm-args: checked before any work.
 * 1 for Slurm, 0 for here. */
static int sweep_executor(Sweep *sw, Flag *fl, int nf) {
    const char *ex = flag_str(fl, nf, "--executor");
    int slurm = !strcmp(ex, "slurm");
    if (!slurm && strcmp(ex, "local")) die_input("--executor: '%s' is neither local nor slurm", ex);
    sw->jobs = (int)flag_int(fl, nf, "--jobs", 1, 4096);
    if (slurm && flag_get(fl, nf, "--jobs")->set)
        die_input("--jobs: not with --executor slurm (Slurm decides how many units run at once)");
    if (!slurm && flag_on(fl, nf, "--resume"))
        die_input("--resume: only with --executor slurm (a local sweep resumes when the same command runs again)");
    if (!slurm && flag_str(fl, nf, "--slurm-args")) die_input("--slurm-args: only with --executor slurm");
    if (slurm && sw->cfg.threads == 0)
        die_input("--threads: --executor slurm needs threads per unit (the config's threads = 0 means all cores of "
                  "whichever node); give --threads N, which becomes --cpus-per-task");
    sw->unit_threads = slurm ? sw->cfg.threads : sweep_jobs_threads(sw->jobs, sw->cfg.threads);
    return slurm;
}

/* Units here (in turn or J at once), then the merge. The exit status. */
static int sweep_local(Sweep *sw, int plot) {
    char start[64];
    runtime_iso_time(start, sizeof start);
    double t0 = now_seconds();
    SweepClock *clock = sweep_clock_start(sw->dir, start);   /* RUN/sweeps.tsv counts this sweep even if killed */
    int failures = sw->jobs > 1 ? sweep_parallel(sw) : sweep_sequential(sw);
    sweep_clock_stop(clock, now_seconds() - t0);
    MergeJob m = {.dir = sw->dir, .cfg = &sw->cfg, .ds = &sw->ds, .plan = &sw->plan, .start = start,
                  .wall = now_seconds() - t0, .sweep_records = 1, .plot = plot, .who = "sweep"};
    int not_done = merge_run(&m);
    if (failures)
        fprintf(stderr, "sweep: %d %s failed; re-run the same command to retry them\n", failures,
                sw->jobs > 1 ? "unit(s)" : "step(s)");
    return failures || not_done ? 1 : 0;
}

int cmd_sweep(int argc, char **argv) {
    Flag *fl = sweep_flags;
    int nf = NFLAGS(sweep_flags);
    flags_parse(fl, nf, argc, argv, &sweep_cmd, NULL, 0);
    Sweep *sw = xcalloc(1, sizeof(Sweep));
    RunConfig *cfg = &sw->cfg;
    sweep_config(sw, fl, nf);
    int slurm = sweep_executor(sw, fl, nf);
    runtime_set_threads(sw->unit_threads);
    sw->n_methods = sweep_methods(cfg, sw->mbuf, sizeof sw->mbuf, sw->methods);   /* before anything runs */
    sweep_check_variants(cfg, sw->methods, sw->n_methods);
    if (flag_str(fl, nf, "--out")) snprintf(sw->dir, sizeof sw->dir, "%s", flag_str(fl, nf, "--out"));
    else snprintf(sw->dir, sizeof sw->dir, "runs/%s", cfg->preset);
    sweep_open_folder(sw->dir);
    sweep_write_config(sw->dir, cfg);
    sweep_open_data(&sw->ds, cfg, sw->dir);
    snprintf(sw->conf_path, sizeof sw->conf_path, "%s/config.conf", sw->dir);
    sweep_plan(sw);
    runtime_kernel_notice();   /* once input is known good, before any unit starts (runtime.h) */
    int rc = 0;
    if (flag_on(fl, nf, "--plan-only"))
        printf("plan: %d units in %s/plan.tsv; run each with: posbench unit %s ID (an id, or 1..%d), then: "
               "posbench merge %s\n", sw->plan.n_units, sw->dir, sw->dir, sw->plan.n_units, sw->dir);
    else if (slurm) {
        SlurmJob sj = {.run_dir = sw->dir, .plan = &sw->plan, .threads = sw->unit_threads,
                       .slurm_args = flag_str(fl, nf, "--slurm-args"), .resume = flag_on(fl, nf, "--resume"),
                       .plot = !flag_on(fl, nf, "--no-plot")};
        rc = slurm_submit(&sj);
    } else rc = sweep_local(sw, !flag_on(fl, nf, "--no-plot"));
    data_close(&sw->ds);
    plan_free(&sw->plan);
    free(sw);
    return rc;
}
