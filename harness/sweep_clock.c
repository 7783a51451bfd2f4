/* sweep_clock.c — RUN/sweeps.tsv (sweep_clock.h): tab-separated, a header line
 * `start<TAB>wall_s<TAB>state`, then one line per sweep, oldest first. Written atomically,
 * whole, by the sweep holding the folder's lock. */
#include "sweep_clock.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../common/util.h"
#include "merge.h"

#define CLOCK_DEFAULT_INTERVAL 5.0

struct SweepClock {
    char path[4200];
    SweepRecord *rec;   /* (n) the file's lines; this sweep's is the last */
    int n;
    double t0, interval;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

static void records_path(const char *dir, char *path, size_t n) { snprintf(path, n, "%s/sweeps.tsv", dir); }

int sweep_records_read(const char *dir, SweepRecord **out) {
    char path[4200], err[ERRLEN], line[256];
    records_path(dir, path, sizeof path);
    *out = NULL;
    FILE *f = open_regular(path, err, sizeof err);
    if (!f) return 0;
    int n = 0, cap = 0;
    SweepRecord *r = NULL;
    while (fgets(line, sizeof line, f)) {
        SweepRecord x;
        if (sscanf(line, "%63[^\t]\t%lf\t%15s", x.start, &x.wall_s, x.state) != 3 || !(x.wall_s >= 0)) continue;
        if (n == cap) r = xrealloc(r, (size_t)(cap = cap ? 2 * cap : 8) * sizeof *r);
        r[n++] = x;
    }
    fclose(f);
    *out = r;
    return n;
}

/* The whole file from c->rec; a failure is said, not fatal (the run's results do not depend on it). */
static void records_write(const SweepClock *c) {
    char err[ERRLEN];
    AtomicFile af;
    if (atomic_open(&af, c->path, "w", err, sizeof err) != 0) {
        fprintf(stderr, "posbench: %s\n", err);
        return;
    }
    fprintf(af.fp, "start\twall_s\tstate\n");
    for (int i = 0; i < c->n; i++) fprintf(af.fp, "%s\t%.1f\t%s\n", c->rec[i].start, c->rec[i].wall_s, c->rec[i].state);
    if (atomic_commit(&af, err, sizeof err) != 0) fprintf(stderr, "posbench: %s\n", err);
}

/* meta.json's start and wall_s, from a sweep that ran before this file existed. 1 when found. */
static int record_from_meta(const char *dir, SweepRecord *r) {
    if (!merge_meta_timing(dir, r->start, sizeof r->start, &r->wall_s)) return 0;
    snprintf(r->state, sizeof r->state, "earlier");
    return 1;
}

static void *clock_loop(void *arg) {
    SweepClock *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double s = until.tv_sec + until.tv_nsec * 1e-9 + c->interval;
        until.tv_sec = (time_t)s;
        until.tv_nsec = (long)((s - (double)until.tv_sec) * 1e9);
        pthread_cond_timedwait(&c->cv, &c->mu, &until);
        if (c->stop) break;
        c->rec[c->n - 1].wall_s = now_seconds() - c->t0;
        records_write(c);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

SweepClock *sweep_clock_start(const char *dir, const char *start_iso) {
    SweepClock *c = xcalloc(1, sizeof *c);
    records_path(dir, c->path, sizeof c->path);
    c->t0 = now_seconds();
    const char *iv = getenv("POSBENCH_CLOCK_INTERVAL");
    c->interval = iv && atof(iv) > 0 ? atof(iv) : CLOCK_DEFAULT_INTERVAL;
    c->n = sweep_records_read(dir, &c->rec);
    c->rec = xrealloc(c->rec, (size_t)(c->n + 2) * sizeof *c->rec);
    if (c->n == 0 && record_from_meta(dir, &c->rec[0])) c->n = 1;
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->rec[i].state, "running")) snprintf(c->rec[i].state, sizeof c->rec[i].state, "interrupted");
    SweepRecord *me = &c->rec[c->n++];
    snprintf(me->start, sizeof me->start, "%s", start_iso);
    me->wall_s = 0;
    snprintf(me->state, sizeof me->state, "running");
    records_write(c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, clock_loop, c) != 0) die_internal("cannot start the sweep's clock thread");
    return c;
}

void sweep_clock_stop(SweepClock *c, double wall_s) {
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    c->rec[c->n - 1].wall_s = wall_s;
    snprintf(c->rec[c->n - 1].state, sizeof c->rec[c->n - 1].state, "finished");
    records_write(c);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->rec);
    free(c);
}
