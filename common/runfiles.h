/* runfiles.h — the files of a run folder: their names, their CSV columns
 * (defined once here, used by every writer and reader) and train.json.
 *
 *   RUN/config.conf            the resolved configuration (config.c)
 *   RUN/plan.tsv               the units of the sweep (harness/plan.c)
 *   RUN/sweeps.tsv             start, wall time and state of every local sweep on the folder,
 *                              killed ones included (harness/sweep_clock.c)
 *   RUN/meta.json              preset, config, dataset, machine, timing, per-method
 *                              training summaries (harness/merge.c)
 *   RUN/results.csv            results_cols: one row per (unit, length, mode)
 *   RUN/train.csv              train_cols: one row per logged training step
 *   RUN/positions.csv          positions_cols: mean loss per position in a window
 *   RUN/probes.csv             probes_cols: copy and passkey probes per (method, T, D)
 *   RUN/report.md, figures/    plots/
 *   RUN/data_hash.txt          "HASH SPEC": the data the units were trained on; a later sweep
 *                              on other data is refused (harness/run_common.c)
 *   RUN/.posbench.lock         flock'd by the sweep or merge writing RUN (holds its pid); a
 *                              unit folder has one too while `train` writes it, and
 *                              .unit.lock while `posbench unit` runs it
 *   RUN/slurm/                 job scripts, job ids and logs of --executor slurm (harness/slurm.c)
 *   RUN/units/M-L<L>-s<S>/     one trained model: model.safetensors,
 *                              train_state.safetensors, train.csv, train.json,
 *                              eval-<W>-<mode>.csv (results_cols),
 *                              positions-<W>.csv (positions_cols), probes.csv (probes_cols),
 *                              and per variant V the same files under V/; unit-failed.txt
 *                              (after a failed run), unit.log (under sweep --jobs)
 *
 * The run-level CSVs are the units' files concatenated (one header). docs/FORMATS.md
 * describes every column.
 */
#ifndef POSBENCH_RUNFILES_H
#define POSBENCH_RUNFILES_H
#include <stddef.h>
#include <stdio.h>

enum ResultsCol {
    RC_METHOD, RC_TRAIN_LEN, RC_SEED, RC_EVAL_LEN, RC_MODE, RC_STRIDE, RC_SPLIT, RC_TOKENS,
    RC_NLL, RC_PPL, RC_BPB, RC_TOKENS_PER_S, RC_PEAK_RSS_MB, RC_ARENA_MB,
    RC_STATUS, /* ok; n/a (the method cannot run at that length); failed */
    RC_REASON, /* why, for n/a and failed ("learned table has 16 rows") */
    RC_N
};
enum TrainCol {
    TC_METHOD, TC_TRAIN_LEN, TC_SEED, TC_STEP, TC_TOKENS, TC_LOSS, TC_LR, TC_GRAD_NORM, TC_TOKENS_PER_S,
    TC_VAL_LOSS, TC_N
};
enum PositionsCol { PC_METHOD, PC_TRAIN_LEN, PC_SEED, PC_EVAL_LEN, PC_POS, PC_NLL, PC_N };
enum ProbesCol {
    PR_METHOD, PR_TRAIN_LEN, PR_SEED, PR_KIND, PR_T, PR_D, PR_N, PR_NLL, PR_ACC, PR_LO, PR_HI, PR_CHANCE, PR_N_COLS
};

extern const char *const results_cols[RC_N];     /* "method", "train_len", ... */
extern const char *const train_cols[TC_N];
extern const char *const positions_cols[PC_N];
extern const char *const probes_cols[PR_N_COLS];   /* probes.csv (harness/probe.c writes the rows) */

/* The header line "a,b,c\n" of a column list. */
void runfile_header(FILE *f, const char *const *cols, int n);

/* train.json: a finished unit's training summary (its presence marks the unit done). */
typedef struct TrainSummary {
    char method[96];
    long train_len, tokens;
    int seed, steps, threads, resumed;
    double final_loss, tokens_per_s, wall_s, peak_rss_mb;
    size_t params, bytes_params, bytes_train_acts;
    char build[256];
    char precision[64];   /* the training products as run: "fp32", "bf16", or "fp32 (bf16 unavailable: ...)" */
    char blas_core[64];   /* the OpenBLAS kernel set it trained with ("" in files from before the key) */
} TrainSummary;

/* Written atomically as one line of JSON. 0, or -1 with err. */
int train_summary_write(const char *path, const TrainSummary *s, char *err, size_t errlen);
/* 0, or -1 with err (missing, not JSON, or a field missing or of the wrong type). */
int train_summary_read(const char *path, TrainSummary *s, char *err, size_t errlen);

#endif
