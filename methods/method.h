/* method.h — the position-method plug-in interface (methods/README.md).
 *
 * A method may touch three places in the model; each is an optional hook with
 * its own backward (a NULL pointer means "not used"):
 *   embed — add an absolute term to the scaled token embeddings (sinusoidal, learned)
 *   qk    — transform each head's q and k before the dot product (rotary, xPos)
 *   bias  — add bias(h, i, j) to the attention logits (T5, ALiBi, KERPLE)
 *   data  — compute per-position, per-head values from the attention input
 *           (the LayerNorm output that feeds q, k, v), from which the bias hook
 *           forms its tiles (FoX); the data-free bias methods are its special
 *           case with no data hook
 * Positions are counted from 0 at the start of every window. The qk and bias
 * hooks run once per layer and see the layer in ctx->layer (0..n_layer-1);
 * the embed hook runs once, before the first block, with ctx->layer = 0.
 *
 * Backward hooks ACCUMULATE (+=) into ctx->dp[k]. qk transforms must be linear
 * in x (rotations and per-position scales are), so their backward applies the
 * transpose to the gradient in place and needs no saved input.
 *
 * Learnable parameters are declared as named tensors, any number of them, each
 * shared by all layers or per layer (the model carves a per-layer tensor
 * n_layer times, "blocks.<l>.pos.<method>.<what>") and each saying whether
 * AdamW's weight decay applies. The model carves them out of its parameter
 * arena, so AdamW, clipping and checkpoints treat them like any other weight;
 * a hook reads tensor k, as its layer sees it, at ctx->p[k].
 *
 * Options: a method lists named, typed options with defaults and ranges; their
 * values live in cfg.opt[] in the listed order. They are given at training as
 * part of the method spec ("xpos:gamma=256") and, for those marked at_eval, at
 * evaluation (--option gamma=256).
 *
 * Adding a method: one .c file defining `const PosMethod pos_<name>`, one line
 * in registry.c, one fixture command. See methods/README.md.
 */
#ifndef POSBENCH_METHOD_H
#define POSBENCH_METHOD_H
#include <stddef.h>
#include "../common/util.h"

#define POS_NAME_LEN 64
#define POS_MAX_OPTIONS 8
#define POS_SPEC_LEN 96     /* "name:key=value:key=value" */

/* A named, typed option. Values are doubles in cfg.opt[]; type 'i' accepts
 * whole numbers only. */
typedef struct PosOption {
    const char *key;    /* "gamma" */
    char type;          /* 'f' real, 'i' integer */
    double def, lo, hi; /* default; accepted range lo <= v <= hi */
    int at_eval;        /* 1: --option may change it at evaluation */
    const char *help;   /* one line */
} PosOption;

typedef struct PosConfig {
    int n_head;      /* NH */
    int head_dim;    /* hs */
    int d_model;     /* C = NH * hs */
    int train_len;   /* L the model is (or was) trained at */
    int n_layer;     /* blocks; per-layer tensors have this many copies */
    double opt[POS_MAX_OPTIONS];   /* option values, in the method's options[] order */
    const struct PosLayers *layers;   /* a per-layer composition (layers.c), else NULL */
} PosConfig;

typedef struct PosTensor {
    char name[POS_NAME_LEN];   /* "pos.<method>.<what>" */
    int ndim;                  /* 1 or 2 */
    int shape[2];
    int per_layer;             /* 1: one copy per layer; 0: one copy shared by every layer */
    int decay;                 /* 1: AdamW weight decay applies (no rule by rank) */
} PosTensor;

/* Everything a hook may read; built by the model for each call site. */
typedef struct PosCtx {
    PosConfig cfg;
    int layer;                 /* the block this call is for, 0..n_layer-1 */
    const float *const *p;     /* p[k]: tensor k as this layer sees it (NULL if no tensors) */
    float *const *dp;          /* dp[k]: its gradient (NULL when not training) */
    const float *cache;        /* the method's precomputed tables, valid for positions < cache_len */
    int cache_len;
    const float *table;        /* this layer's table from table_fill (NULL if the method has none) */
    int table_len;             /* the T it was filled for */
    /* Data-dependent methods only (NULL otherwise): the values data_forward
     * wrote for the sequence a bias hook is called for, (NH, T), and their
     * gradient, which bias_backward accumulates (NULL when not training).
     * Callers holding B sequences point them at sequence b with pos_ctx_seq.
     * data_len is T, the row length: head h's values are data + h * data_len. */
    const float *data;
    float *ddata;
    int data_len;
} PosCtx;

/* ctx for sequence b of a batch whose data is laid out (B, NH, data_len). */
static inline PosCtx pos_ctx_seq(const PosCtx *ctx, int b) {
    PosCtx c = *ctx;
    size_t off = (size_t)b * ctx->cfg.n_head * ctx->data_len;
    if (c.data) c.data += off;
    if (c.ddata) c.ddata += off;
    return c;
}

/* Finite-difference checks (tests/test_methods.c, tests/test_attention.c) of
 * every hook with parameters use step eps and relative tolerance tol (0 = the
 * defaults 1e-2 and 1e-3) on sequences of up to max_len positions (0 = the
 * default 150). A method whose hooks have kinks (ReLU, clamps) gives near_kink:
 * it returns 1 when a kink lies within eps of the given parameters for the
 * positions < ctx->table_len, and the test redraws them from init; the check
 * itself is never skipped. */
typedef struct PosFdCheck {
    double eps, tol;
    int max_len;
    int (*near_kink)(const PosCtx *ctx, double eps);
} PosFdCheck;

typedef enum { POS_FAMILY_NONE, POS_FAMILY_ABSOLUTE, POS_FAMILY_QK, POS_FAMILY_BIAS, POS_FAMILY_DATA } PosFamily;

typedef struct PosMethod {
    const char *name;
    const char *summary;   /* one line for `posbench methods` */
    const char *label;     /* display label in plots and reports ("ALiBi") */
    const char *citation;  /* "Press, Smith & Lewis, ICLR 2022" */
    PosFamily family;      /* none (NoPE), absolute, qk, bias, data-dependent */

    /* Learnable tensors (NULL = none): fill out[] (when out is not NULL) and
     * return the count. */
    int (*tensors)(PosTensor *out, const PosConfig *cfg);
    /* Initialise tensor k (numel floats at x) for layer `layer` (-1 for a shared
     * tensor). NULL = zeros. */
    void (*init)(float *x, int k, int layer, const PosConfig *cfg, Rng *rng);
    /* Keep tensor k (n floats at x) in its domain, e.g. clamp a positive scale
     * (NULL = unconstrained). The model calls it after init and after every
     * optimiser step, on every copy. */
    void (*project)(float *x, size_t n, int k, const PosConfig *cfg);

    /* Cache of precomputed tables for positions < T (NULL = none). */
    size_t (*cache_size)(const PosConfig *cfg, int T);          /* in floats */
    void (*cache_fill)(float *cache, const PosConfig *cfg, int T);
    /* A table computed from the parameters once per layer and forward call, for
     * positions < T (NULL = none), e.g. the bias of every distance, so that
     * bias_add is a lookup and not a log per element. The model fills it (ctx has
     * this layer's p and cache) before the layer's attention; hooks read ctx->table. */
    size_t (*table_size)(const PosConfig *cfg, int T);          /* in floats */
    void (*table_fill)(float *table, int T, const PosCtx *ctx);

    /* NULL = every length works. Otherwise 0 if length T is fine, else -1 with
     * the reason in err ("learned table has 128 rows"). */
    int (*check_len)(const PosConfig *cfg, int T, char *err, size_t errlen);

    /* Options, terminated by an entry with key NULL (NULL = none), and an
     * optional check of their combination (0 ok, -1 + err). */
    const PosOption *options;
    int (*check_options)(const PosConfig *cfg, char *err, size_t errlen);

    PosFdCheck fd;

    /* embed: x (T, C) for one sequence; x[t, c] += PE(t, c). */
    void (*embed_forward)(float *x, int T, const PosCtx *ctx);
    /* dp += dPE: dx (T, C) is the gradient reaching the embedding sum. */
    void (*embed_backward)(const float *dx, int T, const PosCtx *ctx);

    /* qk: x (T, hs) rows of one head's q (is_key 0) or k (is_key 1), in place. */
    void (*qk_forward)(float *x, int T, int head, int is_key, const PosCtx *ctx);
    /* dx (T, hs) in place: dx_in = J^T dx_out (the transform is linear in x). */
    void (*qk_backward)(float *dx, int T, int head, int is_key, const PosCtx *ctx);

    /* bias: scores is a tile of ni x nj with row stride ld, for queries
     * i0..i0+ni-1 and keys j0..j0+nj-1 of head h; scores[r*ld+c] += bias(h, i0+r, j0+c).
     * Entries with j > i may be written (they are masked afterwards). */
    void (*bias_add)(float *scores, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx);
    /* dp += sum over the tile's causal entries (j <= i) of dscores * dbias/dparams;
     * a data-dependent method instead adds d/d data to ctx->ddata (head h's row). */
    void (*bias_backward)(const float *dscores, int ld, int h, int i0, int ni, int j0, int nj,
                          const PosCtx *ctx);

    /* data: x (T, C) is one sequence's attention input (the LayerNorm output
     * that feeds the qkv projection); vals (NH, T) is written. The bias hooks
     * then read it as ctx->data. Called once per layer and sequence. */
    void (*data_forward)(float *vals, const float *x, int T, const PosCtx *ctx);
    /* dvals (NH, T): the gradient reaching vals (what bias_backward gathered);
     * dx (T, C) += its part of the gradient into x, dp += the parameters'. */
    void (*data_backward)(float *dx, const float *dvals, const float *x, int T, const PosCtx *ctx);

    /* Extra CSV columns for `posbench inspect` on bias methods (NULL = none),
     * e.g. "bucket"; inspect_values writes the values for (h, i, j) without a comma prefix. */
    const char *inspect_columns;
    void (*inspect_values)(char *buf, size_t n, int h, int i, int j, const PosCtx *ctx);
} PosMethod;

/* Registry (registry.c): the only list of methods. */
extern const PosMethod *const pos_methods[];
extern const int pos_method_count;
const PosMethod *pos_method_find(const char *name);   /* NULL if unknown */
/* The '+' where an evaluation-time variant starts in a name such as
 * `rotary+pi=2` or `layers=rotary+nope+window=64` (a composition's items name
 * registered methods; the first item that does not starts the variant), or
 * NULL when the name is a plain method spec. */
const char *pos_spec_variant(const char *spec);
/* "nope, sinusoidal, ..." for error messages */
const char *pos_method_names(void);
const char *pos_family_name(PosFamily f);              /* "absolute", "qk", "bias", ... */

/* Tensors ----------------------------------------------------------------- */
int pos_tensor_count(const PosMethod *m, const PosConfig *cfg);
/* malloc'd array of the method's tensors (NULL when none); *n = count */
PosTensor *pos_tensor_list(const PosMethod *m, const PosConfig *cfg, int *n);
size_t pos_tensor_numel(const PosTensor *t);
/* Floats the model holds: shared tensors once, per-layer ones n_layer times. */
size_t pos_param_count(const PosMethod *m, const PosConfig *cfg);
/* Floats one layer sees: every tensor once. */
size_t pos_layer_param_count(const PosMethod *m, const PosConfig *cfg);
/* Point p[k] (and dp[k] when grads is set) at tensor k laid out back to back in
 * one layer's flat buffer (pos_layer_param_count floats). */
void pos_bind_flat(const PosMethod *m, const PosConfig *cfg, const float *params, float *grads, const float **p,
                   float **dp);

/* For showing a data-dependent method's bias without data (inspect, report):
 * run data_forward on an attention input of zeros (T, C) and point ctx->data at
 * the values; returns the buffer to free (NULL, ctx untouched, for other methods). */
float *pos_data_at_zero_input(const PosMethod *m, PosCtx *ctx, int T);

/* The method a spec names ("xpos:gamma=256" -> xpos; a composition ->
 * pos_layers), options not checked; NULL if none. */
const PosMethod *pos_spec_method(const char *spec);

int pos_hooks_string(const PosMethod *m, char *buf, size_t n);   /* "embed", "qk", "data+bias", "-" */

/* Rotate-half pairs (i, i + hs/2) of x (T, hs) in place by the per-row table
 * tab: row p at tab + p*ld holds C (hs/2) then S (hs/2):
 *   out[i] = C x[i] - S x[i+h],  out[i+h] = C x[i+h] + S x[i]      (transpose 0)
 * and the transpose (S -> -S) for the backward. Shared by rotary and xPos. */
void pos_rotate_half(float *x, int T, int hs, const float *tab, size_t ld, int transpose);

/* Options ----------------------------------------------------------------- */
int pos_option_count(const PosMethod *m);
/* cfg.opt[] = the defaults. */
void pos_options_default(const PosMethod *m, PosConfig *cfg);
/* Parse "k=v,k2=v2" (',' or ':' separate items) into cfg.opt on a copy that
 * replaces *cfg only if every item and their combination are accepted.
 * at_eval 1 refuses options that are not at_eval. 0 ok, -1 + err (naming the method). */
int pos_apply_options(const PosMethod *m, PosConfig *cfg, const char *opts, int at_eval, char *err, size_t errlen);
/* "k=v,k2=v2" of every option (all = 1) or of those differing from the default. */
int pos_options_string(const PosMethod *m, const PosConfig *cfg, int all, char *buf, size_t n);

/* Method specs "name[:key=value[:key=value...]]" ---------------------------- */
/* Find the method and apply the spec's options (at training: every option) to
 * cfg, whose defaults it sets first. 0 or -1 + err. */
int pos_spec_parse(const char *spec, const PosMethod **m, PosConfig *cfg, char *err, size_t errlen);
/* Only validate (a reference config; a composition may have any number of
 * layers); 0 or -1 + err. */
int pos_spec_check(const char *spec, char *err, size_t errlen);
/* The same for a model of n_layer blocks (a composition must name n_layer). */
int pos_spec_check_layers(const char *spec, int n_layer, char *err, size_t errlen);
/* Display label of a spec: "RoPE×3+NoPE" for a composition, NULL otherwise. */
const char *pos_spec_label(const char *spec);

/* Per-layer composition (layers.c): "layers=rotary+rotary+nope" (one method
 * spec per layer, '+' between them) is the method pos_layers with cfg->layers
 * set. pos_spec_parse handles it; these are its parts. */
extern const PosMethod pos_layers;
int pos_is_layers_spec(const char *spec);
/* Parse into cfg->layers; with cfg->n_layer > 0 the count must match. 0 or -1 + err. */
int pos_layers_parse(const char *spec, PosConfig *cfg, char *err, size_t errlen);
const char *pos_layers_label(const PosConfig *cfg);
/* The registered method of layer l of a composition; NULL when cfg is none or l is out of range. */
const PosMethod *pos_layers_item(const PosConfig *cfg, int l);

#endif
