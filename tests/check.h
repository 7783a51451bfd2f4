/* check.h — the tiny test framework: every CHECK counts as one pass or one
 * failure; failures print where and why; the runner ends with "N passed, N failed".
 * Suites are listed once in tests/suites.h.
 */
#ifndef POSBENCH_CHECK_H
#define POSBENCH_CHECK_H
#include <stddef.h>

extern int check_passed, check_failed;
extern int check_quick;      /* --quick: suites may shrink their sizes (ASan runs) */

void check_report(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define CHECK(cond, ...) check_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* |got - want| <= atol + rtol * |want| elementwise; reports the worst element. One check. */
int check_close_f(const char *what, const float *got, const float *want, size_t n, double rtol, double atol,
                  const char *file, int line);
#define CHECK_CLOSE(what, got, want, n, rtol, atol) check_close_f(what, got, want, n, rtol, atol, __FILE__, __LINE__)
/* Worst relative error max|g-w| / max(max|w|, floor); for gradient checks. */
double max_rel_err(const float *got, const double *want, size_t n, double floor);

#endif
