/* runtime.h — what the harness needs from the machine: thread setup shared by
 * OpenMP and OpenBLAS (one pool, no oversubscription), a description of the
 * CPU and BLAS for meta.json, and progress output (a bar with ETA on a
 * terminal, plain periodic lines otherwise).
 */
#ifndef POSBENCH_RUNTIME_H
#define POSBENCH_RUNTIME_H
#include <stdio.h>

/* Settle, before OpenMP and OpenBLAS initialise, two settings they read only
 * at load time, by re-executing this program once with them in the environment:
 *   OMP_WAIT_POLICY=passive unless set — spinning waits are ruinous when another
 *     process shares the cores (measured: a training step 10x slower);
 *   OPENBLAS_CORETYPE from the CPU's flags unless set (SkylakeX with AVX-512,
 *     Haswell with AVX2+FMA) — OpenBLAS 0.3.21 does not recognise newer CPUs and
 *     falls back to its SSE3 kernels, 3-5x slower.
 * A user's own values are kept. Returns only when nothing needs changing. */
void runtime_prepare_env(char **argv);
/* The kernel set the CPU flags call for ("SkylakeX", "Haswell") or NULL. */
const char *runtime_best_coretype(void);
/* 1 if OPENBLAS_CORETYPE was chosen by runtime_prepare_env, not by the user. */
int runtime_coretype_chosen(void);

/* n <= 0: all cores. Sets OpenMP's and OpenBLAS's thread counts alike; returns the count used. */
int runtime_set_threads(int n);
int runtime_threads(void);
const char *runtime_cpu_name(void);       /* "Intel(R) Xeon(R) ..." */
const char *runtime_blas_name(void);      /* "OpenBLAS 0.3.21 ..." or "naive (NO_BLAS build)" */
const char *runtime_blas_core(void);      /* OpenBLAS's kernel set ("SkylakeX", "Haswell") or "-" */
const char *runtime_commit(void);
/* How the binary was built: "OpenBLAS, OpenMP, -march=native, gcc 12.2.0, commit abc1234" (version.c). */
const char *runtime_build_info(void);
int runtime_uses_blas(void);              /* 1 unless built with the naive matmul */
/* One warning line on stderr when this binary runs the naive matmul (10-40x slower
 * than OpenBLAS); silent when POSBENCH_NAIVE_OK=1 (tests that build naive on purpose). */
void runtime_warn_naive(void);         /* git commit of the source tree, or "unknown" */
void runtime_iso_time(char *buf, size_t n);  /* "2026-11-21T18:48:50Z" */

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
