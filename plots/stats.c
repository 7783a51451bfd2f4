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

/* Continued fraction of I_x(a, b) without its prefactor (modified Lentz); it
 * converges quickly for x < (a + 1) / (a + b + 2), and betai uses the symmetry
 * I_x(a, b) = 1 − I_{1−x}(b, a) on the other side. */
static double betacf(double a, double b, double x) {
    const double tiny = 1e-300;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    d = 1.0 / (fabs(d) < tiny ? tiny : d);
    double f = d;
    for (int m = 1; m <= 500; m++) {
        double m2 = 2.0 * m, step = 1.0;
        double num[2] = {m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
                         -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))};
        for (int k = 0; k < 2; k++) { /* the even, then the odd term */
            d = 1.0 + num[k] * d;
            c = 1.0 + num[k] / c;
            d = 1.0 / (fabs(d) < tiny ? tiny : d);
            if (fabs(c) < tiny) c = tiny;
            step = d * c;
            f *= step;
        }
        if (fabs(step - 1.0) < 1e-15) break;
    }
    return f;
}

double betai(double a, double b, double x) {
    if (x <= 0.0) return 0.0;
    if (x >= 1.0) return 1.0;
    double pre = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1.0) / (a + b + 2.0)) return pre * betacf(a, b, x) / a;
    return 1.0 - pre * betacf(b, a, 1.0 - x) / b;
}

double t_cdf(double t, double df) {
    double tail = 0.5 * betai(0.5 * df, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t >= 0 ? 1.0 - tail : tail;
}

/* Bisection on the monotone CDF. */
double t_quantile(double q, double df) {
    if (q == 0.5) return 0.0;
    if (q < 0.5) return -t_quantile(1.0 - q, df);
    double lo = 0.0, hi = 1.0;
    while (t_cdf(hi, df) < q && hi < 1e12) hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (t_cdf(mid, df) < q) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

Stat stat_paired(const double *a, const double *b, int n) {
    double d[MAX_SEEDS];
    int k = 0;
    for (int i = 0; i < n && k < MAX_SEEDS; i++) d[k++] = isfinite(a[i]) && isfinite(b[i]) ? a[i] - b[i] : NAN;
    return stat_of(d, k);
}

int stat_significant(Stat s) { return s.n >= 2 && isfinite(s.half) && fabs(s.mean) > s.half; }

Stat stat_of(const double *v, int n) {
    Stat s = {0, NAN, NAN, NAN};
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) { sum += v[i]; s.n++; }
    if (!s.n) return s;
    s.mean = sum / s.n;
    double ss = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) ss += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = s.n > 1 ? sqrt(ss / (s.n - 1)) : 0;
    if (s.n > 1) s.half = t_quantile(0.975, s.n - 1) * s.sd / sqrt((double)s.n);
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

int run_mode_id(const Run *r, const char *name) {
    for (int i = 0; i < r->nmode; i++)
        if (!strcmp(r->mode[i], name)) return i;
    return -1;
}

int run_main_mode(const Run *r) {
    int mode = run_mode_id(r, "nonoverlapping");
    return mode >= 0 || !r->nmode ? mode : r->mode_order[0];
}

void eval_by_seed(const Run *r, int m, long L, int mode, long T, int f, const long *S, int ns, double *v) {
    for (int s = 0; s < ns; s++) v[s] = NAN;
    for (int i = 0; i < r->nev; i++) {
        const EvalRow *e = &r->ev[i];
        if (e->m != m || e->L != L || e->mode != mode || e->T != T) continue;
        for (int s = 0; s < ns; s++)
            if (S[s] == e->seed) v[s] = ev_field(e, f);
    }
}

int eval_status(const Run *r, int m, long L, int mode, long T, const char **reason) {
    int ok = 0, failed = 0;
    if (reason) *reason = NULL;
    for (int i = 0; i < r->nev; i++) {
        const EvalRow *e = &r->ev[i];
        if (e->m != m || e->L != L || e->mode != mode || e->T != T) continue;
        ok |= e->status == ST_OK;
        failed |= e->status == ST_FAILED;
        if (reason && e->reason >= 0 && e->status != ST_OK) *reason = r->reason[e->reason];
    }
    return ok ? ST_OK : failed ? ST_FAILED : ST_NA;
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
