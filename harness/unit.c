/* unit.c — `posbench unit RUN ID`: one unit of a planned sweep (plan.h), trained by a child
 * `posbench train` (resuming from its checkpoint) and evaluated by one child `posbench eval`
 * per evaluation, so each results row's peak_rss_mb belongs to that length alone.
 *
 * Idempotent: what is finished (train.json, whole eval CSVs) is skipped; an empty or damaged
 * eval CSV is removed with a note and evaluated again. Locked: the unit holds an flock on
 * RUN/units/ID/.unit.lock while it runs; a second worker on the same unit exits 2 at once
 * naming the holder's pid and touches nothing. A unit that fails leaves unit-failed.txt
 * (what failed, where, when), which the next run of the unit removes; `posbench merge`
 * names such units with the command that reruns them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "../common/spawn.h"
#include "plan.h"
#include "run_common.h"
#include "runtime.h"
#include "unit.h"

/* Training by a child `posbench train --resume`; skipped when train.json exists. Its exit status. */
static int unit_train(const UnitJob *j, const char *udir) {
    char path[4400], Ls[32], seeds[16], threads[16];
    snprintf(path, sizeof path, "%s/train.json", udir);
    if (path_exists(path)) return 0;
    snprintf(Ls, sizeof Ls, "%ld", j->u->L);
    snprintf(seeds, sizeof seeds, "%d", j->u->seed);
    snprintf(threads, sizeof threads, "%d", j->threads);
    /* This process holds the unit's lock, so a holder of the training lock is the trainer of a killed
     * sweep still exiting, or a hand-started `train` into this folder (which the child then names). */
    run_wait_lock_free(udir, 10.0);
    char *args[] = {"posbench", "train", "--preset", (char *)j->cfg->preset, "--config", (char *)j->conf_path,
                    "--method", (char *)j->u->method, "--train-len", Ls, "--seed", seeds, "--out", (char *)udir,
                    "--resume", "--threads", threads, NULL};
    int rc = spawn_self(args, NULL);
    if (rc < 0) die_internal("cannot start or wait for a child posbench process");
    return rc;
}

/* Whether evaluation e is still to do: its CSV at out (udir/name, its variant's folder made) is
 * not whole; a damaged one is removed with a note. */
static int unit_eval_todo(const char *udir, const PlanEval *e, char *out, size_t n) {
    char name[256], err[ERRLEN];
    plan_eval_name(e, name, sizeof name);   /* out: room for udir (4300) and name */
    snprintf(out, n, "%s/%s", udir, name);
    if (plan_eval_csv_whole(e, out)) return 0;
    if (path_exists(out)) {
        fprintf(stderr, "sweep: %s is empty or damaged; evaluating again\n", out);
        unlink(out);
    }
    if (e->variant[0]) {
        char vdir[4400];
        snprintf(vdir, sizeof vdir, "%s/%s", udir, e->variant);
        if (mkdir_p(vdir, err, sizeof err) != 0) fprintf(stderr, "sweep: %s\n", err);   /* the child names the path */
    }
    return 1;
}

/* The probe stage by a child `posbench probe` (its lengths: probe_lengths, else the unit's
 * evaluation lengths); skipped when its CSV is whole. Its exit status. */
static int unit_probe(const UnitJob *j, const char *udir, const PlanEval *e) {
    const RunConfig *cfg = j->cfg;
    char out[4700], ckpt[4400], lens[CFG_MAX_LIST * 12] = "", dists[CFG_MAX_LIST * 12] = "", n[16], threads[16];
    if (!unit_eval_todo(udir, e, out, sizeof out)) return 0;
    snprintf(ckpt, sizeof ckpt, "%s/model.safetensors", udir);
    size_t len = 0;
    if (cfg->n_probe_lengths)
        for (int i = 0; i < cfg->n_probe_lengths; i++)
            len += (size_t)snprintf(lens + len, sizeof lens - len, "%s%ld", i ? "," : "", cfg->probe_lengths[i]);
    else
        for (int i = 0; i < j->u->n_evals; i++)
            if (!j->u->evals[i].probe && !j->u->evals[i].sliding && !j->u->evals[i].variant[0])
                len += (size_t)snprintf(lens + len, sizeof lens - len, "%s%ld", len ? "," : "", j->u->evals[i].W);
    len = 0;
    for (int i = 0; i < cfg->n_probe_distances; i++)
        len += (size_t)snprintf(dists + len, sizeof dists - len, "%s%ld", i ? "," : "", cfg->probe_distances[i]);
    snprintf(n, sizeof n, "%d", cfg->probe_n);
    snprintf(threads, sizeof threads, "%d", j->threads);
    char *args[20] = {"posbench", "probe", (char *)cfg->probes, "--ckpt", ckpt, "--lengths", lens, "--n", n,
                      "--split", (char *)cfg->split, "--threads", threads, "--out", out};
    int a = 15;
    if (dists[0]) args[a++] = "--distances", args[a++] = dists;
    if (e->variant[0]) args[a++] = "--variant", args[a++] = (char *)e->variant;
    args[a] = NULL;
    int rc = spawn_self(args, NULL);
    if (rc < 0) die_internal("cannot start or wait for a child posbench process");
    return rc;
}

/* One evaluation by a child `posbench eval` (or the probe stage); skipped when its CSV is whole
 * (a damaged one is removed with a note and redone). Its exit status. */
static int unit_eval(const UnitJob *j, const char *udir, const PlanEval *e) {
    const RunConfig *cfg = j->cfg;
    const char *mname = e->sliding ? "sliding" : "nonoverlapping";
    char name[256], out[4700], pos[4700], ckpt[4400], Ws[32], threads[16], tokens[32], stride[32];
    if (e->probe) return unit_probe(j, udir, e);
    if (!unit_eval_todo(udir, e, out, sizeof out)) return 0;
    plan_positions_name(e, name, sizeof name);
    snprintf(pos, sizeof pos, "%s/%s", udir, name);
    snprintf(ckpt, sizeof ckpt, "%s/model.safetensors", udir);
    snprintf(Ws, sizeof Ws, "%ld", e->W);
    snprintf(threads, sizeof threads, "%d", j->threads);
    snprintf(tokens, sizeof tokens, "%ld", e->sliding ? cfg->sliding_tokens : cfg->eval_tokens);
    long L = j->u->L;
    snprintf(stride, sizeof stride, "%ld", cfg->sliding_div ? (L / cfg->sliding_div > 0 ? L / cfg->sliding_div : 1) : L);
    char *args[] = {"posbench", "eval", "--ckpt", ckpt, "--lengths", Ws, "--mode", (char *)mname,
                    "--split", (char *)cfg->split, "--data", (char *)cfg->data, "--threads", threads, "--out", out,
                    "--max-tokens", tokens, e->sliding ? "--stride" : "--per-position", e->sliding ? stride : pos,
                    e->variant[0] ? "--variant" : NULL, (char *)e->variant, NULL};
    int rc = spawn_self(args, NULL);
    if (rc < 0) die_internal("cannot start or wait for a child posbench process");
    return rc;
}

/* unit-failed.txt: one line saying what failed, on which host, when. */
static void unit_mark_failed(const char *udir, const char *what) {
    char path[4400], err[ERRLEN], host[256] = "?", when[64];
    gethostname(host, sizeof host - 1);
    runtime_iso_time(when, sizeof when);
    snprintf(path, sizeof path, "%s/unit-failed.txt", udir);
    AtomicFile af;
    if (atomic_open(&af, path, "w", err, sizeof err) != 0) return;
    fprintf(af.fp, "%s (on %s at %s)\n", what, host, when);
    if (atomic_commit(&af, err, sizeof err) != 0) fprintf(stderr, "unit: %s\n", err);
}

int unit_run(UnitJob *j) {
    char udir[4300], err[ERRLEN], holder[32], path[4400], what[256] = "";
    plan_unit_dir(j->run_dir, j->u, udir, sizeof udir);
    if (mkdir_p(udir, err, sizeof err) != 0) {
        fprintf(stderr, "sweep: unit %s cannot start: %s\n", j->u->id, err);
        j->failed_steps = 1;
        return UNIT_FAILED_RC;
    }
    snprintf(path, sizeof path, "%s/.unit.lock", udir);
    int lock = run_try_lock(path, holder, sizeof holder);
    if (lock == -2) die_input("unit: cannot lock %s (%s)", path, strerror(errno));
    if (lock == -1) {
        fprintf(stderr, "unit: %s is being run by another process (pid %s); this one leaves it alone\n", udir, holder);
        return UNIT_BUSY;
    }
    remove_stale_tmp(udir);
    snprintf(path, sizeof path, "%s/unit-failed.txt", udir);
    unlink(path);
    int rc = unit_train(j, udir);
    j->failed_steps = rc != 0;
    if (rc != 0) {
        fprintf(stderr, "sweep: training %s failed (exit %d); continuing with the others\n", udir, rc);
        snprintf(what, sizeof what, "training exited %d", rc);
    }
    for (int e = 0; rc == 0 && e < j->u->n_evals; e++) {
        const PlanEval *ev = &j->u->evals[e];
        char mode[200];
        snprintf(mode, sizeof mode, "%s%s%s", ev->probe ? "probes" : ev->sliding ? "sliding" : "nonoverlapping",
                 ev->variant[0] ? " of " : "", ev->variant);
        int erc = unit_eval(j, udir, ev);
        if (erc == 0) continue;
        fprintf(stderr, "sweep: evaluating %s at %ld (%s) failed (exit %d)\n", udir, ev->W, mode, erc);
        if (!what[0]) snprintf(what, sizeof what, "evaluation at %ld (%s) exited %d", ev->W, mode, erc);
        j->failed_steps++;
    }
    if (what[0]) unit_mark_failed(udir, what);
    close(lock);
    return what[0] ? UNIT_FAILED_RC : 0;
}

static const Command unit_cmd = {"unit", "RUN ID",
    "run one unit of a planned sweep (ID: its id or 1-based index in RUN/plan.tsv): train, then its evaluations.\n"
    "  Idempotent (finished steps are skipped); one worker per unit: a second one on the same unit exits 2 at once\n"
    "  naming the holder's pid. Exit 1 when a step failed (RUN/units/ID/unit-failed.txt says which)",
    NULL};

static Flag unit_flags[] = {
    {"--threads", "N", NULL, "threads (default: the config's threads; 0 = all cores)", NULL, 0},
};

/* The run folder, its plan and the prepared data, as this machine sees them (exit 2 naming the path). */
static void unit_check_visible(const char *dir, Plan *p) {
    char err[ERRLEN], path[4400], host[256] = "this machine";
    gethostname(host, sizeof host - 1);
    snprintf(path, sizeof path, "%s/config.conf", dir);
    if (!path_exists(dir) || !path_exists(path))
        die_input("unit: %s is not visible on %s (no %s); the run folder must be on storage every node sees", dir,
                  host, path);
    if (plan_read(p, dir, err, sizeof err) != 0) die_input("unit: %s", err);
    snprintf(path, sizeof path, "%s/manifest.txt", p->data_dir);
    if (!path_exists(path))
        die_input("unit: the prepared dataset %s is not visible on %s; the dataset cache must be on storage every "
                  "node sees (prepare it once with posbench sweep --plan-only)", p->data_dir, host);
}

int cmd_unit(int argc, char **argv) {
    Flag *fl = unit_flags;
    int nf = NFLAGS(unit_flags);
    const char *pos[2];
    if (flags_parse(fl, nf, argc, argv, &unit_cmd, pos, 2) != 2) die_input("unit: needs RUN and ID (see posbench unit --help)");
    Plan plan;
    unit_check_visible(pos[0], &plan);
    const PlanUnit *u = plan_find(&plan, pos[1]);
    if (!u) die_input("unit: no unit '%s' in %s/plan.tsv (an id from there, or an index 1..%d)", pos[1], pos[0], plan.n_units);
    RunConfig cfg;
    char conf[4400];
    snprintf(conf, sizeof conf, "%s/config.conf", pos[0]);
    run_config_resolve(&cfg, plan.preset, conf, NULL);
    if (flag_str(fl, nf, "--threads")) config_set(&cfg, "threads", flag_str(fl, nf, "--threads"), "--threads");
    UnitJob j = {.cfg = &cfg, .run_dir = pos[0], .conf_path = conf, .u = u, .threads = cfg.threads};
    int rc = unit_run(&j);
    if (rc == 0) fprintf(stderr, "unit: %s done\n", u->id);
    else if (rc == UNIT_FAILED_RC) fprintf(stderr, "unit: %s failed; rerun: posbench unit %s %s\n", u->id, pos[0], u->id);
    plan_free(&plan);
    return rc;
}
