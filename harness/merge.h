/* merge.h — gathering a planned sweep's units into the run folder (merge.c). */
#ifndef POSBENCH_MERGE_H
#define POSBENCH_MERGE_H
#include <stddef.h>
#include <time.h>
#include "../datasets/data.h"
#include "config.h"
#include "plan.h"

typedef struct MergeJob {
    const char *dir;          /* the run folder */
    const RunConfig *cfg;
    const Dataset *ds;        /* the run's data, for meta.json */
    const Plan *plan;
    const char *start;        /* meta.json start (an earlier meta.json's start wins) */
    const char *blas_core;    /* meta.json blas_core: the units' (merge), NULL = this process's (sweep) */
    time_t end;               /* meta.json end: the units' last write (merge), 0 = now (sweep) */
    double wall;              /* meta.json wall_s (merge) */
    int sweep_records;        /* 1 (sweep): start and wall_s from RUN/sweeps.tsv, every sweep's time summed */
    int plot;                 /* draw figures and report */
    const char *who;          /* "sweep" or "merge", for messages */
} MergeJob;

/* The run files, meta.json, the table on stdout, figures and report; then every unit that is not
 * done named on stderr with its rerun command. Returns the number of units not done. */
int merge_run(const MergeJob *m);
/* An existing meta.json's start and wall_s: 1, or 0 when there is none (or not both). */
int merge_meta_timing(const char *dir, char *start, size_t n, double *wall);
/* Only the naming of units not done (as merge_run ends); who prefixes the lines. Their count. */
int merge_report_units(const char *dir, const Plan *p, const char *who);

#endif
