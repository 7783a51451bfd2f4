/* stats.c — statistics over seeds for the figures and the report (run.h). */
#include "run.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/util.h"


static double ev_field(const EvalRow *e, int f) {
    switch (f) {
    case F_PPL: return e->ppl;
    case F_BPB: return e->bpb;
    case F_NLL: return e->nll;
    case F_TPS: return e->tps;
    default: return e->rss;
    }
}

Stat stat_of(const double *v, int n) {
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
Stat eval_stat(const Run *r, int m, long L, int mode, long T, int f, int *rows) {
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

int add_unique(long *set, int n, int max, long v) {
    for (int i = 0; i < n; i++)
        if (set[i] == v) return n;
    if (n < max) set[n++] = v;
    return n;
}

/* Evaluation lengths for training length L (mode < 0: any mode), ascending. */
int run_lengths(const Run *r, long L, int mode, long *T) {
    int n = 0;
    for (int i = 0; i < r->nev; i++)
        if (r->ev[i].L == L && (mode < 0 || r->ev[i].mode == mode)) n = add_unique(T, n, MAX_T, r->ev[i].T);
    qsort(T, (size_t)n, sizeof(long), cmp_long);
    return n;
}

int run_seeds(const Run *r, int m, long L, long *S) {
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

void mode_title(const Run *r, int mode, long L, char *buf, size_t n) {
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
Stat train_tps(const Run *r, int m, long L) {
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
