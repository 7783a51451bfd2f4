/* sections.h — report.md sections about the science of a run, one function
 * each, called by write_report (report.c) in this order:
 *   convergence  training budget per model and whether its held-out loss had settled;
 *   significance seed statistics: 95% intervals and paired differences between methods;
 *   headline     the paper's claim: ALiBi trained at L against sinusoidal trained at longer L;
 *   learned      the biases a learned bias method ended with, per head and distance;
 *   probes       retrieval probes: positive control and effective context per method (probes.c);
 *   variants     the best of each method and its evaluation-time variants per length (probes.c).
 * A section whose data the run lacks writes nothing.
 */
#ifndef POSBENCH_PLOTS_SECTIONS_H
#define POSBENCH_PLOTS_SECTIONS_H
#include <stdio.h>
#include "run.h"

/* Converged: the held-out loss changed by less than this over the last 20% of
 * training, (v(s) − v(last)) / v(last) with s the last measured step <= 0.8 * last
 * (so the window covers at least the last 20%). */
#define CONVERGED_BELOW 0.02

void report_convergence(FILE *f, const Run *r);
void report_significance(FILE *f, const Run *r);
void report_headline(FILE *f, const Run *r);
void report_learned(FILE *f, const Run *r);
/* A probe "retrieves" at accuracy >= this (effective context, positive control). */
#define PROBE_THRESHOLD 0.5
void report_probes(FILE *f, const Run *r);
void report_variants(FILE *f, const Run *r);

/* The held-out curve of (m, L, seed): final value and relative change from step
 * `from` (the last measured step <= 0.8 * the last one) to the end; steps and tokens
 * trained. 0, or -1 without a held-out curve. */
typedef struct Convergence {
    long steps, from;
    double tokens, final_val, change;
} Convergence;
int convergence_of(const Run *r, int m, long L, long seed, Convergence *c);

#endif
