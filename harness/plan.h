/* plan.h — a sweep as a plan of units (RUN/plan.tsv, docs/FORMATS.md).
 *
 * A unit is one (method, training length L, seed): trained once, then evaluated at
 * each of its evaluations (window length W, mode). The plan lists every unit of a
 * sweep in the order the run-level files gather them: L outer, then method, then
 * seed; a unit's evaluations W ascending, nonoverlapping before sliding. Units are
 * found by id ("alibi-L128-s1", also the name of the unit's folder under RUN/units/)
 * or by their 1-based index (a Slurm array task id).
 *
 * plan.c owns plan.tsv (build, write, read) and the state of a unit on disk (done,
 * failed, running, missing), which `posbench unit`, `posbench merge` and
 * `sweep --executor slurm --resume` share.
 */
#ifndef POSBENCH_PLAN_H
#define POSBENCH_PLAN_H
#include "../methods/method.h"
#include "config.h"
#include "variant.h"

#define PLAN_MAX_VARIANTS 8
#define PLAN_MAX_EVALS ((2 * CFG_MAX_LIST + 1) * (1 + PLAN_MAX_VARIANTS))

/* One evaluation of a unit: perplexity at window W (nonoverlapping or sliding), or the probe
 * stage (every probe length and distance in one file); of the trained method, or of one of its
 * evaluation-time variants (harness/variant.h). */
typedef struct PlanEval {
    long W;        /* window length (0 for the probes) */
    int sliding;   /* 0 nonoverlapping, 1 sliding */
    int probe;     /* 1: the probe stage (config keys probes, probe_*) */
    char variant[VARIANT_NAME_LEN];   /* "" for the trained method, else the variant's name */
} PlanEval;

typedef struct PlanUnit {
    int index;                    /* 1-based position in the plan */
    char id[POS_SPEC_LEN + 48];   /* "M-L<L>-s<S>": the folder under RUN/units/ */
    char method[POS_SPEC_LEN];
    long L;
    int seed;
    int n_evals;
    PlanEval evals[PLAN_MAX_EVALS];
} PlanUnit;

typedef struct Plan {
    char preset[32];
    char data_dir[4096];   /* the prepared dataset folder every unit reads (absolute) */
    char started[64];      /* when the plan was first written (ISO time): meta.json's start for a merge */
    int n_units;
    PlanUnit *units;
} Plan;

/* The units of cfg's methods[n_methods] x train_lens x seeds (cfg checked by the sweep): each with
 * its evaluations, then its probes (when cfg names some), then per variant of its method (cfg's
 * variants, in order) the variant's nonoverlapping evaluations and probes. */
void plan_build(Plan *p, const RunConfig *cfg, char *const *methods, int n_methods, const char *data_dir);
/* RUN/plan.tsv, atomically; an existing plan with the same units keeps its start time. 0, or -1 with err. */
int plan_write(Plan *p, const char *run_dir, char *err, size_t errlen);
/* RUN/plan.tsv into p. 0, or -1 with err naming the file (missing, or a malformed line). */
int plan_read(Plan *p, const char *run_dir, char *err, size_t errlen);
void plan_free(Plan *p);
/* The unit named by id or by 1-based index ("3"); NULL if none. */
const PlanUnit *plan_find(const Plan *p, const char *key);

/* RUN/units/<id> into buf. */
void plan_unit_dir(const char *run_dir, const PlanUnit *u, char *buf, size_t n);
/* The file of one evaluation inside the unit folder: "eval-<W>-<mode>.csv" or "probes.csv",
 * under "<variant>/" for a variant. */
void plan_eval_name(const PlanEval *e, char *buf, size_t n);
/* Its per-position file ("positions-<W>.csv", under "<variant>/" for a variant); "" for sliding and probes. */
void plan_positions_name(const PlanEval *e, char *buf, size_t n);
/* 1 when the evaluation's CSV at path is whole: its header (results or probes) and complete rows,
 * at least one for results. */
int plan_eval_csv_whole(const PlanEval *e, const char *path);

enum UnitState { UNIT_DONE, UNIT_MISSING, UNIT_FAILED, UNIT_RUNNING };
/* Where a unit stands on disk: done (train.json and every evaluation whole), running (its lock
 * is held), failed (its last run left unit-failed.txt; why goes into why), else missing. */
int plan_unit_state(const char *run_dir, const PlanUnit *u, char *why, size_t n);
const char *plan_state_name(int state);

#endif
