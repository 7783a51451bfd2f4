/* unit.h — running one unit of a planned sweep (unit.c): `posbench unit` and the sweep's
 * sequential loop call unit_run in this process; `sweep --jobs` and Slurm run `posbench unit`. */
#ifndef POSBENCH_UNIT_H
#define POSBENCH_UNIT_H
#include "config.h"
#include "plan.h"

enum { UNIT_FAILED_RC = 1, UNIT_BUSY = 2 };   /* unit_run's results besides 0 (also `posbench unit`'s exit) */

typedef struct UnitJob {
    const RunConfig *cfg;    /* the run's config (RUN/config.conf) */
    const char *run_dir;
    const char *conf_path;   /* RUN/config.conf, handed to the train child */
    const PlanUnit *u;
    int threads;             /* per child process (0 = all cores) */
    int failed_steps;        /* out: training (1) or evaluations that failed */
} UnitJob;

/* Train (resuming) then evaluate one unit, skipping what is finished, under the unit's lock.
 * 0 when the unit is done; UNIT_FAILED_RC when a step failed (unit-failed.txt written);
 * UNIT_BUSY when another process holds the unit (one line on stderr, nothing touched). */
int unit_run(UnitJob *j);

#endif
