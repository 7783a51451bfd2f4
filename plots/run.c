/* run.c — loading a run folder for the figures and report (run.h): the CSVs
 * through common/csv.h and the column lists of common/runfiles.h, meta.json
 * through common/json.h, and
 * the notes on what is missing.
 */
#include "run.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../methods/method.h"
#include "../common/csv.h"
#include "../common/runfiles.h"
#include "../common/util.h"
#include "style.h"

/* ------------------------------------------------------------------------ */
/* meta.json, read with the shared parser (common/json.h).                  */

const JsonValue *jv_path(const JsonValue *j, const char *path) {
    char key[128];
    while (j && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key) return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        j = json_get(j, key);
        path += n;
        if (*path == '.') path++;
    }
    return j;
}

/* Scalars as text (a fraction in the shortest form that reads back the same:
 * 0.003, not 0.0030000000000000001), arrays as "a, b, c", objects as
 * "key value, key value". */
void jv_render(const JsonValue *j, Sb *b) {
    char num[32];
    switch (j->type) {
    case JSON_NUMBER:
        if (j->is_int) {
            sb_printf(b, "%lld", (long long)j->u.i);
            break;
        }
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(num, sizeof num, "%.*g", prec, j->u.num);
            if (strtod(num, NULL) == j->u.num) break;
        }
        sb_printf(b, "%s", num);
        break;
    case JSON_STRING: sb_printf(b, "%s", j->u.str); break;
    case JSON_ARRAY:
        for (unsigned i = 0; i < j->n; i++) {
            if (i) sb_printf(b, ", ");
            jv_render(json_at(j, i), b);
        }
        break;
    case JSON_OBJECT:
        for (unsigned i = 0; i < j->n; i++) {
            sb_printf(b, "%s%s ", i ? ", " : "", json_key(j, i));
            jv_render(json_value(j, i), b);
        }
        break;
    default: sb_printf(b, "%s", json_type_name(j->type)); break; /* null, false, true */
    }
}

/* A number, or a string holding one ("1392780"); NAN otherwise. */
double jv_num(const JsonValue *j) {
    if (j && j->type == JSON_NUMBER) return json_number(j);
    if (!j || j->type != JSON_STRING) return NAN;
    char *end;
    double v = strtod(j->u.str, &end);
    return end == j->u.str ? NAN : v;
}

static int intern(char ***names, int *n, const char *s);

/* The row's status column (ok, n/a, failed) and reason; a results.csv without
 * one (older runs) has ok for a finite perplexity and n/a for nan, which is
 * what its nan rows meant. */
static void row_status(Run *r, EvalRow *e, const char *status, const char *reason) {
    e->reason = *reason ? intern(&r->reason, &r->nreason, reason) : -1;
    if (!strcmp(status, "n/a")) e->status = ST_NA;
    else if (!strcmp(status, "failed")) e->status = ST_FAILED;
    else if (!strcmp(status, "ok")) e->status = isfinite(e->ppl) ? ST_OK : ST_FAILED;
    else e->status = isfinite(e->ppl) ? ST_OK : ST_NA;
}

static int intern(char ***names, int *n, const char *s) {
    for (int i = 0; i < *n; i++)
        if (strcmp((*names)[i], s) == 0) return i;
    *names = xrealloc(*names, sizeof(char *) * (size_t)(*n + 1));
    (*names)[*n] = xstrdup(s);
    return (*n)++;
}

static int run_method(Run *r, const char *name) {
    int before = r->nmeth;
    int m = intern(&r->meth, &r->nmeth, name);
    if (r->nmeth != before) {
        r->in_config = xrealloc(r->in_config, sizeof(int) * (size_t)r->nmeth);
        r->n_results = xrealloc(r->n_results, sizeof(int) * (size_t)r->nmeth);
        r->in_config[m] = 0;
        r->n_results[m] = 0;
    }
    return m;
}

static void run_add_L(Run *r, long L) {
    for (int i = 0; i < r->nL; i++)
        if (r->L[i] == L) return;
    if (r->nL >= MAX_L) return;
    int i = r->nL++;
    while (i > 0 && r->L[i - 1] > L) { r->L[i] = r->L[i - 1]; i--; }
    r->L[i] = L;
}

void run_note(Run *r, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sb_printf(&r->notes, "- %s\n", line);
}

void run_free(Run *r) {
    for (int i = 0; i < r->nmeth; i++) free(r->meth[i]);
    for (int i = 0; i < r->nmode; i++) free(r->mode[i]);
    for (int i = 0; i < r->nreason; i++) free(r->reason[i]);
    free(r->reason);
    free(r->meth);
    free(r->order);
    free(r->in_config);
    free(r->n_results);
    free(r->mode);
    free(r->mode_order);
    free(r->ev);
    free(r->tr);
    free(r->po);
    json_doc_free(&r->meta);
    free(r->notes.s);
}

static int load_json(const char *path, JsonDoc *doc, char *why, size_t whylen) {
    char err[ERRLEN];
    size_t len;
    char *text = read_file(path, &len, err, sizeof err);
    if (!text) {
        snprintf(why, whylen, "%s", err);
        return -1;
    }
    int rc = json_parse(doc, text, len, err, sizeof err);
    if (rc != 0 && snprintf(why, whylen, "%s: %s", path, err) >= (int)whylen)
        snprintf(why, whylen, "%s", err); /* a path too long to leave room: the reason alone */
    free(text);
    return rc;
}

const char *meta_str(const Run *r, const char *path, char *buf, size_t n) {
    const JsonValue *j = r->have_meta ? jv_path(&r->meta.root, path) : NULL;
    if (!j || j->type == JSON_NULL) return "unknown";
    Sb b = {0};
    jv_render(j, &b);
    snprintf(buf, n, "%s", b.s && *b.s ? b.s : "unknown");
    free(b.s);
    return buf;
}

/* Method m trained at L, from meta.json's "units" (each a unit's train.json): the mean over
 * its seeds, peak_rss_mb the largest; NAN when no unit has key. */
static double meta_units(const Run *r, int m, long L, const char *key) {
    const JsonValue *units = json_get(&r->meta.root, "units");
    int is_max = !strcmp(key, "peak_rss_mb"), n = 0;
    double acc = is_max ? -INFINITY : 0.0;
    for (unsigned i = 0; units && i < units->n; i++) {
        const JsonValue *u = json_at(units, i), *meth = json_get(u, "method");   /* NULL for a failed unit's null */
        if (!meth || meth->type != JSON_STRING || strcmp(meth->u.str, r->meth[m]) ||
            jv_num(json_get(u, "train_len")) != (double)L)
            continue;
        double x = jv_num(json_get(u, key));
        if (!isfinite(x)) continue;
        acc = is_max ? fmax(acc, x) : acc + x;
        n++;
    }
    return !n ? NAN : is_max ? acc : acc / n;
}

/* From the units when meta.json has them; else its "train": {"alibi": {...}} or, per
 * training length, {"alibi": {"128": {...}}}. Merges before December 2026 wrote "train"
 * per method only, over every L, so a run with several L reads the units. */
double meta_train(const Run *r, int m, long L, const char *key) {
    if (!r->have_meta) return NAN;
    double u = meta_units(r, m, L, key);
    if (isfinite(u)) return u;
    const JsonValue *t = json_get(json_get(&r->meta.root, "train"), r->meth[m]);
    char Ls[32];
    snprintf(Ls, sizeof Ls, "%ld", L);
    const JsonValue *perL = json_get(t, Ls);
    return jv_num(json_get(perL ? perL : t, key));
}

static int mode_rank(const char *mode) {
    if (!strcmp(mode, "nonoverlapping")) return 0;
    if (!strcmp(mode, "sliding")) return 1;
    return 2;
}

/* Load an optional CSV of the run into c. When it is absent or unreadable, say
 * so in the report (with what is lost) and return 0. */
static int load_optional_csv(Run *r, const char *dir, const char *name, const char *lost, Csv *c) {
    char path[PATH_MAX + 32], why[ERRLEN];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!path_exists(path)) {
        run_note(r, "%s is missing: %s", name, lost);
        return 0;
    }
    if (csv_load(c, path, why, sizeof why) != 0) {
        run_note(r, "%s", why);
        return 0;
    }
    return 1;
}

/* meta.json (optional): the configuration, its methods and training lengths. */
static void load_meta(Run *r, const char *dir) {
    char path[PATH_MAX + 32], why[ERRLEN];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    if (!path_exists(path)) {
        run_note(r, "meta.json is missing: configuration shown as unknown");
    } else if (load_json(path, &r->meta, why, sizeof why) != 0) {
        run_note(r, "meta.json unreadable (%s): configuration shown as unknown", why);
    } else if (r->meta.root.type != JSON_OBJECT) {
        json_doc_free(&r->meta);
        run_note(r, "meta.json unreadable (%s: not a JSON object): configuration shown as unknown", path);
    } else {
        r->have_meta = 1;
    }
    const JsonValue *cm = r->have_meta ? jv_path(&r->meta.root, "config.methods") : NULL;
    for (unsigned i = 0; cm && cm->type == JSON_ARRAY && i < cm->n; i++)
        if (json_at(cm, i)->type == JSON_STRING) {
            int m = run_method(r, json_at(cm, i)->u.str); /* may grow in_config: index after the call */
            r->in_config[m] = 1;
        }
    const JsonValue *tl = r->have_meta ? jv_path(&r->meta.root, "config.train_lens") : NULL;
    for (unsigned i = 0; tl && tl->type == JSON_ARRAY && i < tl->n; i++)
        if (jv_num(json_at(tl, i)) > 0) run_add_L(r, (long)jv_num(json_at(tl, i)));
}

/* Column indices of a column list in a loaded CSV (-1 where absent). */
static void find_cols(const Csv *c, const char *const *names, int n, int *col) {
    for (int k = 0; k < n; k++) col[k] = csv_col(c, names[k]);
}

/* One results.csv row into r (rows without method, mode or lengths are skipped). */
/* One results.csv row into r->ev; -1 (nothing added) when it cannot be a data row. */
static int add_eval_row(Run *r, const Csv *c, int i, const int *col) {
    const char *name = csv_get(c, i, col[RC_METHOD]), *mode = csv_get(c, i, col[RC_MODE]);
    long L = csv_long(csv_get(c, i, col[RC_TRAIN_LEN]), -1), T = csv_long(csv_get(c, i, col[RC_EVAL_LEN]), -1);
    if (!*name || !*mode || L <= 0 || T <= 0) return -1; /* not a data row */
    EvalRow *e = &r->ev[r->nev++];
    e->m = run_method(r, name);
    r->n_results[e->m]++;
    e->mode = intern(&r->mode, &r->nmode, mode);
    e->L = L;
    e->T = T;
    e->seed = csv_long(csv_get(c, i, col[RC_SEED]), 0);
    e->stride = csv_long(csv_get(c, i, col[RC_STRIDE]), T);
    e->tokens = csv_num(csv_get(c, i, col[RC_TOKENS]));
    e->nll = csv_num(csv_get(c, i, col[RC_NLL]));
    e->ppl = csv_num(csv_get(c, i, col[RC_PPL]));
    e->bpb = csv_num(csv_get(c, i, col[RC_BPB]));
    e->tps = csv_num(csv_get(c, i, col[RC_TOKENS_PER_S]));
    e->rss = csv_num(csv_get(c, i, col[RC_PEAK_RSS_MB]));
    row_status(r, e, col[RC_STATUS] >= 0 ? csv_get(c, i, col[RC_STATUS]) : "",
               col[RC_REASON] >= 0 ? csv_get(c, i, col[RC_REASON]) : "");
    run_add_L(r, L);
    const char *sp = csv_get(c, i, col[RC_SPLIT]);
    if (*sp && !strstr(r->split, sp) && strlen(r->split) + strlen(sp) + 3 < sizeof r->split)
        snprintf(r->split + strlen(r->split), sizeof r->split - strlen(r->split), "%s%s", *r->split ? ", " : "", sp);
    return 0;
}

/* results.csv: required, with at least the columns the tables need. */
static int load_results(Run *r, const char *dir, char *err, size_t errlen) {
    char path[PATH_MAX + 32];
    Csv c;
    snprintf(path, sizeof path, "%s/results.csv", dir);
    if (csv_load(&c, path, err, errlen) != 0) return -1;
    int col[RC_N];
    find_cols(&c, results_cols, RC_N, col);
    static const int need[] = {RC_METHOD, RC_TRAIN_LEN, RC_EVAL_LEN, RC_MODE, RC_PPL};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (col[need[i]] < 0) {
            snprintf(err, errlen, "%s: no column '%s' in the header", path, results_cols[need[i]]);
            csv_free(&c);
            return -1;
        }
    r->ev = xcalloc((size_t)c.nrow + 1, sizeof(EvalRow));
    int n_bad = 0;
    char bad_rows[160] = "";
    for (int i = 0; i < c.nrow; i++)
        if (add_eval_row(r, &c, i, col) != 0 && n_bad++ < 8)   /* named below, not dropped silently */
            snprintf(bad_rows + strlen(bad_rows), sizeof bad_rows - strlen(bad_rows), "%s%d", n_bad > 1 ? ", " : "", i + 1);
    csv_free(&c);
    if (n_bad)
        run_note(r, "**results.csv** has %d malformed row%s (data row%s %s%s: no method or mode, or a train_len or "
                    "eval_len that is not a positive whole number); not used", n_bad, n_bad == 1 ? "" : "s",
                 n_bad == 1 ? "" : "s", bad_rows, n_bad > 8 ? ", ..." : "");
    return 0;
}

/* train.csv (optional): training curves; without a tokens column, against steps. */
static void load_train(Run *r, const char *dir) {
    Csv c;
    if (!load_optional_csv(r, dir, "train.csv", "no training curves", &c)) return;
    int col[TC_N];
    find_cols(&c, train_cols, TC_N, col);
    if (col[TC_METHOD] < 0 || col[TC_TRAIN_LEN] < 0 || col[TC_LOSS] < 0 || (col[TC_TOKENS] < 0 && col[TC_STEP] < 0)) {
        run_note(r, "train.csv lacks method, train_len, loss or tokens columns: no training curves");
        csv_free(&c);
        return;
    }
    r->tr = xcalloc((size_t)c.nrow + 1, sizeof(TrainRow));
    r->train_by_step = col[TC_TOKENS] < 0;
    for (int i = 0; i < c.nrow; i++) {
        long L = csv_long(csv_get(&c, i, col[TC_TRAIN_LEN]), -1);
        if (!*csv_get(&c, i, col[TC_METHOD]) || L <= 0) continue;
        TrainRow *t = &r->tr[r->ntr++];
        t->m = run_method(r, csv_get(&c, i, col[TC_METHOD]));
        t->L = L;
        t->seed = csv_long(csv_get(&c, i, col[TC_SEED]), 0);
        t->step = csv_long(csv_get(&c, i, col[TC_STEP]), i);
        t->tokens = col[TC_TOKENS] >= 0 ? csv_num(csv_get(&c, i, col[TC_TOKENS])) : (double)t->step;
        t->loss = csv_num(csv_get(&c, i, col[TC_LOSS]));
        t->tps = csv_num(csv_get(&c, i, col[TC_TOKENS_PER_S]));
        t->val = col[TC_VAL_LOSS] >= 0 ? csv_num(csv_get(&c, i, col[TC_VAL_LOSS])) : NAN;
        r->have_val |= isfinite(t->val);
        run_add_L(r, L);
    }
    r->have_train = r->ntr > 0;
    if (!r->have_train) run_note(r, "train.csv has no rows yet: no training curves");
    csv_free(&c);
}

/* positions.csv (optional): loss per position in a window. */
static void load_positions(Run *r, const char *dir) {
    Csv c;
    if (!load_optional_csv(r, dir, "positions.csv", "no per-position loss figure", &c)) return;
    int col[PC_N];
    find_cols(&c, positions_cols, PC_N, col);
    if (col[PC_METHOD] < 0 || col[PC_TRAIN_LEN] < 0 || col[PC_EVAL_LEN] < 0 || col[PC_POS] < 0 || col[PC_NLL] < 0) {
        run_note(r, "positions.csv lacks method, train_len, eval_len, pos or nll: no per-position figure");
        csv_free(&c);
        return;
    }
    r->po = xcalloc((size_t)c.nrow + 1, sizeof(PosRow));
    for (int i = 0; i < c.nrow; i++) {
        long L = csv_long(csv_get(&c, i, col[PC_TRAIN_LEN]), -1), T = csv_long(csv_get(&c, i, col[PC_EVAL_LEN]), -1),
             pos = csv_long(csv_get(&c, i, col[PC_POS]), -1);
        if (!*csv_get(&c, i, col[PC_METHOD]) || L <= 0 || T <= 0 || pos < 0 || pos >= T) continue;
        PosRow *q = &r->po[r->npo++];
        q->m = run_method(r, csv_get(&c, i, col[PC_METHOD]));
        q->L = L;
        q->T = T;
        q->pos = pos;
        q->seed = csv_long(csv_get(&c, i, col[PC_SEED]), 0);
        q->nll = csv_num(csv_get(&c, i, col[PC_NLL]));
    }
    r->have_pos = r->npo > 0;
    csv_free(&c);
}

/* Display orders: methods by (config position, style rank, first seen); modes
 * nonoverlapping, sliding, then others. Insertion sorts: the lists are short. */
static void sort_orders(Run *r) {
    r->order = xmalloc(sizeof(int) * (size_t)(r->nmeth + 1));
    for (int i = 0; i < r->nmeth; i++) r->order[i] = i;
    for (int i = 1; i < r->nmeth; i++) {
        int v = r->order[i], j = i;
        for (; j > 0; j--) {
            int u = r->order[j - 1];
            int ku = r->in_config[u] ? -1 : (style_rank(r->meth[u]) >= 0 ? style_rank(r->meth[u]) : style_count());
            int kv = r->in_config[v] ? -1 : (style_rank(r->meth[v]) >= 0 ? style_rank(r->meth[v]) : style_count());
            if (ku < kv || (ku == kv && u < v)) break; /* same key: config order or first seen */
            r->order[j] = u;
        }
        r->order[j] = v;
    }
    r->mode_order = xmalloc(sizeof(int) * (size_t)(r->nmode + 1));
    for (int i = 0; i < r->nmode; i++) r->mode_order[i] = i;
    for (int i = 1; i < r->nmode; i++) {
        int v = r->mode_order[i], j = i;
        while (j > 0 && mode_rank(r->mode[r->mode_order[j - 1]]) > mode_rank(r->mode[v])) {
            r->mode_order[j] = r->mode_order[j - 1];
            j--;
        }
        r->mode_order[j] = v;
    }
}

int run_load(Run *r, const char *dir, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    load_meta(r, dir);
    if (load_results(r, dir, err, errlen) != 0) return -1;
    load_train(r, dir);
    load_positions(r, dir);
    sort_orders(r);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* What is missing: methods, lengths, seeds.                                 */

void find_missing(Run *r) {
    long S0[MAX_SEEDS];
    int max_seeds = 0;
    for (int k = 0; k < r->nmeth; k++)
        for (int l = 0; l < r->nL; l++) {
            int ns = run_seeds(r, r->order[k], r->L[l], S0);
            if (ns > max_seeds) max_seeds = ns;
        }
    r->max_seeds = max_seeds;
    for (int k = 0; k < r->nmeth; k++) {
        int m = r->order[k];
        const char *name = r->meth[m];
        if (!r->n_results[m]) {
            run_note(r, "**%s**: no rows in results.csv%s — missing (failed, or not run yet)", name,
                     r->in_config[m] ? " although meta.json's config.methods names it" : "");
            continue;
        }
        int finite = 0;
        for (int i = 0; i < r->nev; i++) finite += r->ev[i].m == m && isfinite(r->ev[i].ppl);
        if (!finite) {
            int na = 0;
            for (int i = 0; i < r->nev; i++) na += r->ev[i].m == m && r->ev[i].status == ST_NA;
            run_note(r, na ? "**%s**: n/a at every evaluated length" : "**%s**: every evaluation failed (perplexity nan)",
                     name);
            continue;
        }
        for (int l = 0; l < r->nL; l++) {
            for (int mi = 0; mi < r->nmode; mi++) {
                int mode = r->mode_order[mi];
                if (pos_spec_variant(name) && strcmp(r->mode[mode], "nonoverlapping")) continue;   /* variants: nonoverlapping only */
                long T[MAX_T];
                int nT = run_lengths(r, r->L[l], mode, T);
                Sb nan = {0}, none = {0}, failed = {0};
                const char *why = NULL;
                for (int t = 0; t < nT; t++) {
                    int rows;
                    Stat s = eval_stat(r, m, r->L[l], mode, T[t], F_PPL, &rows);
                    const char *reason = NULL;
                    int stt = rows ? eval_status(r, m, r->L[l], mode, T[t], &reason) : ST_OK;
                    if (!rows) sb_printf(&none, "%s%ld", none.n ? ", " : "", T[t]);
                    else if (!s.n && stt == ST_FAILED) sb_printf(&failed, "%s%ld", failed.n ? ", " : "", T[t]);
                    else if (!s.n) {
                        sb_printf(&nan, "%s%ld", nan.n ? ", " : "", T[t]);
                        if (reason) why = reason;
                    }
                }
                if (nan.n)
                    run_note(r, "**%s** (L = %ld, %s): no perplexity at %s (n/a: %s); left out of the figures", name,
                             r->L[l], r->mode[mode], nan.s, why ? why : "the method cannot run there");
                if (failed.n)
                    run_note(r, "**%s** (L = %ld, %s): no perplexity at %s (failed); left out of the figures", name,
                             r->L[l], r->mode[mode], failed.s);
                free(failed.s);
                if (none.n)
                    run_note(r, "**%s** (L = %ld, %s): not evaluated at %s", name, r->L[l], r->mode[mode], none.s);
                free(nan.s);
                free(none.s);
            }
            int ns = run_seeds(r, m, r->L[l], S0);
            if (ns && ns < max_seeds)
                run_note(r, "**%s** (L = %ld): %d of %d seeds", name, r->L[l], ns, max_seeds);
        }
    }
}
