/* bench.h — the parts of `posbench bench` (see bench.c for what it measures):
 *
 *   bench.c           the command: flags, then one section per measurement
 *   bench_table.c     the result table: rows, notes, printing, bench.json / bench.csv
 *   bench_measure.c   measurements inside this process (training step, sgemm peak,
 *                     evaluation window, tiled attention) and the --child modes
 *   bench_children.c  measurements in child processes: other OpenBLAS kernel sets,
 *                     evaluation per length, PyTorch (dev/bench_torch.py)
 */
#ifndef POSBENCH_BENCH_H
#define POSBENCH_BENCH_H
#include <stdio.h>
#include "../common/json.h"

/* ---- bench_table.c ---- */
enum { ST_NONE, ST_MET, ST_MISSED, ST_NA };  /* a row's result against its target */

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

typedef struct BenchMeta {   /* the settings bench.json records */
    int threads, steps, warmup, repeats, quick;
} BenchMeta;

Row *table_add(Table *t, const char *section, const char *item, const char *unit);
void table_note(Table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void row_target(Row *r, double ratio, double at_least); /* a ratio row against a ">= x" target */
void table_print(const Table *t, FILE *f);
void table_write_json(const Table *t, FILE *f, const BenchMeta *bm);
void table_write_csv(const Table *t, FILE *f);
void table_free(Table *t);

/* ---- bench_measure.c ---- */
typedef struct ModelShape {   /* a preset's model and training shape */
    char preset[32];
    int n_layer, d_model, n_head, vocab, batch, T;
} ModelShape;

typedef struct TrainResult {
    double tok_s;           /* batch * T / fastest step time */
    double flops_per_token;
    size_t n_params;
} TrainResult;

void shape_of_preset(ModelShape *s, const char *preset);   /* exits 2 on an unknown preset */
TrainResult bench_train(const ModelShape *s, const char *method, int warmup, int steps);
double bench_sgemm_peak(int quick, int *best_n);            /* GFLOP/s */
/* sgemm vs the naive product on the model's shapes: worst error over its bound (<= 1: correct). */
double bench_sgemm_check(void);
double bench_eval_window(const ModelShape *s, const char *method, int T, int repeats); /* seconds */
double bench_attention_tiled(const ModelShape *s, const char *method, int T, int repeats); /* GFLOP/s */
/* `posbench bench --child sgemm|eval:METHOD:T:REPEATS`: one measurement, one JSON line on stdout. */
int bench_child(const char *what, int quick);

/* ---- bench_children.c ---- */
#define MAX_METHODS 16   /* --methods, --eval-methods */

typedef struct Opts {   /* the command's settings */
    int threads, quick, steps, warmup, repeats, skip_torch, eval_repeats;
    int kernels_only;   /* --kernels */
    const char *python, *script;
    char methods[MAX_METHODS][32];
    int n_methods;
    char presets[4][32];
    int n_presets;
    char eval_methods[MAX_METHODS][32];
    int n_eval_methods;
    long eval_lens[8];
    int n_eval_lens;
} Opts;

typedef struct TorchTrain {
    char method[32];
    double tok_s;
} TorchTrain;

typedef struct TorchOut {   /* what one dev/bench_torch.py run printed */
    int skipped;
    char reason[256];
    char core[64];
    TorchTrain train[16];
    int n_train;
    struct { char method[32]; int T; double tok_s, rss_mb; } eval[16];
    int n_eval;
} TorchOut;

void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* "bench: ..." on stderr */
/* dev/bench_torch.py with --threads and args_extra; 0, or -1 with t->reason. */
int torch_run(const Opts *o, char **args_extra, int n_extra, TorchOut *t);
/* sgemm, checked against the naive product and then its peak, under every other
 * OpenBLAS kernel set this CPU can run (a child each), as rows; a note when a
 * correct one is clearly faster than the selected set; the figures cached for
 * train and sweep (runtime_kernel_cache_write). */
void bench_other_cores(Table *t, const Opts *o, double peak_sel, double check_sel);
/* A fresh `posbench bench --child eval:...` process: tokens/s and peak RSS (MB). */
void bench_eval_child(const Opts *o, const char *method, long T, double *tok_s, double *rss_mb);
double load_average(void);   /* 1-minute load average (NAN if unknown) */

#endif
