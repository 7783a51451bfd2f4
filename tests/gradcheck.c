/* gradcheck.c — see gradcheck.h */
#include "gradcheck.h"
#include <math.h>
#include <stdlib.h>
#include "check.h"

double gradcheck(const char *what, ScalarFn f, void *ctx, float *x, const float *grad, size_t n, const size_t *idx,
                 size_t n_idx, double eps, double tol, const char *file, int line) {
    return gradcheck_floor(what, f, ctx, x, grad, n, idx, n_idx, eps, tol, 1e-3, file, line);
}

double gradcheck_floor(const char *what, ScalarFn f, void *ctx, float *x, const float *grad, size_t n, const size_t *idx,
                       size_t n_idx, double eps, double tol, double floor, const char *file, int line) {
    size_t count = idx ? n_idx : n;
    double *num = xmalloc(count * sizeof(double));
    float *ana = xmalloc(count * sizeof(float));
    for (size_t k = 0; k < count; k++) {
        size_t i = idx ? idx[k] : k;
        float saved = x[i];
        x[i] = (float)(saved + eps);
        double fp = f(ctx);
        x[i] = (float)(saved - eps);
        double fm = f(ctx);
        x[i] = saved;
        /* the perturbation actually applied, after rounding to float */
        double h = (double)(float)(saved + eps) - (double)(float)(saved - eps);
        num[k] = (fp - fm) / h;
        ana[k] = grad[i];
    }
    double err = max_rel_err(ana, num, count, floor);
    size_t worst = 0;
    double wd = -1;
    for (size_t k = 0; k < count; k++)
        if (fabs(ana[k] - num[k]) > wd) { wd = fabs(ana[k] - num[k]); worst = k; }
    check_report(err <= tol, file, line, "gradcheck %s: rel err %.3g > %.3g (element %zu: analytic %.8g numeric %.8g)",
                 what, err, tol, idx ? idx[worst] : worst, count ? ana[worst] : 0.0, count ? num[worst] : 0.0);
    free(num);
    free(ana);
    return err;
}

double dot_up(const float *up, const float *out, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)up[i] * out[i];
    return s;
}

void fill_normal(float *x, size_t n, float std, Rng *rng) {
    for (size_t i = 0; i < n; i++) x[i] = std * rng_normal(rng);
}
