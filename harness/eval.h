/* eval.h — scoring a token stream with a model at window length W (docs/DEFINITIONS.md, Evaluation).
 *
 * Windows start at 0, S, 2S, ...; a window at s feeds x[s .. s+w) and predicts
 * x[s+1 .. s+w], w = min(W, N-1-s). Each target is scored once, by the first
 * window that reaches it: the first window scores all its targets, each later
 * one its last S (the final partial window scores what is new). S = W is the
 * paper's nonoverlapping evaluation; S = 1 its sliding-window evaluation.
 * Every token but x[0] is scored exactly once.
 */
#ifndef POSBENCH_EVAL_H
#define POSBENCH_EVAL_H
#include <stdint.h>
#include "../model/model.h"
#include "runtime.h"

typedef struct EvalResult {
    long W, S;
    long scored;          /* targets scored */
    long processed;       /* tokens fed through the model (>= scored when S < W) */
    double nll;           /* total NLL in nats */
    double seconds;       /* model time only */
} EvalResult;

/* x (N) tokens. pos_sum/pos_cnt (W) accumulate per-position NLL of every window
 * (pass NULL to skip). progress may be NULL. */
void eval_stream(Model *m, const uint16_t *x, size_t N, long W, long S, double *pos_sum, long *pos_cnt,
                 EvalResult *r, Progress *progress);

#endif
