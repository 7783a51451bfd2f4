/* run.h — a run folder loaded for the figures and the report, and the
 * statistics over seeds that both draw from.
 *
 * run_load() reads results.csv (required), train.csv, positions.csv and
 * meta.json (optional) into flat row arrays; methods and modes are interned
 * into small integer ids (EvalRow.m indexes Run.meth). What is absent or
 * unreadable becomes a note ("- ..." lines in Run.notes) for the report, not an
 * error. run.c loads and notes; stats.c aggregates over seeds.
 */
#ifndef POSBENCH_PLOTS_RUN_H
#define POSBENCH_PLOTS_RUN_H
#include <limits.h>
#include <stddef.h>
#include "../common/json.h"
#include "../common/strbuf.h"

#define MAX_L 32   /* training lengths in one run */
#define MAX_T 128  /* evaluation lengths per training length */
#define MAX_SEEDS 256

enum { ST_OK, ST_NA, ST_FAILED };
typedef struct EvalRow {   /* one results.csv row */
    int m, mode;
    long L, seed, T, stride;
    double tokens, nll, ppl, bpb, tps, rss;
    int status;            /* ST_OK, ST_NA (the method cannot run there), ST_FAILED */
    int reason;            /* index into Run.reason, -1 if none */
} EvalRow;

typedef struct TrainRow {  /* one train.csv row */
    int m;
    long L, seed, step;
    double tokens, loss, tps;
    double val;            /* validation loss at this step (train.csv val_loss), NAN when not measured */
} TrainRow;

typedef struct PosRow {    /* one positions.csv row */
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
    char **reason;     /* results.csv reasons (n/a, failed) */
    int nreason;
    int *mode_order;   /* nonoverlapping, sliding, then others */
    long L[MAX_L];     /* training lengths, ascending */
    int nL;
    EvalRow *ev;
    int nev;
    TrainRow *tr;
    int ntr;
    PosRow *po;
    int npo;
    int have_train, have_pos, have_meta;
    int have_val;       /* some train.csv row carries a validation loss */
    int train_by_step;  /* train.csv has no tokens column: curves against steps */
    char split[64];
    int max_seeds;
    JsonDoc meta;      /* root.type JSON_NULL unless have_meta */
    Sb notes;          /* what is missing or failed, one "- ..." line each */
} Run;

/* run.c: loading, notes, meta.json access */
int run_load(Run *r, const char *dir, char *err, size_t errlen); /* 0, or -1: results.csv unusable */
void run_free(Run *r);
void run_note(Run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Notes on missing methods, lengths and seeds; sets r->max_seeds. */
void find_missing(Run *r);
/* The id of evaluation mode `name` ("nonoverlapping"), or -1. */
int run_mode_id(const Run *r, const char *name);
/* The mode tables are about: nonoverlapping when present, else the first; -1 if none. */
int run_main_mode(const Run *r);
/* "config.n_layer" -> the value, or NULL. */
const JsonValue *jv_path(const JsonValue *j, const char *path);
void jv_render(const JsonValue *j, Sb *b);
double jv_num(const JsonValue *j);
/* A meta.json value as text into buf, or "unknown". */
const char *meta_str(const Run *r, const char *path, char *buf, size_t n);
/* Method m trained at L: key (tokens_per_s, peak_rss_mb, wall_s, params) from meta.json's
 * units (mean over seeds; peak RSS the largest), else train.<method>[.<L>].<key>; or NaN. */
double meta_train(const Run *r, int m, long L, const char *key);

/* stats.c: aggregation over seeds */
typedef struct Stat {
    int n;
    double mean, sd; /* sd: sample standard deviation (n − 1), 0 for one seed */
    double half;     /* 95% confidence half-width t(0.975, n − 1)·sd/√n; NAN for one value */
} Stat;

enum { F_PPL, F_BPB, F_NLL, F_TPS, F_RSS };  /* EvalRow fields eval_stat can aggregate */

Stat stat_of(const double *v, int n);        /* over the finite values of v[n] */
/* Paired differences a[i] − b[i] over the i where both are finite. */
Stat stat_paired(const double *a, const double *b, int n);
/* 1 when the 95% interval of s excludes 0 (n ≥ 2). */
int stat_significant(Stat s);
/* Student's t: regularised incomplete beta I_x(a, b); P(T ≤ t) with df degrees of
 * freedom; its q-quantile (t_quantile(0.975, 2) = 4.3027). */
double betai(double a, double b, double x);
double t_cdf(double t, double df);
double t_quantile(double q, double df);
/* Per-seed values of (m, L, mode, T, field) into v[MAX_SEEDS] in the order of seeds S[ns]
 * (NAN where that seed has no row), so two methods' arrays pair up seed by seed. */
void eval_by_seed(const Run *r, int m, long L, int mode, long T, int f, const long *S, int ns, double *v);
/* Over seeds for one (method, L, mode, T); *rows (may be NULL) = rows found, finite or not. */
Stat eval_stat(const Run *r, int m, long L, int mode, long T, int f, int *rows);
/* The status over seeds of one (method, L, mode, T): ST_OK if any row is ok,
 * else ST_FAILED if any failed, else ST_NA; *reason (may be NULL) = a row's reason or NULL. */
int eval_status(const Run *r, int m, long L, int mode, long T, const char **reason);
/* Appends v to set[n] unless present (and n < max); returns the new count. */
int add_unique(long *set, int n, int max, long v);
/* Evaluation lengths for training length L (mode < 0: any mode), ascending, into T[MAX_T]. */
int run_lengths(const Run *r, long L, int mode, long *T);
/* Seeds of (method, L), ascending, into S[MAX_SEEDS]. */
int run_seeds(const Run *r, int m, long L, long *S);
/* "nonoverlapping windows", "sliding window, stride 32", ... */
void mode_title(const Run *r, int mode, long L, char *buf, size_t n);
/* Training throughput of (method, L): median over logged steps, mean ± sd over seeds. */
Stat train_tps(const Run *r, int m, long L);

#endif
