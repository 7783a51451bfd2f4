/* model.h — the small GPT-2-style pre-LN decoder of docs/DEFINITIONS.md (Model), its arenas, its
 * training step and its long-window evaluation.
 *
 *   x = sqrt(d) * tok_emb[t] (+ embed hook)
 *   per block: x += proj(attn(ln1(x)));  x += mlp(ln2(x))
 *   logits = ln_f(x) @ tok_emb^T        (tied output)
 *
 * Arenas (one allocation per role, named tensors carved out by a table):
 * params, grads, AdamW m and v; training activations sized for (B_max, T_max);
 * an evaluation scratch sized for one sequence of T_eval that holds one layer
 * at a time and never a T x T matrix (attention is tiled, see attention.h).
 */
#ifndef POSBENCH_MODEL_H
#define POSBENCH_MODEL_H
#include <stddef.h>
#include "../methods/method.h"

#define MODEL_NAME_LEN 64

typedef struct ModelConfig {
    int vocab;        /* V */
    int n_layer;      /* L layers */
    int n_head;       /* NH */
    int d_model;      /* C */
    int train_len;    /* the training length the model is built for */
    char method[POS_SPEC_LEN];  /* position method spec: "name" or "name:key=value:..." */
} ModelConfig;

/* Range checks for a config (used by the checkpoint loader and flag parsing). */
int model_config_check(const ModelConfig *cfg, char *err, size_t errlen);

typedef struct Tensor {
    char name[MODEL_NAME_LEN];
    int ndim;
    int shape[2];
    size_t offset;    /* in floats, into the parameter arena */
    size_t numel;
    int decay;        /* AdamW weight decay applies (2-D weights; method tensors say themselves) */
} Tensor;

/* Pointers into the parameter (or gradient) arena for one block. */
typedef struct BlockParams {
    float *ln1_w, *ln1_b;     /* (C) */
    float *qkv_w, *qkv_b;     /* (3C, C), (3C): rows q heads, k heads, v heads */
    float *proj_w, *proj_b;   /* (C, C), (C) */
    float *ln2_w, *ln2_b;     /* (C) */
    float *fc_w, *fc_b;       /* (4C, C), (4C) */
    float *fcp_w, *fcp_b;     /* (C, 4C), (C) */
} BlockParams;

typedef struct ParamView {
    float *tok_emb;           /* (V, C) */
    BlockParams *blocks;      /* [n_layer] */
    float *lnf_w, *lnf_b;     /* (C) */
    float *pos;               /* method parameters (NULL if none), tensors back to back */
} ParamView;

typedef struct Model {
    ModelConfig cfg;
    const PosMethod *pos;
    PosConfig pcfg;           /* the method's config; options as trained, or as --option set them */
    PosConfig pcfg_trained;   /* options as the method spec gave them at training */
    int pos_nt;               /* method tensors (PosTensor) */
    const float **pos_p;      /* (n_layer, pos_nt): tensor k as layer l sees it, in params */
    float **pos_g;            /* (n_layer, pos_nt): the same in grads */

    int n_tensors;
    Tensor *tensors;
    size_t n_params;
    size_t pos_offset, pos_numel;
    float *params, *grads;    /* (n_params) */
    ParamView p, g;

    /* training activations, sized by model_reserve_train */
    int B_max, T_max;
    float *acts;
    size_t n_acts;
    struct TrainActs *ta;     /* pointers into acts (model.c) */
    int B, T;                 /* shape of the last training forward */
    const int *inputs, *targets; /* of the last training forward (borrowed) */
    float *token_loss;        /* (B_max*T_max) per-token NLL of the last forward */
    float loss;               /* mean of token_loss */
    int loss_tokens;          /* tokens model_backward's mean runs over; 0: the last forward's B x T */

    /* data-parallel training (model/data_parallel.c): shards 1.. of a batch run on replicas
     * that read these parameters and keep their own gradients and activations */
    int shards;               /* shards per training batch; 0 = min(threads, B) */
    struct Model *reps;       /* [n_reps] */
    int n_reps;
    int grads_clear;          /* grads are all zero (model_zero_grad, the sum over shards that read a replica's,
                               * or the update that read m's); model_backward resets it */

    /* evaluation scratch, sized by model_reserve_eval */
    int T_eval_max;
    float *eval_buf;
    size_t n_eval;

    /* evaluation-time variants (docs/DEFINITIONS.md, Evaluation-time variants); 0 = off.
     * Only model_eval_window reads them; training ignores them. */
    int eval_window;          /* W: each query attends to its last W keys (j > i - W) */
    int eval_logn;            /* 1: the query at position p is scaled by max(1, log p / log L) */

    /* position-method cache (positions < pos_cache_len) and per-layer table */
    float *pos_cache;
    int pos_cache_len;
    float *pos_table;         /* table_size(pos_len) floats, refilled per layer */
    int pos_len;              /* positions the cache and table cover */
} Model;

/* Build arenas for cfg (params zeroed); 0 or -1 with err (unknown method, bad sizes). */
int model_build(Model *m, const ModelConfig *cfg, char *err, size_t errlen);
/* Init: token embeddings N(0, 1/C), so that sqrt(C)·tok_emb starts at unit scale, the
 * scale of a sinusoidal position term (fairseq's transformer_lm, the code base of the
 * ALiBi paper); the other matrices GPT-2's N(0, 0.02), residual projections scaled by
 * 1/sqrt(2 n_layer); LayerNorm 1 and 0. */
void model_init_weights(Model *m, uint64_t seed);
void model_free(Model *m);
const Tensor *model_find_tensor(const Model *m, const char *name);

/* Training: activations for batches up to (B, T). */
void model_reserve_train(Model *m, int B, int T);
/* inputs, targets (B, T) token ids. Returns the mean loss (nats). */
float model_forward(Model *m, const int *inputs, const int *targets, int B, int T);
/* Logits (B*T, V) of the last model_forward. */
const float *model_logits(const Model *m);
void model_zero_grad(Model *m);
/* grads += d(mean loss)/d(params) for the last model_forward. */
void model_backward(Model *m);
/* The training step's gradient: grads = d(mean loss)/d(params) over the batch inputs,
 * targets (B, T); returns the mean loss. The B sequences are split into
 * model_train_shards(m, B) contiguous shards, one per thread, each run forward and
 * backward on one thread (m itself for the first, a replica for the others), and the
 * shards' gradients are added in shard order: the numbers depend on the shard count
 * (float sums in another order), never on timing. One shard is model_forward,
 * model_zero_grad, model_backward exactly. Afterwards model_logits and token_loss hold
 * the first shard's rows only. (model/data_parallel.c) */
float model_train_grads(Model *m, const int *inputs, const int *targets, int B, int T);
int model_train_shards(const Model *m, int B);
struct AdamW;
/* A whole training step in one parallel region: model_train_grads, the gradient's global L2
 * norm (*norm, before clipping), and, when the loss and the norm are finite, an AdamW update
 * at lr on the gradient clipped to max_norm (max_norm <= 0: no clipping); returns 1 if it
 * updated, 0 (parameters untouched) if not. The same bits as model_train_grads, grad_clip and
 * adamw_update in turn. After an update m->grads are zero (cleared as AdamW reads them, so the
 * next step needs no zeroing pass); after a refused step they hold the unclipped gradient. */
int model_train_step(Model *m, struct AdamW *o, const int *inputs, const int *targets, int B, int T, float lr,
                     float max_norm, float *loss, float *norm);
/* A replica of m for shards 1..: m's parameters (read, never written), its own gradients,
 * training activations and position table; m's position cache is lent to it per step.
 * model_free(m) frees m's replicas. */
void model_build_replica(Model *r, const Model *m);

/* Evaluation of one window of T tokens with tiled attention, memory linear in T:
 * nll[t] = -log p(targets[t] | inputs[0..t]) in nats, t < T. Returns the sum. */
double model_eval_window(Model *m, const int *inputs, const int *targets, int T, float *nll);
/* The same, and top1[t] = the most probable next token after inputs[0..t] (the lowest id on a
 * tie) for t >= top1_from (top1 may be NULL). */
double model_eval_window_top1(Model *m, const int *inputs, const int *targets, int T, float *nll, int *top1,
                              int top1_from);
/* Reuse across windows that share their first tokens (the probes of one (T, D): the same filler
 * before the planted string): each layer's keys and values (after the qk hook) of a window's
 * first len positions, (n_layer, NH, cap, hs) each. */
typedef struct EvalPrefix {
    int len, cap;
    float *k, *v;
} EvalPrefix;
/* 1 when the method allows it (not a data-dependent bias, whose values the cache does not keep). */
int model_eval_prefix_ok(const Model *m);
void model_prefix_free(EvalPrefix *pre);
/* save 1: evaluate the window inputs[0..T) and keep its keys and values in pre (pre->len = T).
 * save 0, pre->len = P > 0: inputs[0..P) must be the window saved; only rows P..T-1 are computed
 * (their queries attend to the saved keys), nll[t] = 0 for t < P. pre NULL: model_eval_window_top1.
 * The same numbers as the whole window up to float rounding (matrix products over fewer rows). */
double model_eval_window_prefix(Model *m, const int *inputs, const int *targets, int T, EvalPrefix *pre, int save,
                                float *nll, int *top1, int top1_from);
/* Scratch for model_eval_window up to length T (also called lazily). */
void model_reserve_eval(Model *m, int T);
/* Evaluation-time method options "k=v,..." (e.g. rotary "pi=4") on top of the
 * trained ones; "" resets to those. Options not marked at_eval are refused. 0 or -1 + err. */
int model_set_pos_options(Model *m, const char *opts, char *err, size_t errlen);
/* 0 if the method can run windows of length T, else -1 with the reason. */
int model_check_len(const Model *m, int T, char *err, size_t errlen);
/* Ensure the position cache and table cover T positions. */
void model_pos_cache(Model *m, int T);
/* PosCtx for the hooks of layer l; dp NULL unless training. Fills the method's
 * table for that layer (so call it again after the parameters change). */
PosCtx model_pos_ctx(const Model *m, int layer, int training);
/* The method's projection of its tensors onto their domain (after init and
 * every optimiser step). */
void model_pos_project(Model *m);

/* Bytes held by each arena (for the harness's analytic memory report). */
size_t model_bytes_params(const Model *m);
size_t model_bytes_train_acts(const Model *m);
size_t model_bytes_eval(const Model *m);

/* Optimiser ------------------------------------------------------------- */
typedef struct AdamW {
    float beta1, beta2, eps, weight_decay;
    long step;              /* number of updates done */
    float *m, *v;           /* (n_params) */
} AdamW;

void adamw_init(AdamW *o, const Model *m, float weight_decay);   /* betas 0.9/0.95, eps 1e-8 */
void adamw_free(AdamW *o);
void adamw_update(AdamW *o, Model *m, float lr);
/* Global L2 norm of grads; scales them to max_norm when above (max_norm <= 0: no clip). */
float grad_clip(Model *m, float max_norm);

/* The same two in pieces a thread team shares inside one parallel region (model_train_step):
 * adamw_apply_team is adamw_update's loop on grads x gscale (the clipping factor, applied as
 * they are read: the same bits as scaling them first), adamw_finish counts the update and
 * projects the method's tensors. grad_sq_chunks_team writes each GRAD_NORM_CHUNK floats' sum
 * of squares into part; grad_norm_of adds them in order, so the norm does not depend on the
 * threads; grad_clip_scale is the factor for max_norm (1: no clipping). */
#define GRAD_NORM_CHUNK (1L << 16)
typedef struct AdamWStep { float lr, step_size, inv_sqrt_bc2, gscale; } AdamWStep;
AdamWStep adamw_next(const AdamW *o, float lr, float gscale);
void adamw_apply_team(const AdamW *o, Model *m, AdamWStep st, int clear);   /* clear: zero grads once read */
void adamw_finish(AdamW *o, Model *m);
long grad_norm_chunks(long n);                          /* chunks of n floats */
double grad_sq_chunk(const float *g, long n, long c);   /* chunk c's sum of squares */
void grad_sq_chunks_team(const float *g, long n, double *part);
float grad_norm_of(const double *part, long n);
float grad_clip_scale(float norm, float max_norm);
/* Linear warm-up for `warmup` steps, then cosine from lr_max to lr_min at `total`. */
float lr_schedule(long step, long warmup, long total, float lr_max, float lr_min);

#endif
