/* merge.c — `posbench merge RUN`: a planned sweep's finished units gathered into the run
 * folder: results.csv, train.csv and positions.csv (each the units' files concatenated in plan
 * order under one header; the table `gathers` is the one place that says which unit files feed
 * which run file), meta.json, the perplexity table on stdout, the figures and the report.
 * Every file is written atomically.
 *
 * A unit that is not done (missing, failed or still running) is named on stderr with the
 * command that reruns it; what the finished units hold is still written (the report notes
 * what is missing), and the merge exits 1. The plain sweep calls merge_run itself.
 */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../common/csv.h"
#include "../common/json.h"
#include "../common/runfiles.h"
#include "../plots/plot.h"
#include "merge.h"
#include "sweep_clock.h"
#include "run_common.h"
#include "runtime.h"

/* Append the body (all but the header line) of a CSV file to f; the header once. */
static void append_csv(FILE *f, const char *path, int *header_done) {
    char err[ERRLEN];
    char *text = read_file(path, NULL, err, sizeof err);
    if (!text) return;
    char *body = strchr(text, '\n');
    if (!*header_done && body) {
        fwrite(text, 1, (size_t)(body - text + 1), f);
        *header_done = 1;
    }
    if (body) fputs(body + 1, f);
    free(text);
}

int merge_meta_timing(const char *dir, char *start, size_t n, double *wall) {
    char path[4200], err[ERRLEN];
    size_t len;
    snprintf(path, sizeof path, "%s/meta.json", dir);
    char *text = read_file(path, &len, err, sizeof err);
    JsonDoc doc;
    int found = 0;
    if (text && json_parse(&doc, text, len, err, sizeof err) == 0) {
        const JsonValue *st = json_get(&doc.root, "start"), *w = json_get(&doc.root, "wall_s");
        if (st && st->type == JSON_STRING && w && w->type == JSON_NUMBER && json_number(w) >= 0) {
            snprintf(start, n, "%s", st->u.str);
            *wall = json_number(w);
            found = 1;
        }
        json_doc_free(&doc);
    }
    free(text);
    return found;
}

/* A sweep's timing from RUN/sweeps.tsv (sweep_clock.h): the first sweep's start, the sum of
 * every sweep's wall time, and the lines, in *rec (n of them; free it). */
static int sweep_timing(const char *dir, char *start, size_t n, double *wall, SweepRecord **rec) {
    int nr = sweep_records_read(dir, rec);
    if (nr > 0) {
        snprintf(start, n, "%s", (*rec)[0].start);
        *wall = 0;
        for (int i = 0; i < nr; i++) *wall += (*rec)[i].wall_s;
    }
    return nr;
}

/* "method_options": {"<spec>": {"method": "<name>", "options": {"key": value, ...}}, ...}: every
 * option of every method spec in the run, defaults included (the registry's list). */
static void write_method_options(FILE *f, const Plan *p) {
    fprintf(f, "  \"method_options\": {");
    int first = 1;
    for (int i = 0; i < p->n_units; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= !strcmp(p->units[j].method, p->units[i].method);
        const PosMethod *m;
        PosConfig pc = {.n_head = 1, .head_dim = 2, .d_model = 2, .train_len = 1, .n_layer = 0};   /* 0: any composition */
        char err[ERRLEN];
        if (seen || pos_spec_parse(p->units[i].method, &m, &pc, err, sizeof err) != 0) continue;
        fprintf(f, "%s\n    \"%s\": {\"method\": \"%s\", \"options\": {", first ? "" : ",", p->units[i].method, m->name);
        for (int k = 0; k < pos_option_count(m); k++)
            fprintf(f, "%s\"%s\": %.9g", k ? ", " : "", m->options[k].key, pc.opt[k]);
        fprintf(f, "}}");
        first = 0;
    }
    fprintf(f, "\n  },\n");
}

/* One summary of the finished units of method (and of training length L when L > 0): mean
 * tokens_per_s and wall_s, the largest peak_rss_mb, params. Nothing when none finished. */
static void write_train_summary(FILE *f, const char *dir, const Plan *p, const char *method, long L,
                                const char *name, int *first, const char *indent) {
    double tps = 0, rss = 0, wall_s = 0, params = 0;
    int n = 0;
    for (int j = 0; j < p->n_units; j++) {
        char path[4400], err[ERRLEN];
        TrainSummary ts;
        snprintf(path, sizeof path, "%s/units/%s/train.json", dir, p->units[j].id);
        if (strcmp(p->units[j].method, method) || (L > 0 && p->units[j].L != L) ||
            train_summary_read(path, &ts, err, sizeof err) != 0)
            continue;
        tps += ts.tokens_per_s, wall_s += ts.wall_s, params = (double)ts.params, n++;
        rss = ts.peak_rss_mb > rss ? ts.peak_rss_mb : rss;
    }
    if (!n) return;
    fprintf(f, "%s\n%s\"%s\": {\"tokens_per_s\": %.1f, \"peak_rss_mb\": %.1f, \"wall_s\": %.1f, \"params\": %.0f}",
            *first ? "" : ",", indent, name, tps / n, rss, wall_s / n, params);
    *first = 0;
}

/* meta.json "train": per method, training speed and memory over its finished units (their
 * train.json); with several training lengths, per method and L ({"alibi": {"128": {...}}}). */
static void write_train_summaries(FILE *f, const char *dir, const Plan *p) {
    int several_L = 0;
    for (int i = 1; i < p->n_units; i++) several_L |= p->units[i].L != p->units[0].L;
    fprintf(f, "  \"train\": {");
    int first = 1;
    for (int i = 0; i < p->n_units; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= !strcmp(p->units[j].method, p->units[i].method);
        if (seen) continue;
        const char *method = p->units[i].method;
        if (!several_L) {
            write_train_summary(f, dir, p, method, 0, method, &first, "    ");
            continue;
        }
        fprintf(f, "%s\n    \"%s\": {", first ? "" : ",", method);
        int first_L = 1;
        for (int k = 0; k < p->n_units; k++) {
            int seen_L = 0;
            for (int j = 0; j < k; j++) seen_L |= !strcmp(p->units[j].method, method) && p->units[j].L == p->units[k].L;
            if (seen_L || strcmp(p->units[k].method, method)) continue;
            char Ls[32];
            snprintf(Ls, sizeof Ls, "%ld", p->units[k].L);
            write_train_summary(f, dir, p, method, p->units[k].L, Ls, &first_L, "      ");
        }
        fprintf(f, "\n    }");
        first = 0;
    }
}

/* "sweeps": [{"start": ..., "wall_s": ..., "state": ...}, ...]: sweeps.tsv's lines (none for a merge). */
static void write_sweeps(FILE *f, const SweepRecord *rec, int n) {
    fprintf(f, "  \"sweeps\": [");
    for (int i = 0; i < n; i++)
        fprintf(f, "%s{\"start\": \"%s\", \"wall_s\": %.1f, \"state\": \"%s\"}", i ? ", " : "", rec[i].start,
                rec[i].wall_s, rec[i].state);
    fprintf(f, "],\n");
}

static void write_meta(const char *dir, const RunConfig *cfg, const Dataset *ds, const Plan *p, const char *core,
                       const char *start, time_t end_t, double wall, const SweepRecord *rec, int n_rec) {
    char path[4200], err[ERRLEN], end[64];
    runtime_iso_time_at(end_t, end, sizeof end);
    snprintf(path, sizeof path, "%s/meta.json", dir);
    AtomicFile af;
    if (atomic_open(&af, path, "w", err, sizeof err) != 0) die_internal("%s", err);
    FILE *f = af.fp;
    fprintf(f, "{\n  \"preset\": \"%s\",\n  \"config\": ", cfg->preset);
    config_write_json(cfg, f);
    fprintf(f, ",\n  \"dataset\": {\"name\": \"%s\", \"spec\": \"%s\", \"tokenizer\": \"%s\", \"vocab\": %d, "
               "\"hash\": \"%s\", \"splits\": {",
            data_name(ds), cfg->data, data_tokenizer(ds), data_vocab(ds), data_hash(ds));
    for (int i = 0; i < ds->n_splits; i++)
        fprintf(f, "%s\"%s\": {\"documents\": %d, \"tokens\": %zu, \"bytes\": %llu}", i ? ", " : "",
                ds->splits[i].name, ds->splits[i].n_docs, ds->splits[i].n_tokens,
                (unsigned long long)ds->splits[i].n_bytes);
    fprintf(f, "}, \"split_rule\": ");
    run_split_rule_json(ds, cfg->data, f);
    fprintf(f, "},\n  \"commit\": \"%s\",\n  \"cpu\": \"%s\",\n  \"build\": \"%s\",\n  \"blas\": \"%s\",\n  \"blas_core\": \"%s\",\n"
               "  \"threads\": %d,\n  \"start\": \"%s\",\n  \"end\": \"%s\",\n  \"wall_s\": %.1f,\n",
            runtime_commit(), runtime_cpu_name(), runtime_build_info(), runtime_blas_name(), core, runtime_threads(), start,
            end, wall);
    write_sweeps(f, rec, n_rec);
    write_method_options(f, p);
    write_train_summaries(f, dir, p);
    fprintf(f, "\n  },\n  \"units\": [");
    for (int i = 0; i < p->n_units; i++) {
        snprintf(path, sizeof path, "%s/units/%s/train.json", dir, p->units[i].id);
        char *t = read_file(path, NULL, err, sizeof err);
        if (t) t[strcspn(t, "\n")] = 0;
        fprintf(f, "%s\n    %s", i ? "," : "", t ? t : "null");
        free(t);
    }
    fprintf(f, "\n  ]\n}\n");
    if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
}

/* The nonoverlapping perplexity table on stdout: one line per (method, L, seed). */
static void print_table(const char *dir) {
    char path[4200], err[ERRLEN];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    Csv c;
    if (csv_load(&c, path, err, sizeof err) != 0) return;
    printf("\nnonoverlapping perplexity (%s/results.csv):\n", dir);
    int col[RC_N];
    for (int k = 0; k < RC_N; k++) col[k] = csv_col(&c, results_cols[k]);
    char last[256] = "";
    for (int i = 0; i < c.nrow; i++) {
        const char *method = csv_get(&c, i, col[RC_METHOD]);
        long L = csv_long(csv_get(&c, i, col[RC_TRAIN_LEN]), -1), seed = csv_long(csv_get(&c, i, col[RC_SEED]), -1),
             W = csv_long(csv_get(&c, i, col[RC_EVAL_LEN]), -1);
        const char *ppl = csv_get(&c, i, col[RC_PPL]);
        if (!*method || L < 0 || W < 0 || !*ppl || strcmp(csv_get(&c, i, col[RC_MODE]), "nonoverlapping")) continue;
        char key[256];
        snprintf(key, sizeof key, "%s %ld %ld", method, L, seed);
        if (strcmp(last, key)) {
            printf("%s  %-12s L=%-5ld seed %-3ld", last[0] ? "\n" : "", method, L, seed);
            snprintf(last, sizeof last, "%s", key);
        }
        printf("  %ld: %.2f", W, strtod(ppl, NULL));
    }
    printf("\n");
    csv_free(&c);
}


/* One run-level file gathered from the units: its columns (the header when no unit has a file)
 * and the unit's files feeding it, in order (names inside the unit folder into names[max]). */
#define GATHER_NAME_LEN 256

typedef struct Gather {
    const char *name;
    const char *const *cols;
    int ncols;
    int (*unit_files)(const PlanUnit *u, char (*names)[GATHER_NAME_LEN], int max);
} Gather;

static int results_files(const PlanUnit *u, char (*names)[GATHER_NAME_LEN], int max) {
    int n = 0;
    for (int e = 0; e < u->n_evals && n < max; e++)
        if (!u->evals[e].probe) plan_eval_name(&u->evals[e], names[n++], GATHER_NAME_LEN);
    return n;
}

static int train_files(const PlanUnit *u, char (*names)[GATHER_NAME_LEN], int max) {
    snprintf(names[0], GATHER_NAME_LEN, "train.csv");
    return 1;
}

static int positions_files(const PlanUnit *u, char (*names)[GATHER_NAME_LEN], int max) {
    int n = 0;
    for (int e = 0; e < u->n_evals && n < max; e++) {
        plan_positions_name(&u->evals[e], names[n], GATHER_NAME_LEN);
        n += names[n][0] != 0;
    }
    return n;
}

static int probes_files(const PlanUnit *u, char (*names)[GATHER_NAME_LEN], int max) {
    int n = 0;
    for (int e = 0; e < u->n_evals && n < max; e++)
        if (u->evals[e].probe) plan_eval_name(&u->evals[e], names[n++], GATHER_NAME_LEN);
    return n;
}

static const Gather gathers[] = {
    {"results.csv", results_cols, RC_N, results_files},
    {"train.csv", train_cols, TC_N, train_files},
    {"positions.csv", positions_cols, PC_N, positions_files},
    {"probes.csv", probes_cols, PR_N_COLS, probes_files},
};

/* Every gathered file of the run folder, atomically. */
static void merge_outputs(const char *dir, const Plan *p) {
    char (*names)[GATHER_NAME_LEN] = xcalloc(PLAN_MAX_EVALS + 1, sizeof *names);
    for (size_t k = 0; k < sizeof gathers / sizeof gathers[0]; k++) {
        char path[4200], err[ERRLEN], src[4700];
        snprintf(path, sizeof path, "%s/%s", dir, gathers[k].name);
        AtomicFile af;
        if (atomic_open(&af, path, "w", err, sizeof err) != 0) die_internal("%s", err);
        int header = 0;
        for (int u = 0; u < p->n_units; u++) {
            int n = gathers[k].unit_files(&p->units[u], names, PLAN_MAX_EVALS + 1);
            for (int i = 0; i < n; i++) {
                snprintf(src, sizeof src, "%s/units/%s/%s", dir, p->units[u].id, names[i]);
                append_csv(af.fp, src, &header);
            }
        }
        if (!header) runfile_header(af.fp, gathers[k].cols, gathers[k].ncols);
        if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
    }
    free(names);
}

/* A word for a shell command line: as it is when it is plain, else in single quotes. */
static void shell_word(const char *s, char *buf, size_t n) {
    if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=,+-") == strlen(s)) {
        snprintf(buf, n, "%s", s);
        return;
    }
    size_t k = 0;
    if (k + 1 < n) buf[k++] = '\'';
    for (; *s && k + 5 < n; s++) {
        if (*s == '\'') { memcpy(buf + k, "'\\''", 4); k += 4; }
        else buf[k++] = *s;
    }
    if (k + 1 < n) buf[k++] = '\'';
    buf[k] = 0;
}

int merge_report_units(const char *dir, const Plan *p, const char *who) {
    char exe[4096] = "posbench", why[ERRLEN], qdir[8300], qid[400];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) exe[len] = 0;
    shell_word(dir, qdir, sizeof qdir);
    int not_done = 0;
    for (int i = 0; i < p->n_units; i++) {
        int st = plan_unit_state(dir, &p->units[i], why, sizeof why);
        if (st == UNIT_DONE) continue;
        if (!not_done++) fprintf(stderr, "%s: units not done (each line: unit, state, the command that reruns it):\n", who);
        shell_word(p->units[i].id, qid, sizeof qid);
        fprintf(stderr, "  %s  %s%s%s%s  rerun: %s unit %s %s\n", p->units[i].id, plan_state_name(st),
                why[0] ? " (" : "", why, why[0] ? ")" : "", exe, qdir, qid);
    }
    if (not_done) fprintf(stderr, "%s: %d of %d units not done; after rerunning them: %s merge %s\n", who, not_done,
                          p->n_units, exe, qdir);
    return not_done;
}

int merge_run(const MergeJob *m) {
    char err[ERRLEN], st[64];
    snprintf(st, sizeof st, "%s", m->start);
    double wall = m->wall, earlier = 0;
    SweepRecord *rec = NULL;
    merge_outputs(m->dir, m->plan);
    int n_rec = 0;
    if (m->sweep_records) n_rec = sweep_timing(m->dir, st, sizeof st, &wall, &rec);
    else merge_meta_timing(m->dir, st, sizeof st, &earlier);   /* a separate merge keeps the first start */
    write_meta(m->dir, m->cfg, m->ds, m->plan, m->blas_core ? m->blas_core : runtime_blas_core(), st,
               m->end ? m->end : time(NULL), wall, rec, n_rec);
    free(rec);
    print_table(m->dir);
    if (m->plot) {
        int rc = plot_run(m->dir, err, sizeof err);
        if (rc != 0) fprintf(stderr, "%s: plots not drawn: %s\n", m->who, err);
        else printf("figures: %s/figures/   report: %s/report.md\n", m->dir, m->dir);
    }
    return merge_report_units(m->dir, m->plan, m->who);
}

static const Command merge_cmd = {"merge", "RUN",
    "gather a planned sweep's finished units into results.csv, train.csv, positions.csv, meta.json, figures and\n"
    "  report. Units not done (missing, failed, running) are named on stderr, each with the command that reruns it;\n"
    "  what the finished units hold is still written, and the exit status is then 1. meta.json dates the run from\n"
    "  the plan to the units' last write, however long after them the merge runs",
    NULL};

static Flag merge_flags[] = {
    {"--no-plot", NULL, NULL, "skip figures and report", NULL, 0},
};

/* The latest modification time of any file under the run's unit folders (0 if none): when the
 * units last wrote, which dates the run's end however long after it the merge runs. */
static time_t last_write;
static int note_write(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
    (void)path, (void)ftw;
    if (type == FTW_F && sb->st_mtime > last_write) last_write = sb->st_mtime;
    return 0;
}
static time_t units_last_write(const char *dir, const Plan *p) {
    char udir[4400];
    last_write = 0;
    for (int i = 0; i < p->n_units; i++) {
        plan_unit_dir(dir, &p->units[i], udir, sizeof udir);
        if (path_exists(udir)) nftw(udir, note_write, 16, FTW_PHYS);
    }
    return last_write;
}

/* How the units trained (the first finished unit's train.json), for meta.json: its threads and
 * OpenBLAS kernel set; both left as given when no unit has finished (or, for the kernel set, when
 * its train.json predates the key). */
static void units_machine(const char *dir, const Plan *p, int *threads, char *core, size_t n) {
    for (int i = 0; i < p->n_units; i++) {
        char path[4400], err[ERRLEN];
        TrainSummary ts;
        snprintf(path, sizeof path, "%s/units/%s/train.json", dir, p->units[i].id);
        if (train_summary_read(path, &ts, err, sizeof err) != 0 || ts.threads <= 0) continue;
        *threads = ts.threads;
        if (ts.blas_core[0]) snprintf(core, n, "%s", ts.blas_core);
        return;
    }
}

/* Seconds from an ISO time ("2026-12-01T07:28:22Z") to `end`; 0 if it does not parse or end is
 * earlier. */
static double seconds_between(const char *iso, time_t end) {
    double t0;
    if (iso_time_parse(iso, &t0) != 0) return 0;
    double s = (double)end - t0;
    return s > 0 ? s : 0;
}

int cmd_merge(int argc, char **argv) {
    Flag *fl = merge_flags;
    int nf = NFLAGS(merge_flags);
    const char *pos[1];
    if (flags_parse(fl, nf, argc, argv, &merge_cmd, pos, 1) != 1) die_input("merge: needs RUN (see posbench merge --help)");
    const char *dir = pos[0];
    char err[ERRLEN], conf[4400];
    snprintf(conf, sizeof conf, "%s/config.conf", dir);
    if (!path_exists(conf)) die_input("merge: %s is not a run folder (no %s)", dir, conf);
    Plan plan;
    if (plan_read(&plan, dir, err, sizeof err) != 0) die_input("merge: %s", err);
    run_lock_folder(dir, "merge");
    RunConfig cfg;
    run_config_resolve(&cfg, plan.preset, conf, NULL);
    int threads = cfg.threads;
    char core[64];
    snprintf(core, sizeof core, "%s", runtime_blas_core());
    units_machine(dir, &plan, &threads, core, sizeof core);
    runtime_set_threads(threads);
    Dataset ds;
    run_open_data(&ds, cfg.data, cfg.tokenizer, cfg.bpe_vocab, "--data");
    run_check_data_hash(dir, &ds, cfg.data);
    time_t end = units_last_write(dir, &plan);
    MergeJob m = {.dir = dir, .cfg = &cfg, .ds = &ds, .plan = &plan, .start = plan.started, .end = end, .blas_core = core,
                  .wall = seconds_between(plan.started, end), .plot = !flag_on(fl, nf, "--no-plot"), .who = "merge"};
    int not_done = merge_run(&m);
    data_close(&ds);
    plan_free(&plan);
    return not_done ? 1 : 0;
}
