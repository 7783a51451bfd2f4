/* runtime.c — see runtime.h */
#include "runtime.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef USE_BLAS
#include <cblas.h>
#endif
#include "../common/util.h"
#include "config.h"

static int cpu_has(const char *flags, const char *flag) {
    size_t n = strlen(flag);
    for (const char *p = flags; (p = strstr(p, flag)); p += n)
        if ((p == flags || p[-1] == ' ' || p[-1] == '\t') && (p[n] == ' ' || p[n] == '\n' || p[n] == 0)) return 1;
    return 0;
}

const char *runtime_best_coretype(void) {
#if defined(__x86_64__)
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return NULL;
    static char line[8192];
    const char *best = NULL;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        if (cpu_has(line, "avx512f") && cpu_has(line, "avx512bw") && cpu_has(line, "avx512dq") &&
            cpu_has(line, "avx512vl"))
            best = "SkylakeX";
        else if (cpu_has(line, "avx2") && cpu_has(line, "fma"))
            best = "Haswell";
        break;
    }
    fclose(f);
    return best;
#else
    return NULL;
#endif
}

int runtime_coretype_chosen(void) {
    const char *v = getenv("POSBENCH_CORETYPE_CHOSEN");
    return v && !strcmp(v, "1");
}

void runtime_prepare_env(char **argv) {
    if (getenv("POSBENCH_ENV_READY")) return;
    setenv("POSBENCH_ENV_READY", "1", 1);
    int changed = 0;
    if (!getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        changed = 1;
    }
#ifdef USE_BLAS
    const char *core = runtime_best_coretype();
    if (!getenv("OPENBLAS_CORETYPE") && core) {
        setenv("OPENBLAS_CORETYPE", core, 1);
        setenv("POSBENCH_CORETYPE_CHOSEN", "1", 1);
        changed = 1;
    }
#endif
    if (!changed) return;
    fflush(stdout);
    fflush(stderr);
    execv("/proc/self/exe", argv);   /* on failure, carry on with the defaults */
}

int runtime_set_threads(int n) {
    if (n <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
#ifdef USE_BLAS
    openblas_set_num_threads(n);
#endif
    return n;
}

int runtime_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

const char *runtime_cpu_name(void) {
    static char name[256];
    if (name[0]) return name;
    snprintf(name, sizeof name, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return name;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ') c++;
                c[strcspn(c, "\n")] = 0;
                snprintf(name, sizeof name, "%s", c);
            }
            break;
        }
    fclose(f);
    return name;
}

const char *runtime_blas_name(void) {
#ifdef USE_BLAS
    static char name[256];
    snprintf(name, sizeof name, "OpenBLAS (%s)", openblas_get_config());
    return name;
#else
    return "naive (NO_BLAS build)";
#endif
}

const char *runtime_blas_core(void) {
#ifdef USE_BLAS
    return openblas_get_corename();
#else
    return "-";
#endif
}

const char *runtime_commit(void) {
    static char commit[64];
    if (commit[0]) return commit;
    snprintf(commit, sizeof commit, "unknown");
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

void runtime_warn_naive(void) {
    if (runtime_uses_blas()) return;
    const char *ok = getenv("POSBENCH_NAIVE_OK");
    if (ok && !strcmp(ok, "1")) return;
    int installed = access("/usr/include/x86_64-linux-gnu/cblas.h", F_OK) == 0 ||
                    access("/usr/include/aarch64-linux-gnu/cblas.h", F_OK) == 0 ||
                    access("/usr/include/cblas.h", F_OK) == 0;
    fprintf(stderr, "posbench: warning: this binary was built without OpenBLAS (naive matmul, 10-40x slower)%s\n",
            installed ? "; OpenBLAS is installed now: run `make clean && make`"
                      : "; install libopenblas-openmp-dev (`make deps`) and rebuild");
}

void runtime_iso_time(char *buf, size_t n) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void progress_start(Progress *p, const char *label, long total) {
    p->label = label;
    p->total = total;
    p->done = 0;
    p->t0 = now_seconds();
    p->last_print = 0;
    p->tty = isatty(fileno(stderr));
}

static void fmt_duration(char *buf, size_t n, double s) {
    if (s < 0 || s > 1e7) snprintf(buf, n, "--");
    else if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static void progress_print(Progress *p, const char *status, int final) {
    double el = now_seconds() - p->t0;
    double eta = p->done > 0 ? el * (p->total - p->done) / p->done : -1;
    char e1[32], e2[32];
    fmt_duration(e1, sizeof e1, el);
    fmt_duration(e2, sizeof e2, eta);
    if (p->tty) {
        int width = 24, fill = p->total ? (int)(width * p->done / p->total) : width;
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r\033[K%s [%s] %ld/%ld  %s  %s elapsed, ETA %s", p->label, bar, p->done, p->total,
                status, e1, e2);
        if (final) fputc('\n', stderr);
    } else {
        fprintf(stderr, "%s: %ld/%ld  %s  (%s elapsed, ETA %s)\n", p->label, p->done, p->total, status, e1, e2);
    }
    fflush(stderr);
}

void progress_update(Progress *p, long done, const char *status) {
    p->done = done;
    double t = now_seconds();
    double every = p->tty ? 0.25 : 10.0;
    if (t - p->last_print < every) return;
    p->last_print = t;
    progress_print(p, status, 0);
}

void progress_end(Progress *p, const char *status) {
    p->done = p->total;
    progress_print(p, status, 1);
}
