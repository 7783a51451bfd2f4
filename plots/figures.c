/* plot.c — `posbench plot RUN_DIR`: the figures (gnuplot) and report.md of a run.
 *
 * Reads the run folder's results.csv (required), train.csv, positions.csv,
 * meta.json and status.json (optional; SPEC §6), averages over seeds, and writes
 * for every figure a small data file and a gnuplot variable file into
 * RUN_DIR/figures/data/. Each figure kind has one script in plots/, run once per
 * output format as
 *     cd RUN_DIR/figures/data && gnuplot -e "plotdir=..; fmt=..; vars=..; out=.." plots/KIND.gp
 * so a figure can be re-rendered or restyled by hand from the data folder.
 * report.md gathers the configuration, the perplexity, bits-per-byte and speed
 * tables and the figures. The CSVs are only read; every output is written under
 * a temporary name and renamed into place.
 *
 * The method style table below (paper name, colour, point type) is the one place
 * where a method's look is decided; the scripts get it through the variable files.
 * Left to others: the sweep calls plot_run() at the end of a run; `make plots`
 * calls this command.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "plot.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "../common/json.h"
#include "../common/util.h"

/* ------------------------------------------------------------------------ */
/* Method styles: one colour and point type per method in every figure.      */

typedef struct MethodStyle {
    const char *name;   /* registry name, as in results.csv */
    const char *label;  /* as the papers write it: legends and tables */
    const char *colour; /* "#RRGGBB"; Okabe–Ito colour-blind-safe palette first */
    int point;          /* gnuplot point type of the cairo terminals */
} MethodStyle;

static const MethodStyle method_styles[] = {
    {"nope", "NoPE", "#7F7F7F", 6},             /* open circle */
    {"sinusoidal", "Sinusoidal", "#0072B2", 5}, /* filled square */
    {"rotary", "Rotary", "#009E73", 9},         /* filled triangle */
    {"t5", "T5 bias", "#E69F00", 13},           /* filled diamond */
    {"alibi", "ALiBi", "#D55E00", 7},           /* filled circle */
    {"learned", "Learned", "#CC79A7", 11},      /* filled triangle down */
    {"xpos", "xPos", "#56B4E9", 8},             /* open triangle */
    {"kerple", "KERPLE", "#000000", 12},        /* open diamond */
    {"fire", "FIRE", "#8C510A", 15},            /* filled pentagon */
};
/* A method not in the table gets one of these, chosen by a hash of its name, so
 * it keeps its look across figures and runs. */
static const MethodStyle fallback_styles[] = {
    {NULL, NULL, "#882255", 4}, {NULL, NULL, "#44AA99", 10}, {NULL, NULL, "#999933", 14},
    {NULL, NULL, "#332288", 1}, {NULL, NULL, "#AA4499", 2},  {NULL, NULL, "#117733", 3},
};
#define N_STYLES ((int)(sizeof method_styles / sizeof method_styles[0]))
#define N_FALLBACK ((int)(sizeof fallback_styles / sizeof fallback_styles[0]))

static int style_rank(const char *name) {
    for (int i = 0; i < N_STYLES; i++)
        if (strcmp(method_styles[i].name, name) == 0) return i;
    return -1;
}

static MethodStyle method_style(const char *name) {
    int i = style_rank(name);
    if (i >= 0) return method_styles[i];
    unsigned h = 5381;
    for (const char *p = name; *p; p++) h = h * 33u + (unsigned char)*p;
    MethodStyle s = fallback_styles[h % N_FALLBACK];
    s.name = name;
    s.label = name;
    return s;
}

const char *plot_method_label(const char *method) {
    int i = style_rank(method);
    return i >= 0 ? method_styles[i].label : method;
}

/* ------------------------------------------------------------------------ */
/* A growing string.                                                         */

typedef struct Sb {
    char *s;
    size_t n, cap;
} Sb;

static void sb_printf(Sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(Sb *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) return;
    if (b->n + (size_t)need + 1 > b->cap) {
        b->cap = (b->n + (size_t)need + 1) * 2 + 64;
        b->s = xrealloc(b->s, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

static const char *sb_str(const Sb *b) { return b->s ? b->s : ""; }

/* ------------------------------------------------------------------------ */
/* meta.json and status.json, read with the shared parser (model/json.h).    */

/* "config.n_layer" -> the value, or NULL. */
static const JsonValue *jv_path(const JsonValue *j, const char *path) {
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
static void jv_render(const JsonValue *j, Sb *b) {
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
static double jv_num(const JsonValue *j) {
    if (j && j->type == JSON_NUMBER) return json_number(j);
    if (!j || j->type != JSON_STRING) return NAN;
    char *end;
    double v = strtod(j->u.str, &end);
    return end == j->u.str ? NAN : v;
}

/* ------------------------------------------------------------------------ */
/* CSV: a header line naming the columns, then rows; fields may be quoted.    */

typedef struct Csv {
    char *text;  /* the whole file; fields are cut out of it in place */
    int ncol, nrow;
    char **head; /* ncol */
    char **cell; /* nrow × ncol; "" where a row is short */
} Csv;

static int csv_split(char *line, char **out, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        char *start = p, *w;
        if (*p == '"') {
            start = w = ++p;
            while (*p) {
                if (*p == '"') {
                    if (p[1] == '"') { *w++ = '"'; p += 2; continue; }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            while (*p && *p != ',') p++;
        } else {
            while (*p && *p != ',') p++;
            w = p;
        }
        char sep = *p;
        *w = 0;
        if (n < max) out[n++] = start;
        if (sep != ',') break;
        p++;
    }
    return n;
}

static void csv_free(Csv *c) {
    free(c->text);
    free(c->head);
    free(c->cell);
    memset(c, 0, sizeof *c);
}

static int csv_load(Csv *c, const char *path, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    size_t len;
    c->text = read_file(path, &len, err, errlen);
    if (!c->text) return -1;
    enum { MAXCOL = 64 };
    char *f[MAXCOL];
    size_t cap = 0;
    static char empty[] = "";
    for (char *line = c->text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r') line[--n] = 0;
        if (n) {
            int k = csv_split(line, f, MAXCOL);
            if (!c->head) {
                c->ncol = k;
                c->head = xmalloc(sizeof(char *) * (size_t)k);
                memcpy(c->head, f, sizeof(char *) * (size_t)k);
            } else {
                if ((size_t)(c->nrow + 1) * (size_t)c->ncol > cap) {
                    cap = cap ? cap * 2 : (size_t)c->ncol * 256;
                    c->cell = xrealloc(c->cell, sizeof(char *) * cap);
                }
                char **row = c->cell + (size_t)c->nrow * (size_t)c->ncol;
                for (int i = 0; i < c->ncol; i++) row[i] = i < k ? f[i] : empty;
                c->nrow++;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!c->head) {
        snprintf(err, errlen, "%s: empty file (expected a header line)", path);
        csv_free(c);
        return -1;
    }
    return 0;
}

static int csv_col(const Csv *c, const char *name) {
    for (int i = 0; i < c->ncol; i++)
        if (strcmp(c->head[i], name) == 0) return i;
    return -1;
}

static const char *csv_get(const Csv *c, int row, int col) {
    return col < 0 ? "" : c->cell[(size_t)row * (size_t)c->ncol + (size_t)col];
}

/* Empty, "nan" or text that is not a number -> NaN. */
static double num_or_nan(const char *s) {
    if (!s || !*s) return NAN;
    char *end;
    double v = strtod(s, &end);
    if (end == s) return NAN;
    while (*end == ' ') end++;
    return *end ? NAN : v;
}

static long num_long(const char *s, long def) {
    double v = num_or_nan(s);
    return isfinite(v) ? (long)v : def;
}

/* ------------------------------------------------------------------------ */
/* The run folder, loaded.                                                    */

#define MAX_L 32   /* training lengths in one run */
#define MAX_T 128  /* evaluation lengths per training length */
#define MAX_SEEDS 256

typedef struct EvalRow {
    int m, mode;
    long L, seed, T, stride;
    double tokens, nll, ppl, bpb, tps, rss;
} EvalRow;

typedef struct TrainRow {
    int m;
    long L, seed, step;
    double tokens, loss, tps;
} TrainRow;

typedef struct PosRow {
    int m;
    long L, seed, T, pos;
    double nll;
} PosRow;

typedef struct Run {
    char dir[PATH_MAX];
    char **meth;       /* method names, in first-seen order */
    int nmeth;
    int *order;        /* display order: config.methods, then the style table, then first seen */
    int *in_config;    /* named in meta.json config.methods */
    int *n_results;    /* rows in results.csv */
    char **mode;       /* evaluation modes */
    int nmode;
    int *mode_order;   /* nonoverlapping, sliding, then others */
    long L[MAX_L];     /* training lengths, ascending */
    int nL;
    EvalRow *ev;
    int nev;
    TrainRow *tr;
    int ntr;
    PosRow *po;
    int npo;
    int have_train, have_pos, have_meta, have_status;
    int train_by_step;  /* train.csv has no tokens column: curves against steps */
    char split[64];
    int max_seeds;
    JsonDoc meta, status; /* root.type JSON_NULL unless have_meta / have_status */
    Sb notes;          /* what is missing or failed, one "- ..." line each */
} Run;

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

static void run_note(Run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_note(Run *r, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sb_printf(&r->notes, "- %s\n", line);
}

static void run_free(Run *r) {
    for (int i = 0; i < r->nmeth; i++) free(r->meth[i]);
    for (int i = 0; i < r->nmode; i++) free(r->mode[i]);
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
    json_doc_free(&r->status);
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

static const char *meta_str(const Run *r, const char *path, char *buf, size_t n) {
    const JsonValue *j = r->have_meta ? jv_path(&r->meta.root, path) : NULL;
    if (!j || j->type == JSON_NULL) return "unknown";
    Sb b = {0};
    jv_render(j, &b);
    snprintf(buf, n, "%s", b.s && *b.s ? b.s : "unknown");
    free(b.s);
    return buf;
}

/* meta.json "train": {"alibi": {...}} or, per training length, {"alibi": {"128": {...}}}. */
static double meta_train(const Run *r, int m, long L, const char *key) {
    const JsonValue *t = r->have_meta ? json_get(json_get(&r->meta.root, "train"), r->meth[m]) : NULL;
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

static int run_load(Run *r, const char *dir, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
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
    snprintf(path, sizeof path, "%s/status.json", dir);
    if (path_exists(path)) {
        if (load_json(path, &r->status, why, sizeof why) == 0) r->have_status = 1;
        else run_note(r, "status.json unreadable (%s): run state not shown", why);
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

    /* results.csv: required */
    Csv c;
    snprintf(path, sizeof path, "%s/results.csv", dir);
    if (csv_load(&c, path, err, errlen) != 0) return -1;
    const char *need[] = {"method", "train_len", "eval_len", "mode", "ppl"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (csv_col(&c, need[i]) < 0) {
            snprintf(err, errlen, "%s: no column '%s' in the header", path, need[i]);
            csv_free(&c);
            return -1;
        }
    int cm_ = csv_col(&c, "method"), cL = csv_col(&c, "train_len"), cS = csv_col(&c, "seed"),
        cT = csv_col(&c, "eval_len"), cmo = csv_col(&c, "mode"), cst = csv_col(&c, "stride"),
        csp = csv_col(&c, "split"), ctk = csv_col(&c, "tokens"), cnl = csv_col(&c, "nll"),
        cpp = csv_col(&c, "ppl"), cbp = csv_col(&c, "bpb"), cts = csv_col(&c, "tokens_per_s"),
        crs = csv_col(&c, "peak_rss_mb");
    r->ev = xcalloc((size_t)c.nrow + 1, sizeof(EvalRow));
    for (int i = 0; i < c.nrow; i++) {
        const char *name = csv_get(&c, i, cm_), *mode = csv_get(&c, i, cmo);
        long L = num_long(csv_get(&c, i, cL), -1), T = num_long(csv_get(&c, i, cT), -1);
        if (!*name || !*mode || L <= 0 || T <= 0) continue; /* not a data row */
        EvalRow *e = &r->ev[r->nev++];
        e->m = run_method(r, name);
        r->n_results[e->m]++;
        e->mode = intern(&r->mode, &r->nmode, mode);
        e->L = L;
        e->T = T;
        e->seed = num_long(csv_get(&c, i, cS), 0);
        e->stride = num_long(csv_get(&c, i, cst), T);
        e->tokens = num_or_nan(csv_get(&c, i, ctk));
        e->nll = num_or_nan(csv_get(&c, i, cnl));
        e->ppl = num_or_nan(csv_get(&c, i, cpp));
        e->bpb = num_or_nan(csv_get(&c, i, cbp));
        e->tps = num_or_nan(csv_get(&c, i, cts));
        e->rss = num_or_nan(csv_get(&c, i, crs));
        run_add_L(r, L);
        const char *sp = csv_get(&c, i, csp);
        if (*sp && !strstr(r->split, sp) && strlen(r->split) + strlen(sp) + 3 < sizeof r->split)
            snprintf(r->split + strlen(r->split), sizeof r->split - strlen(r->split), "%s%s", *r->split ? ", " : "", sp);
    }
    csv_free(&c);

    /* train.csv and positions.csv: optional */
    if (load_optional_csv(r, dir, "train.csv", "no training curves", &c)) {
        int tm = csv_col(&c, "method"), tL = csv_col(&c, "train_len"), tS = csv_col(&c, "seed"),
            tst = csv_col(&c, "step"), ttk = csv_col(&c, "tokens"), tlo = csv_col(&c, "loss"),
            tts = csv_col(&c, "tokens_per_s");
        if (tm < 0 || tL < 0 || tlo < 0 || (ttk < 0 && tst < 0)) {
            run_note(r, "train.csv lacks method, train_len, loss or tokens columns: no training curves");
        } else {
            r->tr = xcalloc((size_t)c.nrow + 1, sizeof(TrainRow));
            r->train_by_step = ttk < 0;
            for (int i = 0; i < c.nrow; i++) {
                long L = num_long(csv_get(&c, i, tL), -1);
                if (!*csv_get(&c, i, tm) || L <= 0) continue;
                TrainRow *t = &r->tr[r->ntr++];
                t->m = run_method(r, csv_get(&c, i, tm));
                t->L = L;
                t->seed = num_long(csv_get(&c, i, tS), 0);
                t->step = num_long(csv_get(&c, i, tst), i);
                t->tokens = ttk >= 0 ? num_or_nan(csv_get(&c, i, ttk)) : (double)t->step;
                t->loss = num_or_nan(csv_get(&c, i, tlo));
                t->tps = num_or_nan(csv_get(&c, i, tts));
                run_add_L(r, L);
            }
            r->have_train = r->ntr > 0;
            if (!r->have_train) run_note(r, "train.csv has no rows yet: no training curves");
        }
        csv_free(&c);
    }
    if (load_optional_csv(r, dir, "positions.csv", "no per-position loss figure", &c)) {
        int pm = csv_col(&c, "method"), pL = csv_col(&c, "train_len"), pS = csv_col(&c, "seed"),
            pT = csv_col(&c, "eval_len"), pp = csv_col(&c, "pos"), pn = csv_col(&c, "nll");
        if (pm < 0 || pL < 0 || pT < 0 || pp < 0 || pn < 0) {
            run_note(r, "positions.csv lacks method, train_len, eval_len, pos or nll: no per-position figure");
        } else {
            r->po = xcalloc((size_t)c.nrow + 1, sizeof(PosRow));
            for (int i = 0; i < c.nrow; i++) {
                long L = num_long(csv_get(&c, i, pL), -1), T = num_long(csv_get(&c, i, pT), -1),
                     pos = num_long(csv_get(&c, i, pp), -1);
                if (!*csv_get(&c, i, pm) || L <= 0 || T <= 0 || pos < 0 || pos >= T) continue;
                PosRow *q = &r->po[r->npo++];
                q->m = run_method(r, csv_get(&c, i, pm));
                q->L = L;
                q->T = T;
                q->pos = pos;
                q->seed = num_long(csv_get(&c, i, pS), 0);
                q->nll = num_or_nan(csv_get(&c, i, pn));
            }
            r->have_pos = r->npo > 0;
        }
        csv_free(&c);
    }

    /* display orders */
    r->order = xmalloc(sizeof(int) * (size_t)(r->nmeth + 1));
    for (int i = 0; i < r->nmeth; i++) r->order[i] = i;
    for (int i = 1; i < r->nmeth; i++) { /* insertion sort on (config position, style rank, first seen) */
        int v = r->order[i], j = i;
        for (; j > 0; j--) {
            int u = r->order[j - 1];
            int ku = r->in_config[u] ? -1 : (style_rank(r->meth[u]) >= 0 ? style_rank(r->meth[u]) : N_STYLES);
            int kv = r->in_config[v] ? -1 : (style_rank(r->meth[v]) >= 0 ? style_rank(r->meth[v]) : N_STYLES);
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
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Aggregation over seeds.                                                   */

typedef struct Stat {
    int n;
    double mean, sd; /* sd: sample standard deviation (n − 1), 0 for one seed */
} Stat;

enum { F_PPL, F_BPB, F_NLL, F_TPS, F_RSS };

static double ev_field(const EvalRow *e, int f) {
    switch (f) {
    case F_PPL: return e->ppl;
    case F_BPB: return e->bpb;
    case F_NLL: return e->nll;
    case F_TPS: return e->tps;
    default: return e->rss;
    }
}

static Stat stat_of(const double *v, int n) {
    Stat s = {0, NAN, NAN};
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) { sum += v[i]; s.n++; }
    if (!s.n) return s;
    s.mean = sum / s.n;
    double ss = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) ss += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = s.n > 1 ? sqrt(ss / (s.n - 1)) : 0;
    return s;
}

/* Over seeds for one (method, L, mode, T); *rows (may be NULL) = rows found, finite or not. */
static Stat eval_stat(const Run *r, int m, long L, int mode, long T, int f, int *rows) {
    double v[MAX_SEEDS];
    int n = 0, k = 0;
    for (int i = 0; i < r->nev; i++) {
        const EvalRow *e = &r->ev[i];
        if (e->m != m || e->L != L || e->mode != mode || e->T != T) continue;
        k++;
        if (n < MAX_SEEDS) v[n++] = ev_field(e, f);
    }
    if (rows) *rows = k;
    return stat_of(v, n);
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int add_unique(long *set, int n, int max, long v) {
    for (int i = 0; i < n; i++)
        if (set[i] == v) return n;
    if (n < max) set[n++] = v;
    return n;
}

/* Evaluation lengths for training length L (mode < 0: any mode), ascending. */
static int run_lengths(const Run *r, long L, int mode, long *T) {
    int n = 0;
    for (int i = 0; i < r->nev; i++)
        if (r->ev[i].L == L && (mode < 0 || r->ev[i].mode == mode)) n = add_unique(T, n, MAX_T, r->ev[i].T);
    qsort(T, (size_t)n, sizeof(long), cmp_long);
    return n;
}

static int run_seeds(const Run *r, int m, long L, long *S) {
    int n = 0;
    for (int i = 0; i < r->nev; i++)
        if (r->ev[i].m == m && r->ev[i].L == L) n = add_unique(S, n, MAX_SEEDS, r->ev[i].seed);
    qsort(S, (size_t)n, sizeof(long), cmp_long);
    return n;
}

/* The stride of (L, mode), or -1 when it differs between rows. */
static long mode_stride(const Run *r, long L, int mode) {
    long s = 0;
    for (int i = 0; i < r->nev; i++) {
        const EvalRow *e = &r->ev[i];
        if (e->L != L || e->mode != mode || e->stride >= e->T) continue; /* stride = window: nonoverlapping */
        if (s && s != e->stride) return -1;
        s = e->stride;
    }
    return s;
}

static void mode_title(const Run *r, int mode, long L, char *buf, size_t n) {
    const char *name = r->mode[mode];
    if (!strcmp(name, "nonoverlapping")) {
        snprintf(buf, n, "nonoverlapping windows");
    } else if (!strcmp(name, "sliding")) {
        long s = mode_stride(r, L, mode);
        if (s > 0) snprintf(buf, n, "sliding window, stride %ld", s);
        else snprintf(buf, n, "sliding window");
    } else {
        snprintf(buf, n, "%s", name);
    }
}

/* Median training throughput of (method, L) per seed, then mean ± sd over seeds; the
 * first logged row is left out when there are more than two (warm-up). */
static Stat train_tps(const Run *r, int m, long L) {
    long seeds[MAX_SEEDS];
    int ns = 0;
    for (int i = 0; i < r->ntr; i++)
        if (r->tr[i].m == m && r->tr[i].L == L) ns = add_unique(seeds, ns, MAX_SEEDS, r->tr[i].seed);
    double per[MAX_SEEDS];
    int np = 0;
    for (int s = 0; s < ns; s++) {
        double *v = xmalloc(sizeof(double) * (size_t)(r->ntr + 1));
        int n = 0;
        long first_step = LONG_MAX;
        for (int i = 0; i < r->ntr; i++)
            if (r->tr[i].m == m && r->tr[i].L == L && r->tr[i].seed == seeds[s] && r->tr[i].step < first_step)
                first_step = r->tr[i].step;
        int rows = 0;
        for (int i = 0; i < r->ntr; i++)
            if (r->tr[i].m == m && r->tr[i].L == L && r->tr[i].seed == seeds[s]) rows++;
        for (int i = 0; i < r->ntr; i++) {
            const TrainRow *t = &r->tr[i];
            if (t->m != m || t->L != L || t->seed != seeds[s] || !isfinite(t->tps) || t->tps <= 0) continue;
            if (rows > 2 && t->step == first_step) continue;
            v[n++] = t->tps;
        }
        if (n) {
            for (int i = 1; i < n; i++) /* insertion sort: n is small */
                for (int j = i; j > 0 && v[j - 1] > v[j]; j--) { double x = v[j]; v[j] = v[j - 1]; v[j - 1] = x; }
            per[np++] = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
        }
        free(v);
    }
    Stat st = stat_of(per, np);
    if (!st.n) { /* no throughput column: meta.json's figure */
        double x = meta_train(r, m, L, "tokens_per_s");
        st = stat_of(&x, 1);
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* Number formats for tables.                                                */

static int decimals_for(double v) {
    double a = fabs(v);
    return a >= 1000 ? 0 : a >= 100 ? 1 : 2;
}

static void fmt_stat(char *buf, size_t n, Stat s, int dec, int with_sd) {
    if (!s.n) { snprintf(buf, n, "—"); return; }
    if (dec < 0) dec = decimals_for(s.mean);
    if (with_sd && s.n > 1) snprintf(buf, n, "%.*f ± %.*f", dec, s.mean, dec, s.sd);
    else snprintf(buf, n, "%.*f", dec, s.mean);
}

static void fmt_si(char *buf, size_t n, double v) {
    if (!isfinite(v)) snprintf(buf, n, "—");
    else if (v >= 1e6) snprintf(buf, n, "%.2fM", v / 1e6);
    else if (v >= 1e4) snprintf(buf, n, "%.1fk", v / 1e3);
    else snprintf(buf, n, "%.0f", v);
}

/* ------------------------------------------------------------------------ */
/* Plot context: where things go, which gnuplot, which figures were made.     */

typedef struct Figure {
    char name[96];     /* figures/NAME.png */
    char caption[800]; /* one sentence for the report */
} Figure;

#define MAX_FIGS 64

typedef struct Plot {
    Run *r;
    const PlotOptions *opt;
    char figdir[PATH_MAX + 16], datadir[PATH_MAX + 32], scripts[PATH_MAX], gnuplot[PATH_MAX], log[PATH_MAX + 64];
    Figure fig[MAX_FIGS];
    int nfig, nfiles;
    int no_gnuplot; /* figures were asked for but gnuplot is not installed: report only */
} Plot;

/* gnuplot string literal: single quotes, a quote doubled. */
static void gp_str(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

static int figdata_open(Plot *pl, AtomicFile *af, const char *name, char *err, size_t errlen) {
    char path[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/%s", pl->datadir, name);
    return atomic_open(af, path, "w", err, errlen);
}

/* Common head of a variable file: size and the series styles (linetype i = series i). */
static void vars_head(FILE *f, const char *script, double W, double H, const Run *r, const int *ms, int n) {
    fprintf(f, "# variables for plots/%s, written by `posbench plot` — edit and re-run gnuplot by hand if you like\n",
            script);
    fprintf(f, "W = %.3f\nH = %.3f\nnser = %d\narray slabel[%d] = [", W, H, n, n > 0 ? n : 1);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        gp_str(f, method_style(r->meth[ms[i]]).label);
    }
    fputs(n ? "]\n" : "'']\n", f);
    for (int i = 0; i < n; i++) {
        MethodStyle s = method_style(r->meth[ms[i]]);
        fprintf(f, "set linetype %d lc rgb '%s' lw 1.5 pt %d ps 0.75 dt solid  # %s\n", i + 1, s.colour, s.point,
                r->meth[ms[i]]);
    }
}

static void vars_panels(FILE *f, const char *var, int n) { fprintf(f, "array %s[%d]\n", var, n > 0 ? n : 1); }

/* '("128" 128, "256" 256)' — every length labelled, or (sparse) every other one
 * with the longest kept, the rest as unlabelled minor tics. */
static void vars_len_tics(FILE *f, const char *var, const long *T, int n, int sparse) {
    fprintf(f, "%s = '(", var);
    int step = sparse && n > 4 ? 2 : 1;
    for (int i = 0; i < n; i++) {
        if ((n - 1 - i) % step == 0 && sparse && T[i] >= 1024 && T[i] % 1024 == 0)
            fprintf(f, "%s\"%ldk\" %ld", i ? ", " : "", T[i] / 1024, T[i]); /* narrow panels: 1k, 4k */
        else if ((n - 1 - i) % step == 0) fprintf(f, "%s\"%ld\" %ld", i ? ", " : "", T[i], T[i]);
        else fprintf(f, "%s\"\" %ld 1", i ? ", " : "", T[i]);
    }
    fputs(")'\n", f);
}

/* The same positions without labels (panels whose x axis is labelled below them). */
static void vars_len_tics_bare(FILE *f, const char *var, const long *T, int n) {
    fprintf(f, "%s = '(", var);
    for (int i = 0; i < n; i++) fprintf(f, "%s\"\" %ld", i ? ", " : "", T[i]);
    fputs(")'\n", f);
}

/* Panel p's own evaluation lengths: x range and tics (labelled and bare). */
static void vars_panel_lengths(FILE *f, int p, const long *T, int n) {
    char v[32];
    fprintf(f, "pxmin[%d] = %g\npxmax[%d] = %g\n", p + 1, T[0] / 1.25, p + 1, T[n - 1] * 1.25);
    snprintf(v, sizeof v, "pxtics[%d]", p + 1);
    vars_len_tics(f, v, T, n, 0);
    snprintf(v, sizeof v, "pxticsnl[%d]", p + 1);
    vars_len_tics_bare(f, v, T, n);
}

static void vars_panel_length_arrays(FILE *f, int np) {
    vars_panels(f, "pxmin", np);
    vars_panels(f, "pxmax", np);
    vars_panels(f, "pxtics", np);
    vars_panels(f, "pxticsnl", np);
}

/* Log-axis tics: 1-2-5 steps, denser when the range is narrow. */
static void vars_log_tics(FILE *f, const char *var, double lo, double hi) {
    static const double sets[3][11] = {{1, 2, 5}, {1, 2, 3, 5, 7}, {1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9}};
    static const int sizes[3] = {3, 5, 11};
    double ticks[64];
    int n = 0;
    for (int s = 0; s < 3 && n < 4; s++) {
        n = 0;
        for (int e = (int)floor(log10(lo)) - 1; e <= (int)ceil(log10(hi)) && n < 64; e++)
            for (int k = 0; k < sizes[s] && n < 64; k++) {
                double t = sets[s][k] * pow(10, e);
                if (t >= lo * 0.9999 && t <= hi * 1.0001) ticks[n++] = t;
            }
    }
    if (n < 3) { /* a narrow range: evenly spaced tics, 1-2-2.5-5 steps */
        double raw = (hi - lo) / 4, mag = pow(10, floor(log10(raw))), step = mag;
        static const double nice[] = {1, 2, 2.5, 5, 10};
        for (int k = 0; k < 5 && step < raw; k++) step = nice[k] * mag;
        n = 0;
        for (double t = ceil(lo / step) * step; t <= hi * 1.0001 && n < 64; t += step) ticks[n++] = t;
    }
    fprintf(f, "%s = '(", var);
    for (int i = 0; i < n; i++) fprintf(f, "%s%g", i ? ", " : "", ticks[i]);
    fputs(")'\n", f);
}


/* Runs one script for one format: gnuplot's stdout and stderr go to the log. */
static int gnuplot_render(Plot *pl, const char *script, const char *vars, const char *name, const char *ext,
                          char *err, size_t errlen) {
    char out_tmp[PATH_MAX], out[PATH_MAX + 256], script_path[PATH_MAX + 64], tmp_abs[PATH_MAX + 256];
    snprintf(out_tmp, sizeof out_tmp, "../%s.%s.tmp.%ld", name, ext, (long)getpid());
    snprintf(out, sizeof out, "%s/%s.%s", pl->figdir, name, ext);
    snprintf(tmp_abs, sizeof tmp_abs, "%s/%s.%s.tmp.%ld", pl->figdir, name, ext, (long)getpid());
    snprintf(script_path, sizeof script_path, "%s/%s", pl->scripts, script);

    /* -e text: the four variables every script reads */
    Sb e = {0};
    const char *sv[4] = {pl->scripts, ext, vars, out_tmp};
    const char *names[4] = {"plotdir", "fmt", "vars", "out"};
    for (int i = 0; i < 4; i++) {
        sb_printf(&e, "%s%s='", i ? "; " : "", names[i]);
        for (const char *p = sv[i]; *p; p++) sb_printf(&e, *p == '\'' ? "''" : "%c", *p);
        sb_printf(&e, "'");
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        free(e.s);
        snprintf(err, errlen, "cannot start gnuplot (%s)", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        int fd = open(pl->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); close(fd); }
        if (chdir(pl->datadir) != 0) _exit(126);
        char *argv[] = {"gnuplot", "-e", e.s, script_path, NULL};
        execv(pl->gnuplot, argv);
        _exit(127);
    }
    free(e.s);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    struct stat st;
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && stat(tmp_abs, &st) == 0 && st.st_size > 0;
    if (!ok) {
        unlink(tmp_abs);
        char last[300] = "no message";
        FILE *lf = fopen(pl->log, "r");
        if (lf) { /* the last non-empty line says why */
            char line[300];
            while (fgets(line, sizeof line, lf))
                if (line[0] != '\n') { snprintf(last, sizeof last, "%s", line); }
            fclose(lf);
            last[strcspn(last, "\n")] = 0;
        }
        snprintf(err, errlen, "gnuplot failed on plots/%s for %s.%s (%s); see %s", script, name, ext, last, pl->log);
        return 1;
    }
    if (rename(tmp_abs, out) != 0) {
        snprintf(err, errlen, "%s: cannot rename into place (%s)", out, strerror(errno));
        unlink(tmp_abs);
        return 1;
    }
    pl->nfiles++;
    return 0;
}

static int render_all(Plot *pl, const char *script, const char *vars, const char *name, char *err, size_t errlen) {
    static const struct { int flag; const char *ext; } fmts[] = {{PLOT_PNG, "png"}, {PLOT_PDF, "pdf"}};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
        if (pl->opt->formats & fmts[i].flag) {
            int rc = gnuplot_render(pl, script, vars, name, fmts[i].ext, err, errlen);
            if (rc) return rc;
        }
    return 0;
}

static Figure *fig_add(Plot *pl, const char *name) {
    if (pl->nfig >= MAX_FIGS) return NULL;
    Figure *f = &pl->fig[pl->nfig++];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->caption[0] = 0;
    return f;
}

/* Commit a variable file and render it; on success the figure joins the report. */
static int fig_finish(Plot *pl, AtomicFile *af, const char *script, const char *name, const char *caption,
                      char *err, size_t errlen) {
    if (atomic_commit(af, err, errlen) != 0) return 1;
    char vars[160];
    snprintf(vars, sizeof vars, "%s.gp", name);
    int rc = render_all(pl, script, vars, name, err, errlen);
    if (rc) return rc;
    Figure *f = fig_add(pl, name);
    if (f) snprintf(f->caption, sizeof f->caption, "%s", caption);
    return 0;
}

/* Figure width for n side-by-side panels: one paper column for one panel. */
static double panels_width(int n) { return 3.4 + 2.5 * (n > 1 ? n - 1 : 0); }

/* ------------------------------------------------------------------------ */
/* Figure 1: extrapolation curves (the paper's Figure 1), one file per mode.  */

static int fig_extrapolation(Plot *pl, int mode, char *err, size_t errlen) {
    Run *r = pl->r;
    int ms[256], n = 0, np = 0;
    long Ls[MAX_L];
    for (int k = 0; k < r->nmeth && n < 256; k++) {
        int m = r->order[k], any = 0;
        for (int i = 0; i < r->nev && !any; i++)
            any = r->ev[i].m == m && r->ev[i].mode == mode && isfinite(r->ev[i].ppl) && r->ev[i].ppl > 0;
        if (any) ms[n++] = m;
    }
    for (int l = 0; l < r->nL; l++) {
        long T[MAX_T];
        if (run_lengths(r, r->L[l], mode, T)) Ls[np++] = r->L[l];
    }
    if (!n || !np) return 0;
    int band = r->max_seeds > 1;
    double ylo = INFINITY, yhi = -INFINITY;
    char name[96], fname[160];
    snprintf(name, sizeof name, "extrapolation_%s", r->mode[mode]);
    for (int p = 0; p < np; p++) {
        AtomicFile af;
        snprintf(fname, sizeof fname, "%s_L%ld.dat", name, Ls[p]);
        if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
        long T[MAX_T];
        int nT = run_lengths(r, Ls[p], mode, T);
        for (int i = 0; i < n; i++) {
            fprintf(af.fp, "# %s, trained at L = %ld, %s: eval_len mean_ppl sd lo hi seeds\n", r->meth[ms[i]], Ls[p],
                    r->mode[mode]);
            int rows = 0;
            for (int t = 0; t < nT; t++) {
                Stat s = eval_stat(r, ms[i], Ls[p], mode, T[t], F_PPL, NULL);
                if (!s.n || s.mean <= 0) continue;
                double lo = s.mean - s.sd, hi = s.mean + s.sd;
                if (lo <= 0) lo = s.mean * 0.5;
                fprintf(af.fp, "%ld %.6g %.6g %.6g %.6g %d\n", T[t], s.mean, s.sd, lo, hi, s.n);
                ylo = fmin(ylo, band ? lo : s.mean);
                yhi = fmax(yhi, band ? hi : s.mean);
                rows++;
            }
            if (!rows) fputs("NaN NaN NaN NaN NaN 0\n", af.fp);
            fputs("\n\n", af.fp);
        }
        if (atomic_commit(&af, err, errlen) != 0) return 1;
    }
    AtomicFile af;
    snprintf(fname, sizeof fname, "%s.gp", name);
    if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
    FILE *f = af.fp;
    int krows = (n + 2) / 3;
    vars_head(f, "extrapolation.gp", panels_width(np), 2.45 + 0.13 * krows, r, ms, n);
    fprintf(f, "npanel = %d\n", np);
    vars_panels(f, "pfile", np);
    vars_panels(f, "ptitle", np);
    vars_panels(f, "pL", np);
    vars_panel_length_arrays(f, np);
    char mt[96];
    for (int p = 0; p < np; p++) {
        long T[MAX_T];
        vars_panel_lengths(f, p, T, run_lengths(r, Ls[p], mode, T));
        mode_title(r, mode, Ls[p], mt, sizeof mt);
        fprintf(f, "pfile[%d] = '%s_L%ld.dat'\npL[%d] = %ld\nptitle[%d] = ", p + 1, name, Ls[p], p + 1, Ls[p], p + 1);
        char t[160];
        snprintf(t, sizeof t, "trained at L = %ld (dashed), %s", Ls[p], mt);
        gp_str(f, t);
        fputc('\n', f);
    }
    fprintf(f, "band = %d\nymin = %g\nymax = %g\n", band, ylo / 1.12, yhi * 1.12);
    vars_log_tics(f, "ytics", ylo / 1.12, yhi * 1.12);
    char cap[800];
    mode_title(r, mode, Ls[0], mt, sizeof mt);
    snprintf(cap, sizeof cap,
             "Validation perplexity (log scale) against evaluation length (log₂ axis), %s, for every method "
             "trained at the length marked by the dashed line%s: a curve that stays flat or falls to the right "
             "of the line extrapolates, one that rises does not.",
             mt, band ? "; lines are the mean over seeds, shading ±1 std" : "");
    return fig_finish(pl, &af, "extrapolation.gp", name, cap, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Figure 2: seed bands, one panel per method, per mode and training length. */

static int fig_seeds(Plot *pl, int mode, long L, char *err, size_t errlen) {
    Run *r = pl->r;
    int ms[256], n = 0, maxs = 0;
    long T[MAX_T];
    int nT = run_lengths(r, L, mode, T);
    if (!nT) return 0;
    for (int k = 0; k < r->nmeth && n < 256; k++) {
        int m = r->order[k];
        long S[MAX_SEEDS];
        int ns = run_seeds(r, m, L, S), any = 0;
        for (int t = 0; t < nT && !any; t++) any = eval_stat(r, m, L, mode, T[t], F_PPL, NULL).n > 0;
        if (!any) continue;
        ms[n++] = m;
        if (ns > maxs) maxs = ns;
    }
    if (!n || maxs < 2) return 0;
    char name[96], fname[160];
    snprintf(name, sizeof name, "seeds_%s_L%ld", r->mode[mode], L);
    snprintf(fname, sizeof fname, "%s.dat", name);
    AtomicFile af;
    if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
    double ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < n; i++) {
        int m = ms[i], rows = 0;
        fprintf(af.fp, "# %s: eval_len mean_ppl sd lo hi seeds\n", r->meth[m]);
        for (int t = 0; t < nT; t++) {
            Stat s = eval_stat(r, m, L, mode, T[t], F_PPL, NULL);
            if (!s.n || s.mean <= 0) continue;
            double lo = s.mean - s.sd > 0 ? s.mean - s.sd : s.mean * 0.5;
            fprintf(af.fp, "%ld %.6g %.6g %.6g %.6g %d\n", T[t], s.mean, s.sd, lo, s.mean + s.sd, s.n);
            ylo = fmin(ylo, lo);
            yhi = fmax(yhi, s.mean + s.sd);
            rows++;
        }
        if (!rows) fputs("NaN NaN NaN NaN NaN 0\n", af.fp);
        fprintf(af.fp, "\n\n# %s: single seeds, eval_len ppl (one line per seed)\n", r->meth[m]);
        long S[MAX_SEEDS];
        int ns = run_seeds(r, m, L, S), srows = 0;
        for (int s = 0; s < ns; s++) {
            int any = 0;
            for (int t = 0; t < nT; t++)
                for (int e = 0; e < r->nev; e++) {
                    const EvalRow *x = &r->ev[e];
                    if (x->m == m && x->L == L && x->mode == mode && x->T == T[t] && x->seed == S[s] &&
                        isfinite(x->ppl) && x->ppl > 0) {
                        fprintf(af.fp, "%ld %.6g\n", T[t], x->ppl);
                        ylo = fmin(ylo, x->ppl);
                        yhi = fmax(yhi, x->ppl);
                        any = 1;
                        srows++;
                        break;
                    }
                }
            if (any) fputc('\n', af.fp);
        }
        if (!srows) fputs("NaN NaN\n", af.fp);
        fputs("\n\n", af.fp);
    }
    if (atomic_commit(&af, err, errlen) != 0) return 1;

    snprintf(fname, sizeof fname, "%s.gp", name);
    if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
    FILE *f = af.fp;
    int nc = n <= 2 ? n : n <= 4 ? 2 : 3, nr = (n + nc - 1) / nc;
    vars_head(f, "seeds.gp", 3.4, 0.85 + 1.2 * nr, r, ms, n);
    char mt[96], t[200];
    mode_title(r, mode, L, mt, sizeof mt);
    fprintf(f, "dfile = '%s.dat'\nncol = %d\nnrow = %d\nLtrain = %ld\nnseeds = %d\n", name, nc, nr, L, maxs);
    snprintf(t, sizeof t, "trained at L = %ld (dashed), %s", L, mt);
    fputs("ftitle = ", f);
    gp_str(f, t);
    fprintf(f, "\nxmin = %g\nxmax = %g\nymin = %g\nymax = %g\n", T[0] / 1.25, T[nT - 1] * 1.25, ylo / 1.12, yhi * 1.12);
    vars_len_tics(f, "xtics", T, nT, 1);
    vars_len_tics_bare(f, "xticsnl", T, nT);
    vars_log_tics(f, "ytics", ylo / 1.12, yhi * 1.12);
    char cap[800];
    snprintf(cap, sizeof cap,
             "Seed spread at L = %ld (%s), one panel per method: the thick line is the mean perplexity over "
             "%d seeds, the shading ±1 std and the thin lines the single seeds, so differences between methods "
             "can be told from seed noise.",
             L, mt, maxs);
    return fig_finish(pl, &af, "seeds.gp", name, cap, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Figure 3: per-position loss at the longest evaluation length.             */

static int fig_positions(Plot *pl, char *err, size_t errlen) {
    Run *r = pl->r;
    if (!r->have_pos) return 0;
    int ms[256], n = 0, np = 0;
    long Ls[MAX_L], Ws[MAX_L];
    for (int l = 0; l < r->nL; l++) {
        long W = 0;
        for (int i = 0; i < r->npo; i++)
            if (r->po[i].L == r->L[l] && r->po[i].T > W) W = r->po[i].T;
        if (W > 0) { Ls[np] = r->L[l]; Ws[np++] = W; }
    }
    for (int k = 0; k < r->nmeth && n < 256; k++) {
        int m = r->order[k], any = 0;
        for (int i = 0; i < r->npo && !any; i++)
            for (int p = 0; p < np && !any; p++)
                any = r->po[i].m == m && r->po[i].L == Ls[p] && r->po[i].T == Ws[p] && isfinite(r->po[i].nll);
        if (any) ms[n++] = m;
    }
    if (!n || !np) return 0;
    double ylo = INFINITY, yhi = -INFINITY;
    long Wmax = 0;
    char fname[160];
    for (int p = 0; p < np; p++) {
        long W = Ws[p];
        if (W > Wmax) Wmax = W;
        AtomicFile af;
        snprintf(fname, sizeof fname, "positions_L%ld.dat", Ls[p]);
        if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
        double *sum = xmalloc(sizeof(double) * (size_t)W);
        int *cnt = xmalloc(sizeof(int) * (size_t)W);
        for (int i = 0; i < n; i++) {
            int m = ms[i];
            memset(sum, 0, sizeof(double) * (size_t)W);
            memset(cnt, 0, sizeof(int) * (size_t)W);
            for (int k = 0; k < r->npo; k++) {
                const PosRow *q = &r->po[k];
                if (q->m == m && q->L == Ls[p] && q->T == W && isfinite(q->nll)) { sum[q->pos] += q->nll; cnt[q->pos]++; }
            }
            /* bins on the log axis of context length c = pos + 1: single positions up to 8,
             * then eight bins per octave; each position's seed mean weighs equally */
            fprintf(af.fp, "# %s, L = %ld, window %ld: context_tokens(pos+1, bin centre) mean_nll positions_in_bin\n",
                    r->meth[m], Ls[p], W);
            int rows = 0;
            for (double lo = 1; lo <= (double)W;) {
                double hi = lo < 8 ? lo + 1 : fmax(lo + 1, floor(lo * pow(2, 0.125) + 0.5));
                double s = 0;
                int c = 0;
                for (long pos = (long)lo - 1; pos < (long)hi - 1 && pos < W; pos++)
                    if (cnt[pos]) { s += sum[pos] / cnt[pos]; c++; }
                if (c) {
                    double x = lo < 8 ? lo : sqrt(lo * fmin(hi - 1, (double)W));
                    double y = s / c;
                    fprintf(af.fp, "%.6g %.6g %d\n", x, y, c);
                    ylo = fmin(ylo, y);
                    yhi = fmax(yhi, y);
                    rows++;
                }
                lo = hi;
            }
            if (!rows) fputs("NaN NaN 0\n", af.fp);
            fputs("\n\n", af.fp);
        }
        free(sum);
        free(cnt);
        if (atomic_commit(&af, err, errlen) != 0) return 1;
    }
    AtomicFile af;
    if (figdata_open(pl, &af, "positions.gp", err, errlen) != 0) return 1;
    FILE *f = af.fp;
    int krows = (n + 2) / 3;
    vars_head(f, "positions.gp", panels_width(np), 2.45 + 0.13 * krows, r, ms, n);
    fprintf(f, "npanel = %d\n", np);
    vars_panels(f, "pfile", np);
    vars_panels(f, "pL", np);
    vars_panels(f, "pW", np);
    vars_panels(f, "ptitle", np);
    vars_panels(f, "pxmax", np);
    vars_panels(f, "pxtics", np);
    for (int p = 0; p < np; p++) {
        char t[160];
        long tics[64];
        int nt = 0;
        for (long x = 1; x <= Ws[p] && nt < 63; x *= 4) tics[nt++] = x;
        if (tics[nt - 1] != Ws[p]) {
            if (Ws[p] < tics[nt - 1] * 2.5) nt--; /* too close to the last power of 4 */
            tics[nt++] = Ws[p];
        }
        snprintf(t, sizeof t, "pxtics[%d]", p + 1);
        vars_len_tics(f, t, tics, nt, 0);
        fprintf(f, "pxmax[%d] = %g\n", p + 1, Ws[p] * 1.25);
        snprintf(t, sizeof t, "trained at L = %ld (dashed), window %ld", Ls[p], Ws[p]);
        fprintf(f, "pfile[%d] = 'positions_L%ld.dat'\npL[%d] = %ld\npW[%d] = %ld\nptitle[%d] = ", p + 1, Ls[p], p + 1,
                Ls[p], p + 1, Ws[p], p + 1);
        gp_str(f, t);
        fputc('\n', f);
    }
    double pad = (yhi - ylo) * 0.06 + 1e-3;
    fprintf(f, "xmin = 0.8\nymin = %g\nymax = %g\n", ylo - pad, yhi + pad);
    char cap[800];
    snprintf(cap, sizeof cap,
             "Mean loss (nats per token) at each position inside a nonoverlapping %ld-token window, against the "
             "context the token sees (log₂ axis; positions binned, eight bins per octave), with the training "
             "length dashed: left of the line every method gains from more context; right of it a method either "
             "keeps its loss flat or breaks, and the point where its curve turns up is where it stops "
             "extrapolating.",
             Wmax);
    return fig_finish(pl, &af, "positions.gp", "positions", cap, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Figure 4: training loss against tokens.                                   */

static int cmp_train(const void *a, const void *b) {
    const TrainRow *x = a, *y = b;
    return (x->step > y->step) - (x->step < y->step);
}

static int fig_training(Plot *pl, char *err, size_t errlen) {
    Run *r = pl->r;
    if (!r->have_train) return 0;
    int ms[256], n = 0, np = 0;
    long Ls[MAX_L];
    for (int l = 0; l < r->nL; l++) {
        int any = 0;
        for (int i = 0; i < r->ntr && !any; i++) any = r->tr[i].L == r->L[l] && isfinite(r->tr[i].loss);
        if (any) Ls[np++] = r->L[l];
    }
    for (int k = 0; k < r->nmeth && n < 256; k++) {
        int m = r->order[k], any = 0;
        for (int i = 0; i < r->ntr && !any; i++) any = r->tr[i].m == m && isfinite(r->tr[i].loss);
        if (any) ms[n++] = m;
    }
    if (!n || !np) return 0;
    double ylo = INFINITY, ytop = -INFINITY, xmax = 0, tokmax = 0;
    int nseeds_max = 1;
    for (int j = 0; j < r->ntr; j++) tokmax = fmax(tokmax, r->tr[j].tokens);
    /* x unit: millions of tokens for real runs, thousands or plain for tiny ones */
    double xunit = r->train_by_step ? 1 : tokmax >= 2e6 ? 1e6 : tokmax >= 2e3 ? 1e3 : 1;
    const char *xlab = r->train_by_step ? "training steps"
                       : xunit == 1e6  ? "training tokens (millions)"
                       : xunit == 1e3  ? "training tokens (thousands)"
                                       : "training tokens";
    char fname[160];
    TrainRow *buf = xmalloc(sizeof(TrainRow) * (size_t)(r->ntr + 1));
    for (int p = 0; p < np; p++) {
        AtomicFile af;
        snprintf(fname, sizeof fname, "training_L%ld.dat", Ls[p]);
        if (figdata_open(pl, &af, fname, err, errlen) != 0) { free(buf); return 1; }
        for (int i = 0; i < n; i++) {
            int m = ms[i], k = 0;
            for (int j = 0; j < r->ntr; j++)
                if (r->tr[j].m == m && r->tr[j].L == Ls[p] && isfinite(r->tr[j].loss)) buf[k++] = r->tr[j];
            qsort(buf, (size_t)k, sizeof(TrainRow), cmp_train);
            /* mean over seeds per step, then at most ~200 points: consecutive steps binned */
            int nsteps = 0;
            for (int j = 0; j < k; j++) nsteps += j == 0 || buf[j].step != buf[j - 1].step;
            int per = nsteps > 200 ? (nsteps + 199) / 200 : 1;
            fprintf(af.fp, "# %s, L = %ld: x (%s) mean_loss (seeds averaged, %d step(s) per point)\n",
                    r->meth[m], Ls[p], xlab, per);
            int rows = 0;
            for (int j = 0; j < k;) {
                double st = 0, sl = 0;
                int c = 0, steps = 0;
                long seeds[MAX_SEEDS];
                int ns = 0;
                while (j < k && steps < per) {
                    long step = buf[j].step;
                    while (j < k && buf[j].step == step) {
                        st += buf[j].tokens;
                        sl += buf[j].loss;
                        ns = add_unique(seeds, ns, MAX_SEEDS, buf[j].seed);
                        c++;
                        j++;
                    }
                    steps++;
                }
                if (ns > nseeds_max) nseeds_max = ns;
                double x = st / c / xunit, y = sl / c;
                fprintf(af.fp, "%.6g %.6g\n", x, y);
                ylo = fmin(ylo, y);
                xmax = fmax(xmax, x);
                rows++;
            }
            if (!rows) fputs("NaN NaN\n", af.fp);
            fputs("\n\n", af.fp);
        }
        if (atomic_commit(&af, err, errlen) != 0) { free(buf); return 1; }
    }
    /* The y axis starts at the loss reached after 3% of training: the first drop from
     * ln(vocab) would flatten everything that matters; it is clipped at the top. */
    for (int j = 0; j < r->ntr; j++)
        if (isfinite(r->tr[j].loss) && r->tr[j].tokens / xunit >= 0.03 * xmax)
            ytop = fmax(ytop, r->tr[j].loss);
    if (!isfinite(ytop)) ytop = ylo + 1;
    free(buf);
    AtomicFile af;
    if (figdata_open(pl, &af, "training.gp", err, errlen) != 0) return 1;
    FILE *f = af.fp;
    int krows = (n + 2) / 3;
    vars_head(f, "training.gp", panels_width(np), 2.45 + 0.13 * krows, r, ms, n);
    fprintf(f, "npanel = %d\n", np);
    vars_panels(f, "pfile", np);
    vars_panels(f, "ptitle", np);
    for (int p = 0; p < np; p++) {
        char t[96];
        snprintf(t, sizeof t, "trained at L = %ld", Ls[p]);
        fprintf(f, "pfile[%d] = 'training_L%ld.dat'\nptitle[%d] = ", p + 1, Ls[p], p + 1);
        gp_str(f, t);
        fputc('\n', f);
    }
    double pad = (ytop - ylo) * 0.05;
    fprintf(f, "xmin = 0\nxmax = %g\nymin = %g\nymax = %g\nxlab = '%s'\n", xmax * 1.02, ylo - pad, ytop + pad, xlab);
    char cap[800];
    snprintf(cap, sizeof cap,
             "Training loss (nats per token%s) against training tokens: every method saw the same data and "
             "steps, so differences at the right end are differences at the training length, before any "
             "extrapolation (the first steps are cut off at the top).",
             nseeds_max > 1 ? ", mean over seeds" : "");
    return fig_finish(pl, &af, "training.gp", "training", cap, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Figure 5: speed and memory.                                               */

static int colour_int(const char *hex) { return (int)strtol(hex + 1, NULL, 16); }

static int fig_speed_train(Plot *pl, char *err, size_t errlen) {
    Run *r = pl->r;
    AtomicFile af;
    if (figdata_open(pl, &af, "speed_train.dat", err, errlen) != 0) return 1;
    fputs("# x tokens_per_s sd peak_rss_mb colour label   (one bar per method and training length)\n", af.fp);
    int bars = 0, have_rss = 0, have_sd = 0;
    double tmax = 0, rmax = 0;
    double x = 0;
    for (int l = 0; l < r->nL; l++) {
        int in_group = 0;
        for (int k = 0; k < r->nmeth; k++) {
            int m = r->order[k];
            Stat s = train_tps(r, m, r->L[l]);
            double rss = meta_train(r, m, r->L[l], "peak_rss_mb");
            if (!s.n && !isfinite(rss)) continue;
            if (!in_group && bars) x += 0.8; /* a gap between training lengths */
            in_group = 1;
            MethodStyle st = method_style(r->meth[m]);
            char label[128];
            if (r->nL > 1) snprintf(label, sizeof label, "%s\\nL=%ld", st.label, r->L[l]);
            else snprintf(label, sizeof label, "%s", st.label);
            fprintf(af.fp, "%g %.6g %.6g %.6g %d \"%s\"\n", x, s.n ? s.mean : NAN, s.n ? s.sd : NAN,
                    isfinite(rss) ? rss : NAN, colour_int(st.colour), label);
            if (s.n) tmax = fmax(tmax, s.mean + s.sd);
            if (s.n > 1 && s.sd > 0) have_sd = 1;
            if (isfinite(rss)) { have_rss = 1; rmax = fmax(rmax, rss); }
            x += 1;
            bars++;
        }
    }
    if (!bars || tmax <= 0) {
        atomic_abort(&af);
        return 0;
    }
    if (atomic_commit(&af, err, errlen) != 0) return 1;
    if (figdata_open(pl, &af, "speed_train.gp", err, errlen) != 0) return 1;
    FILE *f = af.fp;
    fprintf(f, "# variables for plots/speed_train.gp, written by `posbench plot`\n");
    int multi = r->nL > 1; /* two-line tick labels "ALiBi / L=256": wider and taller */
    fprintf(f, "W = %.3f\nH = %.3f\ndfile = 'speed_train.dat'\nhave_rss = %d\nnbars = %d\n",
            bars > 6 ? 0.58 * bars + 0.8 : 3.4, (have_rss ? 3.3 : 1.9) + (multi ? 0.25 * (1 + have_rss) : 0), have_rss,
            bars);
    fprintf(f, "xmin = -0.7\nxmax = %g\ntmax = %g\nrmax = %g\nmulti_L = %d\nhave_sd = %d\n", x - 0.3, tmax * 1.15,
            rmax > 0 ? rmax * 1.15 : 1, r->nL > 1, have_sd);
    return fig_finish(pl, &af, "speed_train.gp", "speed_train",
                      have_rss ? "Training throughput (tokens/s, median over logged steps, mean over seeds with ±1 std "
                                 "bars) and peak resident memory per method: what each position method costs at the "
                                 "same model size."
                               : "Training throughput (tokens/s, median over logged steps, mean over seeds with ±1 "
                                 "std bars) per method: what each position method costs at the same model size.",
                      err, errlen);
}

static int fig_speed_eval(Plot *pl, int mode, char *err, size_t errlen) {
    Run *r = pl->r;
    int ms[256], n = 0, np = 0;
    long Ls[MAX_L];
    for (int k = 0; k < r->nmeth && n < 256; k++) {
        int m = r->order[k], any = 0;
        for (int i = 0; i < r->nev && !any; i++)
            any = r->ev[i].m == m && r->ev[i].mode == mode && (isfinite(r->ev[i].tps) || isfinite(r->ev[i].rss));
        if (any) ms[n++] = m;
    }
    for (int l = 0; l < r->nL; l++) {
        long T[MAX_T];
        if (run_lengths(r, r->L[l], mode, T)) Ls[np++] = r->L[l];
    }
    if (!n || !np) return 0;
    double tlo = INFINITY, thi = -INFINITY, rhi = 0;
    char fname[160];
    for (int p = 0; p < np; p++) {
        AtomicFile af;
        snprintf(fname, sizeof fname, "speed_eval_L%ld.dat", Ls[p]);
        if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
        long T[MAX_T];
        int nT = run_lengths(r, Ls[p], mode, T);
        for (int i = 0; i < n; i++) {
            fprintf(af.fp, "# %s, L = %ld, %s: eval_len tokens_per_s sd peak_rss_mb sd\n", r->meth[ms[i]], Ls[p],
                    r->mode[mode]);
            int rows = 0;
            for (int t = 0; t < nT; t++) {
                Stat s = eval_stat(r, ms[i], Ls[p], mode, T[t], F_TPS, NULL);
                Stat q = eval_stat(r, ms[i], Ls[p], mode, T[t], F_RSS, NULL);
                if (!s.n && !q.n) continue;
                fprintf(af.fp, "%ld %.6g %.6g %.6g %.6g\n", T[t], s.n ? s.mean : NAN, s.n ? s.sd : NAN,
                        q.n ? q.mean : NAN, q.n ? q.sd : NAN);
                if (s.n && s.mean > 0) { tlo = fmin(tlo, s.mean); thi = fmax(thi, s.mean); }
                if (q.n) rhi = fmax(rhi, q.mean + q.sd);
                rows++;
            }
            if (!rows) fputs("NaN NaN NaN NaN NaN\n", af.fp);
            fputs("\n\n", af.fp);
        }
        if (atomic_commit(&af, err, errlen) != 0) return 1;
    }
    if (!isfinite(tlo)) { tlo = 1; thi = 10; }
    AtomicFile af;
    if (figdata_open(pl, &af, "speed_eval.gp", err, errlen) != 0) return 1;
    FILE *f = af.fp;
    int krows = (n + 2) / 3;
    vars_head(f, "speed_eval.gp", panels_width(np), 3.9 + 0.13 * krows, r, ms, n);
    fprintf(f, "npanel = %d\n", np);
    vars_panels(f, "pfile", np);
    vars_panels(f, "pL", np);
    vars_panels(f, "ptitle", np);
    vars_panel_length_arrays(f, np);
    char mt[96];
    mode_title(r, mode, Ls[0], mt, sizeof mt);
    for (int p = 0; p < np; p++) {
        char t[160];
        long T[MAX_T];
        vars_panel_lengths(f, p, T, run_lengths(r, Ls[p], mode, T));
        snprintf(t, sizeof t, "trained at L = %ld (dashed), %s", Ls[p], r->mode[mode]); /* short: wide y labels */
        fprintf(f, "pfile[%d] = 'speed_eval_L%ld.dat'\npL[%d] = %ld\nptitle[%d] = ", p + 1, Ls[p], p + 1, Ls[p], p + 1);
        gp_str(f, t);
        fputc('\n', f);
    }
    /* throughput in thousands of tokens/s */
    fprintf(f, "tmin = %g\ntmax = %g\nrmax = %g\n", tlo / 1.3e3, thi * 1.3e-3, rhi > 0 ? rhi * 1.1 : 1);
    vars_log_tics(f, "ttics", tlo / 1.3e3, thi * 1.3e-3);
    char cap[800];
    snprintf(cap, sizeof cap,
             "Evaluation throughput (tokens/s, log scale) and peak resident memory of the evaluating process "
             "against evaluation length (%s), with the training length dashed: how the cost of reading longer "
             "sequences grows for each method.",
             mt);
    return fig_finish(pl, &af, "speed_eval.gp", "speed_eval", cap, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* What is missing: methods, lengths, seeds.                                 */

static void find_missing(Run *r) {
    long S0[MAX_SEEDS];
    int max_seeds = 0;
    for (int k = 0; k < r->nmeth; k++)
        for (int l = 0; l < r->nL; l++) {
            int ns = run_seeds(r, r->order[k], r->L[l], S0);
            if (ns > max_seeds) max_seeds = ns;
        }
    r->max_seeds = max_seeds;
    const JsonValue *st = json_get(&r->status.root, "state"); /* NULL unless have_status */
    if (!st) st = json_get(&r->status.root, "status");
    if (st && st->type == JSON_STRING) {
        const JsonValue *cur = json_get(&r->status.root, "method");
        if (!cur) cur = json_get(&r->status.root, "current");
        if (cur && cur->type == JSON_STRING) run_note(r, "status.json says the run is %s (%s)", st->u.str, cur->u.str);
        else run_note(r, "status.json says the run is %s", st->u.str);
    }
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
            run_note(r, "**%s**: every evaluation failed (perplexity nan)", name);
            continue;
        }
        for (int l = 0; l < r->nL; l++) {
            for (int mi = 0; mi < r->nmode; mi++) {
                int mode = r->mode_order[mi];
                long T[MAX_T];
                int nT = run_lengths(r, r->L[l], mode, T);
                Sb nan = {0}, none = {0};
                for (int t = 0; t < nT; t++) {
                    int rows;
                    Stat s = eval_stat(r, m, r->L[l], mode, T[t], F_PPL, &rows);
                    if (!rows) sb_printf(&none, "%s%ld", none.n ? ", " : "", T[t]);
                    else if (!s.n) sb_printf(&nan, "%s%ld", nan.n ? ", " : "", T[t]);
                }
                if (nan.n)
                    run_note(r, "**%s** (L = %ld, %s): no perplexity at %s (nan: the method cannot run there); "
                                "left out of the figures", name, r->L[l], r->mode[mode], nan.s);
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

/* ------------------------------------------------------------------------ */
/* report.md                                                                  */

static int parse_iso(const char *s, double *t) {
    int Y, Mo, D, h, mi;
    double sec;
    char *end;
    double epoch = strtod(s, &end);
    if (end != s && !*end && epoch > 1e8) { /* seconds since 1970, as some writers store it */
        *t = epoch;
        return 0;
    }
    if (sscanf(s, "%d-%d-%d%*1[T ]%d:%d:%lf", &Y, &Mo, &D, &h, &mi, &sec) != 6) return -1;
    /* days from civil (proleptic Gregorian) */
    int y = Y - (Mo <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (Mo + (Mo > 2 ? -3 : 9)) + 2) / 5 + D - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    double days = (double)era * 146097 + doe - 719468;
    *t = days * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
}

static void fmt_duration(char *buf, size_t n, double s) {
    if (!isfinite(s) || s < 0) snprintf(buf, n, "?");
    else if (s < 120) snprintf(buf, n, "%.0f s", s);
    else if (s < 7200) snprintf(buf, n, "%.0f min", s / 60);
    else snprintf(buf, n, "%.1f h", s / 3600);
}

static void report_table(FILE *f, const Run *r, long L, int mode, int field) {
    long T[MAX_T];
    int nT = run_lengths(r, L, mode, T);
    if (!nT) return;
    int dec = field == F_BPB ? 3 : -1, ratio = nT > 1 && T[0] == L;
    fputs("| method |", f);
    for (int t = 0; t < nT; t++) fprintf(f, " %ld |", T[t]);
    if (ratio) fprintf(f, " %ld ÷ %ld |", T[nT - 1], T[0]);
    fputs("\n|---|", f);
    for (int t = 0; t < nT + ratio; t++) fputs("---:|", f);
    fputc('\n', f);
    double best[MAX_T];
    for (int t = 0; t < nT; t++) {
        best[t] = INFINITY;
        for (int k = 0; k < r->nmeth; k++) {
            Stat s = eval_stat(r, r->order[k], L, mode, T[t], field, NULL);
            if (s.n) best[t] = fmin(best[t], s.mean);
        }
    }
    for (int k = 0; k < r->nmeth; k++) {
        int m = r->order[k], any = 0;
        for (int t = 0; t < nT && !any; t++) eval_stat(r, m, L, mode, T[t], field, &any);
        if (!any) continue;
        fprintf(f, "| %s |", plot_method_label(r->meth[m]));
        for (int t = 0; t < nT; t++) {
            Stat s = eval_stat(r, m, L, mode, T[t], field, NULL);
            char cell[96], bcell[96];
            fmt_stat(cell, sizeof cell, s, dec, 1);
            /* best = equal to the column minimum as printed */
            fmt_stat(bcell, sizeof bcell, (Stat){1, best[t], 0}, dec < 0 ? decimals_for(s.mean) : dec, 0);
            char mean_only[96];
            fmt_stat(mean_only, sizeof mean_only, s, dec, 0);
            int is_best = s.n && strcmp(mean_only, bcell) == 0;
            fprintf(f, is_best ? " **%s** |" : " %s |", cell);
        }
        if (ratio) {
            Stat a = eval_stat(r, m, L, mode, T[0], field, NULL), b = eval_stat(r, m, L, mode, T[nT - 1], field, NULL);
            if (a.n && b.n && a.mean > 0) fprintf(f, " ×%.2f |", b.mean / a.mean);
            else fputs(" — |", f);
        }
        fputc('\n', f);
    }
    fputc('\n', f);
}

static void report_speed(FILE *f, const Run *r) {
    int mode = -1;
    for (int i = 0; i < r->nmode; i++)
        if (!strcmp(r->mode[i], "nonoverlapping")) mode = i;
    if (mode < 0 && r->nmode) mode = r->mode_order[0];
    fputs("| method |", f);
    if (r->nL > 1) fputs(" L |", f);
    fputs(" parameters | train tokens/s | train peak RSS (MB) | train wall (s) | eval tokens/s at L | eval tokens/s at "
          "longest | eval peak RSS at L (MB) | eval peak RSS at longest (MB) |\n|---|",
          f);
    if (r->nL > 1) fputs("---:|", f);
    fputs("---:|---:|---:|---:|---:|---:|---:|---:|\n", f);
    for (int l = 0; l < r->nL; l++) {
        long L = r->L[l], T[MAX_T];
        int nT = mode >= 0 ? run_lengths(r, L, mode, T) : 0;
        for (int k = 0; k < r->nmeth; k++) {
            int m = r->order[k];
            Stat tps = train_tps(r, m, L);
            double params = meta_train(r, m, L, "params"), rss = meta_train(r, m, L, "peak_rss_mb"),
                   wall = meta_train(r, m, L, "wall_s");
            int any = tps.n || isfinite(rss) || isfinite(wall);
            for (int i = 0; i < r->nev && !any; i++) any = r->ev[i].m == m && r->ev[i].L == L;
            if (!any) continue;
            char c[8][128];
            fmt_si(c[0], sizeof c[0], params);
            if (tps.n > 1 && tps.mean >= 1e4) {
                snprintf(c[1], sizeof c[1], "%.1fk ± %.1fk", tps.mean / 1e3, tps.sd / 1e3);
            } else if (tps.n > 1) {
                snprintf(c[1], sizeof c[1], "%.0f ± %.0f", tps.mean, tps.sd);
            } else {
                fmt_si(c[1], sizeof c[1], tps.n ? tps.mean : NAN);
            }
            snprintf(c[2], sizeof c[2], isfinite(rss) ? "%.0f" : "—", rss);
            snprintf(c[3], sizeof c[3], isfinite(wall) ? "%.0f" : "—", wall);
            Stat e0 = {0, NAN, NAN}, e1 = e0, r0 = e0, r1 = e0;
            if (nT) {
                e0 = eval_stat(r, m, L, mode, T[0], F_TPS, NULL);
                e1 = eval_stat(r, m, L, mode, T[nT - 1], F_TPS, NULL);
                r0 = eval_stat(r, m, L, mode, T[0], F_RSS, NULL);
                r1 = eval_stat(r, m, L, mode, T[nT - 1], F_RSS, NULL);
            }
            fmt_si(c[4], sizeof c[4], e0.n ? e0.mean : NAN);
            fmt_si(c[5], sizeof c[5], e1.n ? e1.mean : NAN);
            snprintf(c[6], sizeof c[6], r0.n ? "%.0f" : "—", r0.mean);
            snprintf(c[7], sizeof c[7], r1.n ? "%.0f" : "—", r1.mean);
            fprintf(f, "| %s |", plot_method_label(r->meth[m]));
            if (r->nL > 1) fprintf(f, " %ld |", L);
            for (int i = 0; i < 8; i++) fprintf(f, " %s |", c[i]);
            fputc('\n', f);
        }
    }
    fprintf(f, "\nTraining: throughput is the median over the logged steps, mean over seeds; peak RSS and wall time "
               "from meta.json. Evaluation: %s windows at L and at the longest length; peak RSS is the resident "
               "memory high-water mark of the process that evaluated that length.\n\n",
            mode >= 0 ? r->mode[mode] : "no");
}

/* The first of several meta.json paths that is present (writers differ a little). */
static const char *meta_first(const Run *r, const char *const *paths, int n, char *buf, size_t len) {
    for (int i = 0; i < n; i++) {
        const char *v = meta_str(r, paths[i], buf, len);
        if (strcmp(v, "unknown") != 0) return v;
    }
    return "unknown";
}

/* dataset.splits: {"train": {"documents": 26, "tokens": 1392780, "bytes": ...}, ...}
 * -> "train 26 documents, 1.39M tokens; valid ..."; other shapes as written. */
static void render_splits(const Run *r, Sb *b) {
    const JsonValue *sp = r->have_meta ? jv_path(&r->meta.root, "dataset.splits") : NULL;
    if (!sp) sp = r->have_meta ? jv_path(&r->meta.root, "dataset.split_sizes") : NULL;
    if (!sp) {
        sb_printf(b, "unknown");
        return;
    }
    if (sp->type != JSON_OBJECT) {
        jv_render(sp, b);
        return;
    }
    for (unsigned i = 0; i < sp->n; i++) {
        const JsonValue *v = json_value(sp, i);
        sb_printf(b, "%s%s ", i ? "; " : "", json_key(sp, i));
        if (v->type != JSON_OBJECT) {
            jv_render(v, b);
            continue;
        }
        double docs = jv_num(json_get(v, "documents")), tok = jv_num(json_get(v, "tokens")),
               bytes = jv_num(json_get(v, "bytes"));
        char x[32], y[32];
        if (!isfinite(docs) && !isfinite(tok) && !isfinite(bytes)) { jv_render(v, b); continue; }
        int k = 0;
        if (isfinite(docs)) { sb_printf(b, "%.0f documents", docs); k++; }
        if (isfinite(tok)) { fmt_si(x, sizeof x, tok); sb_printf(b, "%s%s tokens", k++ ? ", " : "", x); }
        if (isfinite(bytes) && bytes != tok) { fmt_si(y, sizeof y, bytes); sb_printf(b, "%s%s bytes", k ? ", " : "", y); }
    }
}

static void report_config(FILE *f, const Run *r) {
    char a[512], b[512], c[512], d[512];
    fprintf(f, "| | |\n|---|---|\n");
    fprintf(f, "| Preset | %s |\n", meta_str(r, "preset", a, sizeof a));
    static const char *const vocab_keys[] = {"config.vocab", "dataset.vocab"};
    fprintf(f, "| Model | n_layer %s, d_model %s, n_head %s, vocabulary %s; pre-LN GPT-2 style, fp32 |\n",
            meta_str(r, "config.n_layer", a, sizeof a), meta_str(r, "config.d_model", b, sizeof b),
            meta_str(r, "config.n_head", c, sizeof c), meta_first(r, vocab_keys, 2, d, sizeof d));
    Sb sp = {0};
    render_splits(r, &sp);
    static const char *const tok_keys[] = {"dataset.tokenizer", "config.tokenizer"};
    fprintf(f, "| Data | %s; tokenizer %s; hash `%s`; splits: %s |\n", meta_str(r, "dataset.name", a, sizeof a),
            meta_first(r, tok_keys, 2, b, sizeof b), meta_str(r, "dataset.hash", c, sizeof c), sb_str(&sp));
    free(sp.s);

    Sb tr = {0};
    for (int l = 0; l < r->nL; l++) sb_printf(&tr, "%s%ld", l ? ", " : "", r->L[l]);
    sb_printf(&tr, "; %s steps × batch %s", meta_str(r, "config.steps", a, sizeof a),
              meta_str(r, "config.batch", b, sizeof b));
    sb_printf(&tr, "; AdamW, learning rate %s", meta_str(r, "config.lr", a, sizeof a));
    static const struct { const char *path, *what; } extras[] = {
        {"config.warmup", "warm-up %s steps"}, {"config.lr_min", "cosine to %s"},
        {"config.weight_decay", "weight decay %s"}, {"config.clip", "clip %s"}};
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        const char *v = meta_str(r, extras[i].path, a, sizeof a);
        if (strcmp(v, "unknown") != 0) {
            sb_printf(&tr, ", ");
            sb_printf(&tr, extras[i].what, v);
        }
    }
    sb_printf(&tr, "; seeds: %s", meta_str(r, "config.seeds", a, sizeof a));
    fprintf(f, "| Training | L = %s |\n", sb_str(&tr));
    free(tr.s);

    Sb ev = {0};
    for (int l = 0; l < r->nL; l++) {
        long T[MAX_T];
        int nT = run_lengths(r, r->L[l], -1, T);
        if (!nT) continue;
        sb_printf(&ev, "%s", ev.n ? "; " : "lengths ");
        if (r->nL > 1) sb_printf(&ev, "L = %ld: ", r->L[l]);
        for (int t = 0; t < nT; t++) sb_printf(&ev, "%s%ld", t ? ", " : "", T[t]);
        int mult = 1;
        for (int t = 0; t < nT; t++) mult &= T[t] % r->L[l] == 0;
        if (mult && nT > 1) {
            sb_printf(&ev, " (");
            for (int t = 0; t < nT; t++) sb_printf(&ev, "%s%ld", t ? ", " : "", T[t] / r->L[l]);
            sb_printf(&ev, " × L)");
        }
    }
    if (!ev.n) sb_printf(&ev, "none yet");
    for (int i = 0; i < r->nmode; i++) {
        int mode = r->mode_order[i];
        char mt[96];
        mode_title(r, mode, r->nL ? r->L[0] : 0, mt, sizeof mt);
        double tok = NAN;
        for (int e = 0; e < r->nev && !isfinite(tok); e++)
            if (r->ev[e].mode == mode) tok = r->ev[e].tokens;
        sb_printf(&ev, "; %s", mt);
        if (isfinite(tok)) sb_printf(&ev, " (%.0f tokens scored per length)", tok);
    }
    fprintf(f, "| Evaluation | %s; split %s |\n", sb_str(&ev), *r->split ? r->split : "unknown");
    free(ev.s);
    fprintf(f, "| Machine | %s; BLAS %s (core %s); %s threads |\n", meta_str(r, "cpu", a, sizeof a),
            meta_str(r, "blas", b, sizeof b), meta_str(r, "blas_core", c, sizeof c), meta_str(r, "threads", d, sizeof d));
    double t0, t1;
    char dur[64] = "";
    meta_str(r, "start", a, sizeof a);
    meta_str(r, "end", b, sizeof b);
    if (parse_iso(a, &t0) == 0 && parse_iso(b, &t1) == 0) {
        char x[48];
        fmt_duration(x, sizeof x, t1 - t0);
        snprintf(dur, sizeof dur, " (%s)", x);
    }
    fprintf(f, "| Time | %s → %s%s |\n", a, b, dur);
    fprintf(f, "| Commit | `%s` |\n", meta_str(r, "commit", a, sizeof a));
    Sb ms = {0};
    for (int k = 0; k < r->nmeth; k++) {
        int m = r->order[k];
        sb_printf(&ms, "%s%s (`%s`)", k ? ", " : "", plot_method_label(r->meth[m]), r->meth[m]);
    }
    fprintf(f, "| Methods | %s |\n\n", ms.n ? ms.s : "none");
    free(ms.s);
}

static int write_report(Plot *pl, char *err, size_t errlen) {
    Run *r = pl->r;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/report.md", r->dir);
    AtomicFile af;
    if (atomic_open(&af, path, "w", err, errlen) != 0) return 1;
    FILE *f = af.fp;
    const char *base = strrchr(r->dir, '/');
    base = base && base[1] ? base + 1 : r->dir;
    char pre[128];
    fprintf(f, "# posbench run `%s`%s%s\n\n", base, r->have_meta ? " — preset " : "",
            r->have_meta ? meta_str(r, "preset", pre, sizeof pre) : "");
    fprintf(f, "Position methods trained at a fixed length L and evaluated at longer lengths, as in Press et al., "
               "*Train Short, Test Long* (ICLR 2022). Made by `posbench plot %s`.\n\n",
            r->dir);
    report_config(f, r);
    if (r->notes.n) fprintf(f, "## Missing, failed or incomplete\n\n%s\n", r->notes.s);

    const char *sd_note = r->max_seeds > 1 ? "mean ± std over seeds" : "one seed";
    for (int pass = 0; pass < 2 && r->nev; pass++) {
        int field = pass ? F_BPB : F_PPL;
        if (pass)
            fprintf(f, "## Bits per byte\n\nTotal NLL / ln 2 / bytes covered by the scored tokens; comparable across "
                       "tokenizers. Same layout as above.\n\n");
        else
            fprintf(f, "## Perplexity\n\nPerplexity per token on the %s split, by evaluation length in tokens; %s; "
                       "lower is better; **bold** = best at that length; — = no value (the method cannot run there, "
                       "or failed). The last column divides the longest length's value by the value at L: about "
                       "×1 means the method extrapolates.\n\n",
                    *r->split ? r->split : "evaluation", sd_note);
        for (int mi = 0; mi < r->nmode; mi++) {
            int mode = r->mode_order[mi];
            for (int l = 0; l < r->nL; l++) {
                long T[MAX_T];
                if (!run_lengths(r, r->L[l], mode, T)) continue;
                char mt[96];
                mode_title(r, mode, r->L[l], mt, sizeof mt);
                fprintf(f, "### %s, %s, trained at L = %ld\n\n", pass ? "Bits per byte" : "Perplexity", mt, r->L[l]);
                report_table(f, r, r->L[l], mode, field);
            }
        }
    }
    fputs("## Speed and memory\n\n", f);
    report_speed(f, r);
    fputs("## Figures\n\n", f);
    if (!pl->nfig)
        fprintf(f, "No figures were rendered%s.\n\n",
                pl->no_gnuplot       ? " (gnuplot is not installed: `apt-get install gnuplot-nox`, then `posbench plot` again)"
                : pl->opt->formats ? ""
                                   : " (report only: `posbench plot RUN_DIR` draws them)");
    for (int i = 0; i < pl->nfig; i++) {
        const Figure *g = &pl->fig[i];
        const char *ext = pl->opt->formats & PLOT_PNG ? "png" : "pdf";
        fprintf(f, "![%s](figures/%s.%s)\n\n%s", g->name, g->name, ext, g->caption);
        if ((pl->opt->formats & PLOT_PDF) && strcmp(ext, "pdf")) fprintf(f, " ([PDF](figures/%s.pdf))", g->name);
        fputs("\n\n", f);
    }
    fprintf(f, "Figure data: `figures/data/` (one `.dat` and one `.gp` variable file per figure; re-render one with "
               "`cd figures/data && gnuplot -e \"plotdir='PLOTS'; fmt='png'; vars='NAME.gp'; out='../NAME.png'\" "
               "PLOTS/SCRIPT.gp`).\n");
    return atomic_commit(&af, err, errlen) != 0 ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Finding gnuplot and the scripts.                                          */

static int find_in_path(const char *prog, char *out, size_t n) {
    const char *path = getenv("PATH");
    if (!path) return -1;
    while (*path) {
        size_t len = strcspn(path, ":");
        snprintf(out, n, "%.*s/%s", (int)(len ? len : 1), len ? path : ".", prog);
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return 0;
        path += len;
        if (*path == ':') path++;
    }
    return -1;
}

static int scripts_ok(const char *dir) {
    char p[PATH_MAX + 256];
    snprintf(p, sizeof p, "%s/extrapolation.gp", dir);
    return path_exists(p);
}

/* out must hold PATH_MAX bytes (realpath). */
static int find_scripts(const PlotOptions *opt, char *out) {
    char cand[PATH_MAX + 16];
    if (opt->scripts_dir) {
        snprintf(cand, sizeof cand, "%s", opt->scripts_dir);
        if (scripts_ok(cand) && realpath(cand, out)) return 0;
        return -1;
    }
    const char *home = getenv("POSBENCH_HOME");
    if (home && *home) {
        snprintf(cand, sizeof cand, "%s/plots", home);
        if (scripts_ok(cand) && realpath(cand, out)) return 0;
    }
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        static const char *rel[] = {"plots", "../plots"}; /* ./posbench, build/posbench-asan */
        for (int i = 0; i < 2; i++) {
            snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
            if (scripts_ok(cand) && realpath(cand, out)) return 0;
        }
    }
    if (scripts_ok("plots") && realpath("plots", out)) return 0;
    return -1;
}

/* ------------------------------------------------------------------------ */

int plot_run_opts(const char *run_dir, const PlotOptions *opt, char *err, size_t errlen) {
    struct stat st;
    if (stat(run_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: no such run folder", run_dir);
        return 2;
    }
    char res[PATH_MAX + 32];
    snprintf(res, sizeof res, "%s/results.csv", run_dir);
    if (!path_exists(res)) {
        snprintf(err, errlen, "%s: no results.csv (not a posbench run folder, or its sweep has not evaluated anything yet)",
                 run_dir);
        return 2;
    }
    Plot *pl = xcalloc(1, sizeof(Plot));
    PlotOptions o = *opt;
    pl->opt = &o;
    if (o.formats && find_in_path("gnuplot", pl->gnuplot, sizeof pl->gnuplot) != 0) {
        pl->no_gnuplot = 1; /* the report needs no gnuplot: write it, then fail with exit 2 */
        o.formats = 0;
    }
    if (o.formats) {
        if (find_scripts(opt, pl->scripts) != 0) {
            snprintf(err, errlen, "%s: the gnuplot scripts (extrapolation.gp, ...) are not there; set POSBENCH_HOME "
                                  "to the posbench folder or pass --scripts DIR",
                     opt->scripts_dir ? opt->scripts_dir : "plots/");
            free(pl);
            return 2;
        }
    }
    Run *r = xcalloc(1, sizeof(Run));
    pl->r = r;
    int rc = 0;
    if (run_load(r, run_dir, err, errlen) != 0) { rc = 2; goto done; }
    find_missing(r);
    if (!r->nev) run_note(r, "results.csv has no rows yet: no perplexity figures or tables");

    snprintf(pl->figdir, sizeof pl->figdir, "%s/figures", r->dir);
    snprintf(pl->datadir, sizeof pl->datadir, "%s/data", pl->figdir);
    if (mkdir_p(pl->datadir, err, errlen) != 0) { rc = 1; goto done; }
    char abs[PATH_MAX];
    if (realpath(pl->datadir, abs)) snprintf(pl->datadir, sizeof pl->datadir, "%s", abs);
    if (realpath(pl->figdir, abs)) snprintf(pl->figdir, sizeof pl->figdir, "%s", abs);
    snprintf(pl->log, sizeof pl->log, "%s/gnuplot.log", pl->datadir);
    if (o.formats) {
        FILE *lf = fopen(pl->log, "w"); /* fresh log for this plotting */
        if (lf) fclose(lf);
        for (int mi = 0; mi < r->nmode && !rc; mi++) rc = fig_extrapolation(pl, r->mode_order[mi], err, errlen);
        for (int mi = 0; mi < r->nmode && !rc; mi++)
            for (int l = 0; l < r->nL && !rc; l++) rc = fig_seeds(pl, r->mode_order[mi], r->L[l], err, errlen);
        if (!rc) rc = fig_positions(pl, err, errlen);
        if (!rc) rc = fig_training(pl, err, errlen);
        if (!rc) rc = fig_speed_train(pl, err, errlen);
        if (!rc && r->nmode) /* evaluation cost: the first mode, nonoverlapping when present */
            rc = fig_speed_eval(pl, r->mode_order[0], err, errlen);
        if (rc) goto done;
    }
    rc = write_report(pl, err, errlen);
    if (!rc && !opt->quiet && r->notes.n) {
        fprintf(stderr, "posbench plot: %s is incomplete:\n", r->dir);
        for (const char *p = r->notes.s; *p;) {
            size_t n = strcspn(p, "\n");
            char line[1100];
            snprintf(line, sizeof line, "%.*s", (int)n, p);
            /* strip the markdown bold for the terminal */
            char clean[1100], *w = clean;
            for (const char *q = line + 2; *q; q++)
                if (*q != '*') *w++ = *q;
            *w = 0;
            fprintf(stderr, "  %s\n", clean);
            p += n + (p[n] == '\n');
        }
    }
    if (!rc && pl->no_gnuplot) {
        snprintf(err, errlen, "gnuplot not found on PATH (install it: apt-get install gnuplot-nox); wrote %s/report.md "
                              "without figures", r->dir);
        rc = 2;
    } else if (!rc && !opt->quiet) {
        printf("posbench plot: %d figure file%s in %s/figures, report %s/report.md\n", pl->nfiles,
               pl->nfiles == 1 ? "" : "s", r->dir, r->dir);
    }
done:
    run_free(r);
    free(r);
    free(pl);
    return rc;
}

int plot_run(const char *run_dir, char *err, size_t errlen) {
    PlotOptions opt = {PLOT_PNG | PLOT_PDF, NULL, 0};
    return plot_run_opts(run_dir, &opt, err, errlen);
}

static Flag plot_flags[] = {
    {"--format", "LIST", "png,pdf", "figure formats, comma-separated: png (reading), pdf (papers); 'none' writes only report.md",
     NULL, 0},
    {"--scripts", "DIR", NULL, "folder of the gnuplot scripts (default: $POSBENCH_HOME/plots, else plots/ beside the binary)",
     NULL, 0},
    {"--quiet", NULL, NULL, "no notes about missing methods, no summary line", NULL, 0},
};

int cmd_plot(int argc, char **argv) {
    static const Command fallback = {"plot", "RUN_DIR", "render a run folder's figures and report", cmd_plot};
    const Command *cmd = &fallback;
    for (int i = 0; i < posbench_command_count; i++)
        if (!strcmp(posbench_commands[i].name, "plot")) cmd = &posbench_commands[i];
    const char *pos[1];
    int npos = flags_parse(plot_flags, NFLAGS(plot_flags), argc, argv, cmd, pos, 1);
    if (npos < 1) die_input("plot: RUN_DIR is required (usage: posbench plot RUN_DIR)");
    PlotOptions opt = {0, flag_str(plot_flags, NFLAGS(plot_flags), "--scripts"),
                       flag_on(plot_flags, NFLAGS(plot_flags), "--quiet")};
    const char *fmt = flag_str(plot_flags, NFLAGS(plot_flags), "--format");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", fmt ? fmt : "");
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "png")) opt.formats |= PLOT_PNG;
        else if (!strcmp(tok, "pdf")) opt.formats |= PLOT_PDF;
        else if (strcmp(tok, "none") != 0) die_input("--format: '%s' is not png, pdf or none", tok);
    }
    char err[ERRLEN];
    int rc = plot_run_opts(pos[0], &opt, err, sizeof err);
    if (rc) fprintf(stderr, "posbench: %s\n", err);
    return rc;
}
