/* runtime.c — see runtime.h */
#include "runtime.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef USE_BLAS
#include <cblas.h>
#endif
#include "../common/util.h"
#include "../model/gemm_bf16.h"
#include "../model/ops.h"
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
        /* passive alone wakes every sleeping thread through the kernel at each of a
         * step's ~200 parallel regions: a bounded spin first (about 10 us) */
        if (!getenv("GOMP_SPINCOUNT")) setenv("GOMP_SPINCOUNT", RUNTIME_SPINCOUNT, 1);
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

void runtime_iso_time_at(time_t t, char *buf, size_t n) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void runtime_iso_time(char *buf, size_t n) { runtime_iso_time_at(time(NULL), buf, n); }

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

/* ---- kernel choice ---------------------------------------------------------- */

const char *runtime_kernel_cache_path(void) {
    static char path[4200];
    const char *env = getenv("POSBENCH_KERNEL_CACHE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (env && *env) snprintf(path, sizeof path, "%s", env);
    else if (xdg && *xdg) snprintf(path, sizeof path, "%s/posbench/kernels.tsv", xdg);
    else snprintf(path, sizeof path, "%s/.cache/posbench/kernels.tsv", home && *home ? home : ".");
    return path;
}

int runtime_kernel_cache_write(const KernelPeak *k, int n) {
    char dir[4200], err[ERRLEN], date[64];
    const char *path = runtime_kernel_cache_path();
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    AtomicFile af;
    if ((slash && mkdir_p(dir, err, sizeof err) != 0) || atomic_open(&af, path, "w", err, sizeof err) != 0) {
        fprintf(stderr, "posbench: note: the kernel measurements were not cached (%s)\n", err);
        return -1;
    }
    runtime_iso_time(date, sizeof date);
    fprintf(af.fp, "cpu\t%s\ndate\t%s\n", runtime_cpu_name(), date);
    for (int i = 0; i < n; i++) fprintf(af.fp, "%s\t%.2f\t%s\n", k[i].core, k[i].gflops, k[i].correct ? "ok" : "wrong");
    if (atomic_commit(&af, err, sizeof err) != 0) {
        fprintf(stderr, "posbench: note: the kernel measurements were not cached (%s)\n", err);
        return -1;
    }
    return 0;
}

int runtime_kernel_cache_read(KernelPeak *k, int max, char *date, size_t date_len) {
    FILE *f = fopen(runtime_kernel_cache_path(), "r");
    if (!f) return 0;
    char line[512];
    int n = 0, same_cpu = 0;
    if (date_len) date[0] = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        const char *val = tab + 1;
        if (!strcmp(line, "cpu")) same_cpu = !strcmp(val, runtime_cpu_name());
        else if (!strcmp(line, "date") && date_len) snprintf(date, date_len, "%.40s", val);
        else if (n < max) {
            char ok[16] = "";
            double g;
            if (sscanf(val, "%lf\t%15s", &g, ok) == 2 && g > 0) {
                snprintf(k[n].core, sizeof k[n].core, "%.63s", line);
                k[n].gflops = g;
                k[n].correct = !strcmp(ok, "ok");
                n++;
            }
        }
    }
    fclose(f);
    return same_cpu ? n : 0;
}

void runtime_kernel_advice(char *buf, size_t n) {
    buf[0] = 0;
#ifdef USE_BLAS
    const char *cur = runtime_blas_core(), *env = getenv("OPENBLAS_CORETYPE");
    const char *how = !env ? "OpenBLAS's detection" : runtime_coretype_chosen() ? "chosen from the CPU flags"
                                                                                 : "OPENBLAS_CORETYPE";
    KernelPeak k[16];
    char date[64];
    int nk = runtime_kernel_cache_read(k, 16, date, sizeof date);
    const KernelPeak *in_use = NULL, *best = NULL;
    for (int i = 0; i < nk; i++) {
        if (!strcasecmp(k[i].core, cur)) in_use = &k[i];
        if (k[i].correct && (!best || k[i].gflops > best->gflops)) best = &k[i];
    }
    if (in_use && best && strcasecmp(best->core, cur) && best->gflops > KERNEL_ADVICE_RATIO * in_use->gflops) {
        snprintf(buf, n, "posbench: OpenBLAS kernels %s in use (%s); %s ran sgemm %.2fx faster on this machine "
                 "(posbench bench, %s); to use them: export OPENBLAS_CORETYPE=%s (README: Kernel choice)",
                 cur, how, best->core, best->gflops / in_use->gflops, date, best->core);
        return;
    }
    const char *cpu_best = runtime_best_coretype();
    if (!in_use && cpu_best && strcasecmp(cpu_best, cur))
        snprintf(buf, n, "posbench: OpenBLAS kernels %s in use (%s); this CPU can run %s, usually faster (not "
                 "measured here yet: `posbench bench --kernels` checks and times both)", cur, how, cpu_best);
#endif
}

void runtime_kernel_notice(void) {
    if (getenv("POSBENCH_KERNEL_NOTICE_DONE")) return;
    setenv("POSBENCH_KERNEL_NOTICE_DONE", "1", 1);
    char buf[1024];
    runtime_kernel_advice(buf, sizeof buf);
    if (buf[0]) fprintf(stderr, "%s\n", buf);
}

/* ---- training precision ---------------------------------------------------- */

const char *runtime_use_precision(const char *want) {
    static char ran[128];
    ops_set_bf16(0);
    if (!want || strcmp(want, "bf16")) return "fp32";
    if (gemm_bf16_available()) {
        ops_set_bf16(1);
        return "bf16";
    }
    snprintf(ran, sizeof ran, "fp32 (bf16 unavailable: %s)", gemm_bf16_why_not());
    if (!getenv("POSBENCH_BF16_WARNED")) {
        fprintf(stderr, "posbench: warning: precision = bf16 needs AVX-512-BF16 (%s); training in fp32\n",
                gemm_bf16_why_not());
        setenv("POSBENCH_BF16_WARNED", "1", 1);
    }
    return ran;
}
