/* version.c — how this binary was built, for `posbench --version`, `make help`
 * and meta.json. The Makefile passes the commit and -march; the rest is read
 * from the compiler's own macros, so the text cannot disagree with the build. */
#include "runtime.h"
#include "config.h"
#include <stdio.h>
#include <string.h>

#ifndef PB_COMMIT
#define PB_COMMIT "unknown"
#endif
#ifndef PB_MARCH
#define PB_MARCH ""
#endif

int runtime_uses_blas(void) {
#ifdef USE_BLAS
    return 1;
#else
    return 0;
#endif
}

const char *runtime_build_info(void) {
    static char info[512];
    if (info[0]) return info;
#if defined(__clang__)
    const char *cc = "clang " __clang_version__;
#elif defined(__GNUC__)
    const char *cc = "gcc " __VERSION__;
#else
    const char *cc = "cc";
#endif
#ifdef _OPENMP
    const char *omp = "OpenMP";
#else
    const char *omp = "no OpenMP";
#endif
    snprintf(info, sizeof info, "%s, %s, %s, %s, commit %s",
             runtime_uses_blas() ? "OpenBLAS" : "naive matmul (no BLAS)", omp,
             PB_MARCH[0] ? PB_MARCH : "no -march", cc, PB_COMMIT);
    return info;
}

const char *runtime_commit(void) {
    static char commit[64];
    if (commit[0]) return commit;
    snprintf(commit, sizeof commit, "%s", PB_COMMIT);
    if (strcmp(commit, "unknown")) return commit;
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse --short HEAD 2>/dev/null", posbench_home());
    FILE *p = popen(cmd, "r");
    if (p) {
        char buf[64];
        if (fgets(buf, sizeof buf, p)) {
            buf[strcspn(buf, "\n")] = 0;
            if (buf[0]) snprintf(commit, sizeof commit, "%s", buf);
        }
        pclose(p);
    }
    return commit;
}
