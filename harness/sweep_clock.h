/* sweep_clock.h — RUN/sweeps.tsv: the wall time of every local `posbench sweep` on a run
 * folder, including those killed on the way (sweep_clock.c owns the file; docs/FORMATS.md).
 *
 * A sweep appends its line when it starts and rewrites it every few seconds while its units
 * run (a background thread), so a sweep killed by a signal, a shutdown or the end of a work
 * session still counts up to its last rewrite. The next sweep on the folder marks such a line
 * `interrupted`. meta.json's start and wall_s are the first line's start and the sum of the
 * lines (merge.c), and meta.json lists the lines. */
#ifndef POSBENCH_SWEEP_CLOCK_H
#define POSBENCH_SWEEP_CLOCK_H
#include <stddef.h>

typedef struct SweepRecord {
    char start[64];   /* ISO time the sweep started */
    double wall_s;    /* seconds it ran (to its last rewrite, for one killed on the way) */
    char state[16];   /* running, interrupted, finished, or earlier (one meta.json line from before the file) */
} SweepRecord;

typedef struct SweepClock SweepClock;

/* Mark the folder's `running` lines interrupted (the caller holds the folder's lock, so no
 * other sweep runs there), add this sweep's line (the first line, `earlier`, comes from
 * meta.json when the file does not exist yet) and start rewriting it. The rewrite interval
 * is 5 s, or $POSBENCH_CLOCK_INTERVAL seconds (tests). */
SweepClock *sweep_clock_start(const char *dir, const char *start_iso);
/* Stop the thread and write this sweep's line as `finished` after wall_s seconds. */
void sweep_clock_stop(SweepClock *c, double wall_s);

/* The folder's lines, malloc'd (free them), and their count; 0 and NULL when there is no
 * readable file. Lines that do not parse are skipped. */
int sweep_records_read(const char *dir, SweepRecord **out);

#endif
