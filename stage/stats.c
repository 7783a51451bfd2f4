/* stats.c — see stats.h. The incomplete beta function is evaluated by its
 * continued fraction (modified Lentz), using the symmetry I_x(a,b) =
 * 1 - I_{1-x}(b,a) where the fraction converges slowly; the t quantile is found
 * by bisection on the CDF, which is monotone. */
#include "stats.h"
#include <math.h>

/* Continued fraction for I_x(a, b) without its prefactor; converges for x < (a+1)/(a+b+2). */
static double betacf(double a, double b, double x) {
    const double tiny = 1e-300;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double f = d;
    for (int m = 1; m <= 500; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));   /* even step */
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        f *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));   /* odd step */
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double step = d * c;
        f *= step;
        if (fabs(step - 1.0) < 1e-15) break;
    }
    return f;
}

double stats_betai(double a, double b, double x) {
    if (x <= 0.0) return 0.0;
    if (x >= 1.0) return 1.0;
    double lnpre = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0)) return exp(lnpre) * betacf(a, b, x) / a;
    return 1.0 - exp(lnpre) * betacf(b, a, 1.0 - x) / b;
}

double stats_t_cdf(double t, double df) {
    double tail = 0.5 * stats_betai(0.5 * df, 0.5, df / (df + t * t));   /* P(T > |t|) */
    return t >= 0 ? 1.0 - tail : tail;
}

double stats_t_quantile(double q, double df) {
    if (q == 0.5) return 0.0;
    if (q < 0.5) return -stats_t_quantile(1.0 - q, df);
    double lo = 0.0, hi = 1.0;
    while (stats_t_cdf(hi, df) < q && hi < 1e12) hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (stats_t_cdf(mid, df) < q) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

Summary stats_summary(const double *x, int n) {
    Summary s = {0, NAN, 0.0, NAN};
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) {
            sum += x[i];
            s.n++;
        }
    if (!s.n) return s;
    s.mean = sum / s.n;
    if (s.n < 2) return s;
    double ss = 0.0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) ss += (x[i] - s.mean) * (x[i] - s.mean);
    s.sd = sqrt(ss / (s.n - 1));
    s.half = stats_t_quantile(0.975, s.n - 1) * s.sd / sqrt((double)s.n);
    return s;
}

Summary stats_paired(const double *a, const double *b, int n) {
    double d[n > 0 ? n : 1];
    for (int i = 0; i < n; i++) d[i] = isfinite(a[i]) && isfinite(b[i]) ? a[i] - b[i] : NAN;
    return stats_summary(d, n);
}

int stats_significant(const Summary *s) {
    return s->n >= 2 && isfinite(s->half) && fabs(s->mean) > s->half;
}
