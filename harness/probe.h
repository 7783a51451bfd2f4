/* probe.h — retrieval probes: does a model read back what it saw D tokens ago?
 * (docs/DEFINITIONS.md, Probes). One probe is a sequence x[0..T] (T + 1 tokens: the window
 * reads x[0..T) and predicts x[1..T]) built from held-out text with a planted string:
 *
 *   copy     filler, s (k random tokens from PROBE_COPY_ALPHABET), D filler tokens, s again
 *            ending the window. Scored: the second copy's tokens but its first (k - 1
 *            targets): mean NLL and top-1 accuracy; chance 1 / |alphabet|.
 *   passkey  filler, "the pass key is NNNNN. ", D filler tokens, "the pass key is NNNNN"
 *            ending the window. Scored: the five digits of the second sentence. Exact match
 *            of the greedy continuation (= all five digits top-1 given the true digits
 *            before them) per key, chance 1e-5; and per-digit top-1 accuracy, chance 1/10.
 *
 * Tokens are bytes: with the byte tokenizer a token id is the byte; with BPE the planted
 * strings are spelled as byte tokens (ids 0..255 are the bytes there too).
 * The filler is held-out text: T + 1 - (planted tokens) consecutive tokens from a random
 * offset in the split, with the planted strings spliced in.
 */
#ifndef POSBENCH_PROBE_H
#define POSBENCH_PROBE_H
#include <stdint.h>
#include <stdio.h>
#include "../common/util.h"

#define PROBE_COPY_ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789"
#define PROBE_PASSKEY_INTRO "the pass key is "
#define PROBE_PASSKEY_DIGITS 5

typedef enum { PROBE_COPY, PROBE_PASSKEY, PROBE_KINDS } ProbeKind;

typedef struct ProbeLayout {
    long T, D;
    long first, second;   /* x index where the first / second planted string starts */
    long len;             /* tokens in the planted string (copy: k; passkey: the sentence without ". ") */
    long score_from;      /* scored targets t (predicting x[t+1]) are score_from .. T-1 */
} ProbeLayout;

const char *probe_kind_name(ProbeKind kind);          /* "copy", "passkey" */
int probe_kind_parse(const char *name);               /* ProbeKind, or -1 */
/* The largest distance D that fits a window of T tokens (filler before the first string >= 1),
 * or -1 when none does. k: the copy string's length. */
long probe_max_distance(ProbeKind kind, long T, int k);
/* Default distances for window T: 16, 32, 64, ... up to probe_max_distance. Returns the count. */
int probe_default_distances(ProbeKind kind, long T, int k, long *out, int max);

/* Build one probe into x (T + 1 ints) from text[0..n_text) (n_text > T + 1), drawing the
 * offset and the string from rng. 0, or -1 when D does not fit T. */
int probe_build(ProbeKind kind, long T, long D, int k, const uint16_t *text, size_t n_text, Rng *rng, int *x,
                ProbeLayout *lay);
/* The same with the filler offset given (off + fillers <= n_text; probe_run draws one per (T, D)). */
int probe_build_at(ProbeKind kind, long T, long D, int k, const uint16_t *text, size_t n_text, size_t off, Rng *rng,
                   int *x, ProbeLayout *lay);

/* Training mixture (config key train_copy_mix): in the sequence x[0..n) (a window's inputs and
 * its last target), overwrite two places with one random string of k alphabet tokens: the first
 * at a uniform position p >= 1, the second D tokens after its end, D uniform in what fits. */
void probe_plant_copy(int *x, long n, int k, Rng *rng);

/* Score a window: nll[t] and top1[t] for t >= top1_from, as model_eval_window_top1. shared: how
 * many leading inputs are the same in every window of this (T, D) (the filler before the first
 * string), which a scorer may compute once (model_eval_window_prefix). */
typedef void (*ProbeScorer)(void *ctx, const int *inputs, const int *targets, int T, int shared, float *nll,
                            int *top1, int top1_from);

/* Totals over n probes of one (kind, T, D). */
typedef struct ProbeStats {
    long n;                 /* probes */
    long tokens, correct;   /* scored targets, top-1 correct among them */
    long exact;             /* passkey: probes with every digit correct */
    double nll;             /* summed NLL of the scored targets */
} ProbeStats;

/* Score one built probe x with scorer into st. nll, top1: (T) scratch. */
void probe_score(ProbeKind kind, const int *x, const ProbeLayout *lay, ProbeScorer scorer, void *ctx, float *nll,
                 int *top1, ProbeStats *st);
/* n probes of (kind, T, D) built from text with rng, scored into st (zeroed first): one filler
 * offset for all n (so they share the filler), each its own string or key. */
void probe_run(ProbeKind kind, long T, long D, int k, long n, const uint16_t *text, size_t n_text, Rng *rng,
               ProbeScorer scorer, void *ctx, ProbeStats *st);

/* Wilson score interval for `hits` successes in n trials at 95% (z = 1.959964); n = 0: [0, 1]. */
void wilson_interval(long hits, long n, double *lo, double *hi);

/* The rows of probes.csv (common/runfiles.h probes_cols) for one (kind, T, D):
 * copy: one row (acc per scored token); passkey: "passkey" (exact match per key) and
 * "passkey_digit" (per digit). Column n is the number of trials behind acc and lo, hi. */
void probe_write_rows(FILE *f, const char *method, long L, int seed, ProbeKind kind, long T, long D, int k,
                      const ProbeStats *st);

#endif
