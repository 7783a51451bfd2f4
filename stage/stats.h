/* stats.h — the statistics the report states: mean, sample standard deviation,
 * Student-t 95% confidence intervals, and paired differences across seeds.
 * Pure functions of their inputs; no I/O.
 */
#ifndef POSBENCH_STATS_H
#define POSBENCH_STATS_H

typedef struct Summary {
    int n;          /* values used */
    double mean;
    double sd;      /* sample standard deviation (n - 1 in the denominator); 0 when n < 2 */
    double half;    /* 95% confidence half-width, t(0.975, n-1) * sd / sqrt(n); NAN when n < 2 */
} Summary;

/* Regularised incomplete beta I_x(a, b), a, b > 0, 0 <= x <= 1. */
double stats_betai(double a, double b, double x);
/* Student t cumulative distribution P(T <= t) with df > 0 degrees of freedom. */
double stats_t_cdf(double t, double df);
/* The q-quantile of Student's t (0 < q < 1): t(0.975, 2) = 4.3027. */
double stats_t_quantile(double q, double df);
/* Mean, sd and 95% interval of x[0..n-1]; non-finite values are skipped. */
Summary stats_summary(const double *x, int n);
/* Paired differences d[i] = a[i] - b[i] over the pairs where both are finite. */
Summary stats_paired(const double *a, const double *b, int n);
/* 1 if the 95% interval of s excludes 0 (needs n >= 2). */
int stats_significant(const Summary *s);

#endif
