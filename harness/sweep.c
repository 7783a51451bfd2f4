/* sweep.c — `posbench sweep`: the paper's experiment as one command.
 *
 * For every (train length L, method, seed) a unit folder RUN/units/M-L<L>-s<S>/
 * is trained by a child `posbench train` process, then evaluated by one child
 * `posbench eval` process per (length, mode), so each row's peak_rss_mb
 * belongs to that length alone. A re-run on the same folder skips what is
 * finished (train.json, eval-*.csv present) and resumes an interrupted
 * training from its checkpoint. Then results.csv, train.csv, positions.csv and
 * meta.json are merged (atomically) and the plots and report are drawn.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../common/csv.h"
#include "../common/json.h"
#include "../common/runfiles.h"
#include "../common/spawn.h"
#include "../plots/plot.h"
#include "run_common.h"
#include "runtime.h"
#include "eval.h"

typedef struct Unit {
    char method[POS_SPEC_LEN];
    long L;
    int seed;
    char dir[4300];
} Unit;

/* A child posbench (train or eval); exits 1 when it cannot be started or waited for. */
static int run_child(char *const args[]) {
    int rc = spawn_self(args, NULL);
    if (rc < 0) die_internal("cannot start or wait for a child posbench process");
    return rc;
}

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

/* A re-run of a sweep keeps the first start time and adds its own wall time to
 * the earlier invocations' (read from the previous meta.json, if any). */
static void previous_timing(const char *dir, char *start, size_t n, double *wall) {
    char path[4200], err[ERRLEN];
    size_t len;
    snprintf(path, sizeof path, "%s/meta.json", dir);
    char *text = read_file(path, &len, err, sizeof err);
    JsonDoc doc;
    if (text && json_parse(&doc, text, len, err, sizeof err) == 0) {
        const JsonValue *st = json_get(&doc.root, "start"), *w = json_get(&doc.root, "wall_s");
        if (st && st->type == JSON_STRING) snprintf(start, n, "%s", st->u.str);
        if (w && w->type == JSON_NUMBER) *wall += json_number(w);
        json_doc_free(&doc);
    }
    free(text);
}

/* "method_options": {"<spec>": {"method": "<name>", "options": {"key": value, ...}}, ...}: every
 * option of every method spec in the run, defaults included (the registry's list). */
static void write_method_options(FILE *f, const Unit *units, int n_units) {
    fprintf(f, "  \"method_options\": {");
    int first = 1;
    for (int i = 0; i < n_units; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= !strcmp(units[j].method, units[i].method);
        const PosMethod *m;
        PosConfig pc = {.n_head = 1, .head_dim = 2, .d_model = 2, .train_len = 1, .n_layer = 1};
        char err[ERRLEN];
        if (seen || pos_spec_parse(units[i].method, &m, &pc, err, sizeof err) != 0) continue;
        fprintf(f, "%s\n    \"%s\": {\"method\": \"%s\", \"options\": {", first ? "" : ",", units[i].method, m->name);
        for (int k = 0; k < pos_option_count(m); k++)
            fprintf(f, "%s\"%s\": %.9g", k ? ", " : "", m->options[k].key, pc.opt[k]);
        fprintf(f, "}}");
        first = 0;
    }
    fprintf(f, "\n  },\n");
}

/* meta.json "train": per method, training speed and memory averaged over its
 * finished units (their train.json). */
static void write_train_summaries(FILE *f, const Unit *units, int n_units) {
    fprintf(f, "  \"train\": {");
    int first = 1;
    for (int i = 0; i < n_units; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= !strcmp(units[j].method, units[i].method);
        if (seen) continue;
        double tps = 0, rss = 0, wall_s = 0, params = 0;
        int n = 0;
        for (int j = 0; j < n_units; j++) {
            char path[4400], err[ERRLEN];
            TrainSummary ts;
            snprintf(path, sizeof path, "%s/train.json", units[j].dir);
            if (strcmp(units[j].method, units[i].method) || train_summary_read(path, &ts, err, sizeof err) != 0)
                continue;
            tps += ts.tokens_per_s, wall_s += ts.wall_s, params = (double)ts.params, n++;
            rss = ts.peak_rss_mb > rss ? ts.peak_rss_mb : rss;
        }
        if (!n) continue;
        fprintf(f, "%s\n    \"%s\": {\"tokens_per_s\": %.1f, \"peak_rss_mb\": %.1f, \"wall_s\": %.1f, \"params\": %.0f}",
                first ? "" : ",", units[i].method, tps / n, rss, wall_s / n, params);
        first = 0;
    }
}

static void write_meta(const char *dir, const RunConfig *cfg, const Dataset *ds, const Unit *units, int n_units,
                       const char *start, double wall) {
    char path[4200], err[ERRLEN], end[64];
    runtime_iso_time(end, sizeof end);
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
            runtime_commit(), runtime_cpu_name(), runtime_build_info(), runtime_blas_name(), runtime_blas_core(), runtime_threads(), start,
            end, wall);
    write_method_options(f, units, n_units);
    write_train_summaries(f, units, n_units);
    fprintf(f, "\n  },\n  \"units\": [");
    for (int i = 0; i < n_units; i++) {
        snprintf(path, sizeof path, "%s/train.json", units[i].dir);
        char *t = read_file(path, NULL, err, sizeof err);
        if (t) t[strcspn(t, "\n")] = 0;
        fprintf(f, "%s\n    %s", i ? "," : "", t ? t : "null");
        free(t);
    }
    fprintf(f, "\n  ]\n}\n");
    if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
}

static void merge_outputs(const char *dir, Unit *units, int n_units, const long *lens_of_unit[], const int *n_lens,
                          int sliding) {
    static const char *names[] = {"results.csv", "train.csv", "positions.csv"};
    static const char *const *cols[] = {results_cols, train_cols, positions_cols};
    static const int ncols[] = {RC_N, TC_N, PC_N};
    for (int k = 0; k < 3; k++) {
        char path[4200], err[ERRLEN], src[4400];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        AtomicFile af;
        if (atomic_open(&af, path, "w", err, sizeof err) != 0) die_internal("%s", err);
        int header = 0;
        for (int u = 0; u < n_units; u++) {
            if (k == 1) {
                snprintf(src, sizeof src, "%s/train.csv", units[u].dir);
                append_csv(af.fp, src, &header);
                continue;
            }
            for (int i = 0; i < n_lens[u]; i++)
                for (int mode = 0; mode < (k == 0 ? 1 + sliding : 1); mode++) {
                    if (k == 0)
                        snprintf(src, sizeof src, "%s/eval-%ld-%s.csv", units[u].dir, lens_of_unit[u][i],
                                 mode ? "sliding" : "nonoverlapping");
                    else snprintf(src, sizeof src, "%s/positions-%ld.csv", units[u].dir, lens_of_unit[u][i]);
                    append_csv(af.fp, src, &header);
                }
        }
        if (!header) runfile_header(af.fp, cols[k], ncols[k]);
        if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
    }
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

/* An eval CSV from an earlier run counts as done only if it is whole: the results header and at
 * least one row of as many fields. Anything else (empty, truncated, garbage) is removed with a note. */
static int eval_csv_usable(const char *path) {
    if (!path_exists(path)) return 0;
    char err[ERRLEN];
    char *text = read_file(path, NULL, err, sizeof err);
    char *header = NULL;
    size_t hlen = 0;
    FILE *mem = open_memstream(&header, &hlen);
    runfile_header(mem, results_cols, RC_N);
    fclose(mem);
    int fields = RC_N, rows = 0, ok = text && !strncmp(text, header, hlen);
    free(header);
    for (char *line = ok ? strchr(text, '\n') + 1 : NULL; ok && line && *line;) {
        char *end = strchr(line, '\n');
        int n = 1;
        for (char *p = line; p < (end ? end : line + strlen(line)); p++) n += *p == ',';
        ok = end && n == fields;   /* every row complete, ending in a newline */
        rows++;
        line = end ? end + 1 : NULL;
    }
    free(text);
    if (ok && rows) return 1;
    fprintf(stderr, "sweep: %s is empty or damaged; evaluating again\n", path);
    unlink(path);
    return 0;
}

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

/* One sweep: its configuration, folder, methods, data and units. */
typedef struct Sweep {
    RunConfig cfg;
    char dir[4096], conf_path[4400];
    char mbuf[256], *methods[SWEEP_MAX_METHODS];   /* methods point into mbuf */
    int n_methods;
    Dataset ds;
    Unit *units;
    int n_units, failures;
    const long **lens_of;                          /* unit -> its evaluation lengths (rows of all_lens) */
    int *n_lens;
    long all_lens[CFG_MAX_LIST][CFG_MAX_LIST];     /* per training length */
} Sweep;

static const Command sweep_cmd = {"sweep", "", "train every method at L, evaluate every length, plot and report", NULL};

/* The methods of the config, each checked and given once; train lengths given once. */
static int sweep_methods(const RunConfig *cfg, char *mbuf, size_t mcap, char **methods) {
    char err[ERRLEN];
    int n_methods = 0;
    snprintf(mbuf, mcap, "%s", cfg->methods);
    char *save = NULL;
    for (char *m = strtok_r(mbuf, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        if (pos_spec_check(m, err, sizeof err) != 0) die_input("--methods: %s", err);
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

/* The resolved config as DIR/config.conf: children read it; a re-run must not mix configurations. */
static void sweep_write_config(const char *dir, const RunConfig *cfg) {
    char err[ERRLEN], path[4400];
    char *cfg_text = NULL;
    size_t cfg_len = 0;
    FILE *mem = open_memstream(&cfg_text, &cfg_len);
    config_write(cfg, mem);
    fclose(mem);
    snprintf(path, sizeof path, "%s/config.conf", dir);
    char *old = read_file(path, NULL, err, sizeof err);
    if (old && strcmp(old, cfg_text))
        die_input("--out: %s holds a run with a different configuration (%s); choose another folder", dir, path);
    if (!old) {
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
        if ((long)evs->n_tokens < lens[n - 1] + 1)
            die_input("--lengths: %ld is longer than the %s split of %s (%zu tokens)", lens[n - 1], cfg->split,
                      cfg->data, evs->n_tokens);
        if (data_check_window(trs, (int)cfg->train_lens[i], err, sizeof err) != 0) die_input("--train-lens: %s", err);
        config_batch(cfg, cfg->train_lens[i]);   /* batch_tokens must divide by every L */
    }
}

/* A unit's training by a child `posbench train` (resuming); skipped when train.json exists.
 * 0, or 1 when it failed. */
static int train_unit(const Sweep *sw, const Unit *un) {
    char path[4400], Ls[32], seeds[16], threads[16];
    snprintf(path, sizeof path, "%s/train.json", un->dir);
    if (path_exists(path)) return 0;
    snprintf(Ls, sizeof Ls, "%ld", un->L);
    snprintf(seeds, sizeof seeds, "%d", un->seed);
    snprintf(threads, sizeof threads, "%d", sw->cfg.threads);
    char *args[] = {"posbench", "train", "--preset", (char *)sw->cfg.preset, "--config", (char *)sw->conf_path,
                    "--method", (char *)un->method, "--train-len", Ls, "--seed", seeds, "--out", (char *)un->dir, "--resume",
                    "--threads", threads, NULL};
    int rc = run_child(args);
    if (rc == 0) return 0;
    fprintf(stderr, "sweep: training %s failed (exit %d); continuing with the others\n", un->dir, rc);
    return 1;
}

/* One evaluation of a unit by a child `posbench eval` at window W in one mode;
 * skipped when its eval CSV exists. 0, or 1 when it failed. */
static int eval_unit(const Sweep *sw, const Unit *un, long W, int sliding) {
    const RunConfig *cfg = &sw->cfg;
    const char *mname = sliding ? "sliding" : "nonoverlapping";
    char out[4400], pos[4400], ckpt[4400], Ws[32], threads[16], tokens[32], stride[32];
    snprintf(out, sizeof out, "%s/eval-%ld-%s.csv", un->dir, W, mname);
    if (eval_csv_usable(out)) return 0;   /* done; an empty or damaged one is redone */
    snprintf(pos, sizeof pos, "%s/positions-%ld.csv", un->dir, W);
    snprintf(ckpt, sizeof ckpt, "%s/model.safetensors", un->dir);
    snprintf(Ws, sizeof Ws, "%ld", W);
    snprintf(threads, sizeof threads, "%d", cfg->threads);
    snprintf(tokens, sizeof tokens, "%ld", sliding ? cfg->sliding_tokens : cfg->eval_tokens);
    long L = un->L;
    snprintf(stride, sizeof stride, "%ld", cfg->sliding_div ? (L / cfg->sliding_div > 0 ? L / cfg->sliding_div : 1) : L);
    char *args[] = {"posbench", "eval", "--ckpt", ckpt, "--lengths", Ws, "--mode", (char *)mname,
                    "--split", (char *)cfg->split, "--data", (char *)cfg->data, "--threads", threads, "--out", out,
                    "--max-tokens", tokens, sliding ? "--stride" : "--per-position", sliding ? stride : pos, NULL};
    int rc = run_child(args);
    if (rc == 0) return 0;
    fprintf(stderr, "sweep: evaluating %s at %s (%s) failed (exit %d)\n", un->dir, Ws, mname, rc);
    return 1;
}

/* Every (L, method, seed) unit in order: trained, then evaluated at each length and mode. */
static void sweep_units(Sweep *sw) {
    const RunConfig *cfg = &sw->cfg;
    sw->n_units = cfg->n_train_lens * sw->n_methods * cfg->seeds;
    sw->units = xcalloc(sw->n_units, sizeof(Unit));
    sw->lens_of = xcalloc(sw->n_units, sizeof(long *));
    sw->n_lens = xcalloc(sw->n_units, sizeof(int));
    int u = 0;
    for (int li = 0; li < cfg->n_train_lens; li++) {
        long L = cfg->train_lens[li];
        int n_eval = config_eval_lengths(cfg, L, sw->all_lens[li], CFG_MAX_LIST);
        for (int mi = 0; mi < sw->n_methods; mi++)
            for (int seed = 1; seed <= cfg->seeds; seed++, u++) {
                Unit *un = &sw->units[u];
                snprintf(un->method, sizeof un->method, "%s", sw->methods[mi]);
                un->L = L;
                un->seed = seed;
                snprintf(un->dir, sizeof un->dir, "%s/units/%s-L%ld-s%d", sw->dir, un->method, L, seed);
                sw->lens_of[u] = sw->all_lens[li];
                sw->n_lens[u] = n_eval;
                fprintf(stderr, "sweep: unit %d/%d  %s L=%ld seed=%d\n", u + 1, sw->n_units, un->method, L, seed);
                if (train_unit(sw, un)) {
                    sw->failures++;
                    continue;
                }
                for (int i = 0; i < n_eval; i++)
                    for (int mode = 0; mode < (cfg->sliding_div ? 2 : 1); mode++)
                        sw->failures += eval_unit(sw, un, sw->all_lens[li][i], mode);
            }
    }
}

/* The run-level files, the stdout table, the figures and report. */
static void sweep_finish(Sweep *sw, const char *start, double t0, int plot) {
    char err[ERRLEN], st[64];
    snprintf(st, sizeof st, "%s", start);
    merge_outputs(sw->dir, sw->units, sw->n_units, sw->lens_of, sw->n_lens, sw->cfg.sliding_div > 0);
    double wall = now_seconds() - t0;
    previous_timing(sw->dir, st, sizeof st, &wall);
    write_meta(sw->dir, &sw->cfg, &sw->ds, sw->units, sw->n_units, st, wall);
    print_table(sw->dir);
    if (plot) {
        int rc = plot_run(sw->dir, err, sizeof err);
        if (rc != 0) fprintf(stderr, "sweep: plots not drawn: %s\n", err);
        else printf("figures: %s/figures/   report: %s/report.md\n", sw->dir, sw->dir);
    }
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
    {"--threads", "N", NULL, "threads (default: the config's threads; 0 = all cores)", NULL, 0},
    {"--no-plot", NULL, NULL, "skip figures and report", NULL, 0},
};

int cmd_sweep(int argc, char **argv) {
    Flag *fl = sweep_flags;
    int nf = NFLAGS(sweep_flags);
    flags_parse(fl, nf, argc, argv, &sweep_cmd, NULL, 0);
    Sweep *sw = xcalloc(1, sizeof(Sweep));
    RunConfig *cfg = &sw->cfg;
    run_config_resolve(cfg, flag_str(fl, nf, "--preset"), flag_str(fl, nf, "--config"), flag_str(fl, nf, "--set"));
    static const struct { const char *flag, *key; } over[] = {{"--methods", "methods"}, {"--train-lens", "train_lens"},
        {"--lengths", "lengths"}, {"--seeds", "seeds"}, {"--data", "data"}, {"--threads", "threads"}};
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++)
        if (flag_str(fl, nf, over[i].flag)) config_set(cfg, over[i].key, flag_str(fl, nf, over[i].flag), over[i].flag);
    runtime_set_threads(cfg->threads);
    sw->n_methods = sweep_methods(cfg, sw->mbuf, sizeof sw->mbuf, sw->methods);   /* before anything runs */
    if (flag_str(fl, nf, "--out")) snprintf(sw->dir, sizeof sw->dir, "%s", flag_str(fl, nf, "--out"));
    else snprintf(sw->dir, sizeof sw->dir, "runs/%s", cfg->preset);
    sweep_open_folder(sw->dir);
    sweep_write_config(sw->dir, cfg);
    sweep_open_data(&sw->ds, cfg, sw->dir);
    char start[64];
    runtime_iso_time(start, sizeof start);
    double t0 = now_seconds();
    snprintf(sw->conf_path, sizeof sw->conf_path, "%s/config.conf", sw->dir);
    sweep_units(sw);
    sweep_finish(sw, start, t0, !flag_on(fl, nf, "--no-plot"));
    int failures = sw->failures;
    data_close(&sw->ds);
    free(sw->units);
    free(sw->lens_of);
    free(sw->n_lens);
    free(sw);
    if (failures) fprintf(stderr, "sweep: %d step(s) failed; re-run the same command to retry them\n", failures);
    return failures ? 1 : 0;
}
