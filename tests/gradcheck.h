/* gradcheck.h — central finite differences (in double) of a scalar function of
 * float parameters, compared with an analytic gradient. The scalar is
 * sum(upstream * output) for a fixed random upstream, so every output element
 * contributes. */
#ifndef POSBENCH_GRADCHECK_H
#define POSBENCH_GRADCHECK_H
#include <stddef.h>
#include "../common/util.h"

typedef double (*ScalarFn)(void *ctx);

/* Perturb x[idx[k]] (or every element when idx is NULL, n = count) by +-eps,
 * compare (f+ - f-) / 2eps against grad; one CHECK on the worst relative error
 * (normalised by max |numeric|, floor 1e-3). Returns that error. */
double gradcheck(const char *what, ScalarFn f, void *ctx, float *x, const float *grad, size_t n, const size_t *idx,
                 size_t n_idx, double eps, double tol, const char *file, int line);
/* The same with the relative error's floor given (gradcheck uses 1e-3). */
double gradcheck_floor(const char *what, ScalarFn f, void *ctx, float *x, const float *grad, size_t n, const size_t *idx,
                       size_t n_idx, double eps, double tol, double floor, const char *file, int line);
#define GRADCHECK(what, f, ctx, x, grad, n, eps, tol) \
    gradcheck(what, f, ctx, x, grad, n, NULL, 0, eps, tol, __FILE__, __LINE__)

/* sum_i up[i] * out[i] in double */
double dot_up(const float *up, const float *out, size_t n);
void fill_normal(float *x, size_t n, float std, Rng *rng);

#endif
