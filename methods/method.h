/* method.h — the position-method plug-in interface (SPEC §3).
 *
 * A method may touch three places in the model; each is an optional hook with
 * its own backward (a NULL pointer means "not used"):
 *   embed — add an absolute term to the scaled token embeddings (sinusoidal, learned)
 *   qk    — transform each head's q and k before the dot product (rotary, xPos)
 *   bias  — add bias(h, i, j) to the attention logits (T5, ALiBi, KERPLE, FIRE)
 * Positions are counted from 0 at the start of every window.
 *
 * Backward hooks ACCUMULATE (+=) into ctx->dparams. qk transforms must be linear
 * in x (rotations and per-position scales are), so their backward applies the
 * transpose to the gradient in place and needs no saved input.
 *
 * Learnable parameters are declared as named tensors ("pos.t5.table"); the
 * model carves them out of its parameter arena, so AdamW, clipping and
 * checkpoints treat them like any other weight. Precomputed tables (rotary
 * cos/sin, sinusoidal PE, ALiBi slopes, T5 buckets) live in a cache the model
 * owns and refills whenever it needs a longer length: cache_size/cache_fill.
 *
 * The bias hook works on a tile of queries x keys, so attention at 32x the
 * training length never needs a T x T buffer.
 *
 * Adding a method: one .c file defining `const PosMethod pos_<name>`, one line
 * in registry.c, one line in tests/methods_table.h. See methods/README.md.
 */
#ifndef POSBENCH_METHOD_H
#define POSBENCH_METHOD_H
#include <stddef.h>
#include "../common/util.h"

#define POS_MAX_TENSORS 4
#define POS_NAME_LEN 64

typedef struct PosConfig {
    int n_head;      /* NH */
    int head_dim;    /* hs */
    int d_model;     /* C = NH * hs */
    int train_len;   /* L the model is (or was) trained at */
    /* Evaluation-time option, set by the method's parse_option (e.g. rotary
     * "pi=4" for position interpolation); 0/0.0 means "as trained". */
    int variant;
    float factor;
} PosConfig;

typedef struct PosTensor {
    char name[POS_NAME_LEN];   /* checkpoint name, "pos.<method>.<what>" */
    int ndim;                  /* 1 or 2 */
    int shape[2];
} PosTensor;

/* Everything a hook may read; built by the model for each call site. */
typedef struct PosCtx {
    PosConfig cfg;
    const float *params;   /* the method's slice of the parameter arena (NULL if none) */
    float *dparams;        /* its slice of the gradient arena (NULL when not training) */
    const float *cache;    /* the method's precomputed tables, valid for positions < cache_len */
    int cache_len;
} PosCtx;

typedef struct PosMethod {
    const char *name;
    const char *summary;   /* one line for `posbench methods` */

    /* Learnable parameters (NULL = none): fill out[] and return the count. */
    int (*tensors)(PosTensor out[POS_MAX_TENSORS], const PosConfig *cfg);
    /* Initialise them (NULL = zeros). params holds all tensors back to back. */
    void (*init)(float *params, const PosConfig *cfg, Rng *rng);

    /* Cache of precomputed tables for positions < T (NULL = none). */
    size_t (*cache_size)(const PosConfig *cfg, int T);          /* in floats */
    void (*cache_fill)(float *cache, const PosConfig *cfg, int T);

    /* NULL = every length works. Otherwise 0 if length T is fine, else -1 with
     * the reason in err ("not applicable: the learned table has 128 rows"). */
    int (*check_len)(const PosConfig *cfg, int T, char *err, size_t errlen);
    /* Evaluation-time option "key=value" (NULL = method takes none). 0 ok, -1 + err. */
    int (*parse_option)(PosConfig *cfg, const char *key, const char *value, char *err, size_t errlen);
    const char *options_help;   /* e.g. "pi=F (position interpolation)"; NULL if none */

    /* embed: x (T, C) for one sequence; x[t, c] += PE(t, c). */
    void (*embed_forward)(float *x, int T, const PosCtx *ctx);
    /* dparams += dPE: dx (T, C) is the gradient reaching the embedding sum. */
    void (*embed_backward)(const float *dx, int T, const PosCtx *ctx);

    /* qk: x (T, hs) rows of one head's q (is_key 0) or k (is_key 1), in place. */
    void (*qk_forward)(float *x, int T, int head, int is_key, const PosCtx *ctx);
    /* dx (T, hs) in place: dx_in = J^T dx_out (the transform is linear in x). */
    void (*qk_backward)(float *dx, int T, int head, int is_key, const PosCtx *ctx);

    /* bias: scores is a tile of ni x nj with row stride ld, for queries
     * i0..i0+ni-1 and keys j0..j0+nj-1 of head h; scores[r*ld+c] += bias(h, i0+r, j0+c).
     * Entries with j > i may be written (they are masked afterwards). */
    void (*bias_add)(float *scores, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx);
    /* dparams += sum over the tile's causal entries (j <= i) of dscores * dbias/dparams. */
    void (*bias_backward)(const float *dscores, int ld, int h, int i0, int ni, int j0, int nj,
                          const PosCtx *ctx);

    /* Extra CSV columns for `posbench inspect` on bias methods (NULL = none),
     * e.g. "bucket"; extra_values writes the values for (h, i, j) without a comma prefix. */
    const char *inspect_columns;
    void (*inspect_values)(char *buf, size_t n, int h, int i, int j, const PosCtx *ctx);
} PosMethod;

/* Registry (registry.c) */
extern const PosMethod *const pos_methods[];
extern const int pos_method_count;
const PosMethod *pos_method_find(const char *name);   /* NULL if unknown */
/* "nope, sinusoidal, ..." for error messages */
const char *pos_method_names(void);

/* Helpers shared by every method and the model. */
size_t pos_param_count(const PosMethod *m, const PosConfig *cfg);
int pos_hooks_string(const PosMethod *m, char *buf, size_t n);   /* "embed", "qk", "bias", "-" */
/* Parse "k=v,k2=v2" through m->parse_option. 0 ok, -1 + err. */
int pos_apply_options(const PosMethod *m, PosConfig *cfg, const char *opts, char *err, size_t errlen);

#endif
