/* test_main.c — runs the suites of suites.h (all, or those named on the
 * command line) and ends with the line "N passed, N failed". Exit 1 on any failure. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "../common/util.h"

int check_passed, check_failed, check_quick;

void check_report(int ok, const char *file, int line, const char *fmt, ...) {
    if (ok) { check_passed++; return; }
    check_failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "FAIL %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

int check_close_f(const char *what, const float *got, const float *want, size_t n, double rtol, double atol,
                  const char *file, int line) {
    size_t worst = 0;
    double worst_excess = -1;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]), tol = atol + rtol * fabs(want[i]);
        if (!(d <= tol)) bad = 1;
        double ex = isfinite(d) ? d - tol : INFINITY;
        if (ex > worst_excess) { worst_excess = ex; worst = i; }
    }
    check_report(!bad, file, line, "%s: element %zu got %.9g want %.9g (rtol %g, atol %g)", what, worst,
                 n ? got[worst] : 0.0, n ? want[worst] : 0.0, rtol, atol);
    return !bad;
}

double max_rel_err(const float *got, const double *want, size_t n, double floor) {
    double maxdiff = 0, maxw = floor;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(got[i] - want[i]);
        if (!(d <= maxdiff)) maxdiff = d;   /* NaN propagates as failure */
        if (fabs(want[i]) > maxw) maxw = fabs(want[i]);
    }
    return maxdiff / maxw;
}

/* weak, so a partial build (one module and its suite) still links */
#define SUITE(name) void test_##name(void) __attribute__((weak));
#include "suites.h"
#undef SUITE

int main(int argc, char **argv) {
    static const struct { const char *name; void (*fn)(void); } suites[] = {
#define SUITE(name) {#name, test_##name},
#include "suites.h"
#undef SUITE
    };
    flush_denormals();   /* as posbench does (common/util.h) */
    int n_named = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--quick") == 0) check_quick = 1;
        else n_named++;
    }
    for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
        int run = n_named == 0;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], suites[s].name) == 0) run = 1;
        if (!run || !suites[s].fn) continue;
        int p0 = check_passed, f0 = check_failed;
        double t0 = now_seconds();
        suites[s].fn();
        printf("suite %-12s %4d passed, %d failed (%.1fs)\n", suites[s].name, check_passed - p0,
               check_failed - f0, now_seconds() - t0);
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}
