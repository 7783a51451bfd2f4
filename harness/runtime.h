/* runtime.h — what the harness needs from the machine: thread setup shared by
 * OpenMP and OpenBLAS (one pool, no oversubscription), a description of the
 * CPU and BLAS for meta.json, and progress output (a bar with ETA on a
 * terminal, plain periodic lines otherwise).
 */
#ifndef POSBENCH_RUNTIME_H
#define POSBENCH_RUNTIME_H
#include <stdio.h>
#include <time.h>

/* Settle, before OpenMP and OpenBLAS initialise, two settings they read only
 * at load time, by re-executing this program once with them in the environment:
 *   OMP_WAIT_POLICY=passive unless set — spinning waits are ruinous when another
 *     process shares the cores (measured: a training step 10x slower); with it,
 *     unless set, GOMP_SPINCOUNT=RUNTIME_SPINCOUNT: a waiting thread spins that
 *     many rounds (about 10 us) before it sleeps. Without any spin, 2 threads
 *     trained the quick model no faster than 1 (each wake-up goes through the
 *     kernel); with 1000 rounds 1.6x faster, and two such processes sharing 2
 *     cores 1.3x slower than without (README: Threads);
 *   OPENBLAS_CORETYPE from the CPU's flags unless set (SkylakeX with AVX-512,
 *     Haswell with AVX2+FMA) — OpenBLAS 0.3.21 does not recognise newer CPUs and
 *     falls back to its SSE3 kernels, 3-5x slower.
 * A user's own values are kept. Returns only when nothing needs changing. */
#define RUNTIME_SPINCOUNT "1000"
void runtime_prepare_env(char **argv);
/* The kernel set the CPU flags call for ("SkylakeX", "Haswell") or NULL. */
const char *runtime_best_coretype(void);
/* 1 if OPENBLAS_CORETYPE was chosen by runtime_prepare_env, not by the user. */
int runtime_coretype_chosen(void);

/* ---- kernel choice (issue 15) ----
 * `posbench bench` measures the sgemm peak of every OpenBLAS kernel set this CPU
 * can run, each checked against the naive product first, and keeps the figures
 * in a small cache file: $POSBENCH_KERNEL_CACHE, else $XDG_CACHE_HOME/posbench/
 * kernels.tsv, else ~/.cache/posbench/kernels.tsv. Lines: "cpu<TAB>NAME",
 * "date<TAB>ISO", then "CORE<TAB>GFLOPS<TAB>ok|wrong". */
#define KERNEL_ADVICE_RATIO 1.25   /* a faster set is named when it beats the one in use by this much */
typedef struct KernelPeak {
    char core[64];
    double gflops;
    int correct;
} KernelPeak;
const char *runtime_kernel_cache_path(void);
/* Write the cache for this CPU (atomically); 0, or -1 with a reason on stderr. */
int runtime_kernel_cache_write(const KernelPeak *k, int n);
/* The cached peaks when the cache is for this CPU: count (0: none); *date gets its date. */
int runtime_kernel_cache_read(KernelPeak *k, int max, char *date, size_t date_len);
/* When a faster correct kernel set than the one in use is known (cached by bench,
 * more than KERNEL_ADVICE_RATIO times as fast), or the set in use is older than the CPU's best and no
 * measurement says otherwise: one line saying so and how to switch, into buf; else "".
 * Reads a small file only: no measurement. */
void runtime_kernel_advice(char *buf, size_t n);
/* The advice on stderr, once per command tree (children stay quiet); train and sweep call it
 * once their input is validated, so a refused command still prints one line only. */
void runtime_kernel_notice(void);

/* ---- training precision ----
 * want "fp32" or "bf16": turns the bf16 products on (ops_set_bf16) when asked and
 * the CPU can run them; otherwise fp32 with ONE warning line per command tree.
 * Returns what runs: "fp32", "bf16", or "fp32 (bf16 unavailable: REASON)". */
const char *runtime_use_precision(const char *want);

/* n <= 0: all cores. Sets OpenMP's and OpenBLAS's thread counts alike; returns the count used. */
int runtime_set_threads(int n);
int runtime_threads(void);
const char *runtime_cpu_name(void);       /* "Intel(R) Xeon(R) ..." */
const char *runtime_blas_name(void);      /* "OpenBLAS 0.3.21 ..." or "naive (NO_BLAS build)" */
const char *runtime_blas_core(void);      /* OpenBLAS's kernel set ("SkylakeX", "Haswell") or "-" */
/* The commit this binary was built from (as `git describe --always --dirty` said at build
 * time: a copied or stale binary still names its own code); the source tree's HEAD only when
 * the build did not know it. "unknown" without either. (version.c) */
const char *runtime_commit(void);
/* How the binary was built: "OpenBLAS, OpenMP, -march=native, gcc 12.2.0, commit abc1234" (version.c). */
const char *runtime_build_info(void);
int runtime_uses_blas(void);              /* 1 unless built with the naive matmul */
/* One warning line on stderr when this binary runs the naive matmul (10-40x slower
 * than OpenBLAS); silent when POSBENCH_NAIVE_OK=1 (tests that build naive on purpose). */
void runtime_warn_naive(void);         /* git commit of the source tree, or "unknown" */
void runtime_iso_time(char *buf, size_t n);  /* now, "2026-11-21T18:48:50Z" */
void runtime_iso_time_at(time_t t, char *buf, size_t n);   /* the same for time t */

typedef struct Progress {
    const char *label;
    long total, done;
    double t0, last_print;
    int tty;
} Progress;
void progress_start(Progress *p, const char *label, long total);
/* Update; `status` is a short string like "loss 2.31  41k tok/s". Prints at most ~4/s on a
 * terminal, every `log_every_s` seconds otherwise. */
void progress_update(Progress *p, long done, const char *status);
void progress_end(Progress *p, const char *status);

#endif
