/* slurm.h — `sweep --executor slurm` (slurm.c): a planned sweep as one Slurm array job (one
 * task per unit) and a merge job that runs after it, from job scripts kept in RUN/slurm/. */
#ifndef POSBENCH_SLURM_H
#define POSBENCH_SLURM_H
#include "plan.h"

typedef struct SlurmJob {
    const char *run_dir;
    const Plan *plan;
    int threads;              /* per unit: --cpus-per-task and the unit's --threads */
    const char *slurm_args;   /* extra sbatch options for both scripts, or NULL */
    int resume;               /* submit only the units that are missing or failed */
    int plot;                 /* the merge draws figures and report (0: sweep --no-plot) */
} SlurmJob;

/* Write RUN/slurm/units.sbatch and merge.sbatch, submit them with sbatch, record the job ids in
 * RUN/slurm/jobs.tsv and print them with how to watch them. The exit status (0 when queued). */
int slurm_submit(const SlurmJob *j);

#endif
