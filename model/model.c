/* model.c — arenas, forward, backward and long-window evaluation of the
 * pre-LN decoder (model.h). The position method enters at three hooks:
 * embed (after the scaled token embedding), qk (on each head's q and k after
 * the qkv projection) and bias (inside attention, tile by tile).
 */
#include "model.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "attention.h"
#include "ops.h"

#define EVAL_LOGIT_ROWS 256   /* logits are computed this many rows at a time at eval */

typedef struct LayerActs {
    float *ln1, *ln1_mean, *ln1_rstd;   /* (BT, C), (BT), (BT) */
    float *qkv;                         /* (BT, 3C) */
    float *q, *k;                       /* (B, NH, T, hs) after the qk hook; v is read in place from qkv */
    float *att;                         /* (B, NH, T) softmax log-sum-exp per row, for the backward */
    float *pdata;                       /* (B, NH, T) a data-dependent method's values (method.h) */
    float *atty;                        /* (BT, C) attention output, token-major (written so by attention) */
    float *res2;                        /* (BT, C) x + proj(atty) */
    float *ln2, *ln2_mean, *ln2_rstd;   /* (BT, C), (BT), (BT) */
    float *fch, *fch_gelu;              /* (BT, 4C) fc's output, then (after the GELU) its slope; gelu(fch) */
    float *res3;                        /* (BT, C) res2 + mlp: the layer's output */
} LayerActs;

struct TrainActs {
    float *encoded;                     /* (BT, C) sqrt(C) tok_emb[x] (+ PE) */
    LayerActs *layers;                  /* [n_layer] */
    float *lnf, *lnf_mean, *lnf_rstd;   /* (BT, C), (BT), (BT) */
    float *logits, *lse;                /* (BT, V), (BT) */
    /* backward scratch, shared by all layers */
    float *dres;                        /* (BT, C) gradient of the residual stream */
    float *dtmp;                        /* (BT, C) */
    float *dfch;                        /* (BT, 4C) d gelu(fch), then d fch in place */
    float *dqkv;                        /* (BT, 3C) */
    float *dq, *dk;                     /* (B, NH, T, hs); d v goes straight into dqkv */
    float *dlogits;                     /* (BT, V) */
    float *dpdata;                      /* (B, NH, T) gradient of a layer's pdata */
};

/* ---- config and tensor table ------------------------------------------------ */

int model_config_check(const ModelConfig *c, char *err, size_t errlen) {
#define RANGE(field, lo, hi)                                                                              \
    if (c->field < (lo) || c->field > (hi)) {                                                           \
        snprintf(err, errlen, #field " = %d is out of range (%d..%d)", c->field, (int)(lo), (int)(hi));  \
        return -1;                                                                                       \
    }
    RANGE(vocab, 2, 65536);
    RANGE(n_layer, 1, 64);
    RANGE(n_head, 1, 64);
    RANGE(d_model, 2, 8192);
    RANGE(train_len, 1, 1 << 20);
#undef RANGE
    if (c->d_model % c->n_head != 0 || (c->d_model / c->n_head) % 2 != 0) {
        snprintf(err, errlen, "d_model = %d must be n_head (%d) x an even head size", c->d_model, c->n_head);
        return -1;
    }
    PosConfig pc = {.n_head = c->n_head, .head_dim = c->d_model / c->n_head, .d_model = c->d_model,
                    .train_len = c->train_len, .n_layer = c->n_layer};
    return pos_spec_parse(c->method, NULL, &pc, err, errlen);
}

static void add_tensor(Model *m, const char *name, int ndim, int d0, int d1, int decay) {
    Tensor *t = &m->tensors[m->n_tensors++];
    snprintf(t->name, sizeof t->name, "%.*s", (int)sizeof t->name - 1, name);
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = ndim == 2 ? d1 : 1;
    t->numel = (size_t)d0 * (ndim == 2 ? d1 : 1);
    t->offset = m->n_params;
    t->decay = decay;
    m->n_params += t->numel;
}

/* The method's tensors after every other one: tensor k once ("pos.<m>.<what>")
 * when shared, or once per layer ("blocks.<l>.pos.<m>.<what>"), in k order. */
static void add_pos_tensors(Model *m, const PosTensor *pt, int n_pos) {
    char name[MODEL_NAME_LEN];
    for (int k = 0; k < n_pos; k++)
        for (int l = 0; l < (pt[k].per_layer ? m->cfg.n_layer : 1); l++) {
            if (pt[k].per_layer) snprintf(name, sizeof name, "blocks.%d.%.40s", l, pt[k].name);
            else snprintf(name, sizeof name, "%s", pt[k].name);
            add_tensor(m, name, pt[k].ndim, pt[k].shape[0], pt[k].shape[1], pt[k].decay);
        }
}

/* pos_p[l * nt + k], pos_g[...]: tensor k as layer l sees it (add_pos_tensors' order). */
static void bind_pos_tensors(Model *m) {
    int nt = m->pos_nt, L = m->cfg.n_layer;
    m->pos_p = xcalloc((size_t)L * (nt ? nt : 1), sizeof(float *));
    m->pos_g = xcalloc((size_t)L * (nt ? nt : 1), sizeof(float *));
    int n;
    PosTensor *pt = pos_tensor_list(m->pos, &m->pcfg, &n);
    const Tensor *t = m->tensors + 3 + 12 * L;   /* tok_emb, blocks, ln_f come first */
    for (int k = 0; k < n; k++) {
        for (int l = 0; l < L; l++) {
            const Tensor *tl = pt[k].per_layer ? t + l : t;
            m->pos_p[(size_t)l * nt + k] = m->params + tl->offset;
            m->pos_g[(size_t)l * nt + k] = m->grads + tl->offset;
        }
        t += pt[k].per_layer ? L : 1;
    }
    free(pt);
}

/* Point a ParamView at an arena laid out by the tensor table (build order). */
static void view_arena(const Model *m, ParamView *pv, float *base) {
    const Tensor *t = m->tensors;
    pv->tok_emb = base + (t++)->offset;
    for (int l = 0; l < m->cfg.n_layer; l++) {
        BlockParams *b = &pv->blocks[l];
        float **slots[] = {&b->ln1_w, &b->ln1_b, &b->qkv_w, &b->qkv_b, &b->proj_w, &b->proj_b,
                           &b->ln2_w, &b->ln2_b, &b->fc_w,  &b->fc_b,  &b->fcp_w,  &b->fcp_b};
        for (size_t s = 0; s < sizeof slots / sizeof slots[0]; s++) *slots[s] = base + (t++)->offset;
    }
    pv->lnf_w = base + (t++)->offset;
    pv->lnf_b = base + (t++)->offset;
    pv->pos = m->pos_numel ? base + m->pos_offset : NULL;
}

int model_build(Model *m, const ModelConfig *cfg, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (model_config_check(cfg, err, errlen) != 0) return -1;
    m->cfg = *cfg;
    int C = cfg->d_model, L = cfg->n_layer;
    m->pcfg = (PosConfig){.n_head = cfg->n_head, .head_dim = C / cfg->n_head, .d_model = C,
                          .train_len = cfg->train_len, .n_layer = L};
    pos_spec_parse(cfg->method, &m->pos, &m->pcfg, err, errlen);   /* checked above */
    m->pcfg_trained = m->pcfg;
    int n_pos;
    PosTensor *pt = pos_tensor_list(m->pos, &m->pcfg, &n_pos);
    m->pos_nt = n_pos;
    m->tensors = xcalloc((size_t)3 + 12 * L + (size_t)n_pos * L, sizeof(Tensor));
    char name[MODEL_NAME_LEN];
    add_tensor(m, "tok_emb", 2, cfg->vocab, C, 1);
    static const struct { const char *suffix; int ndim, rows, cols; } block[] = {
        /* rows/cols in units of C */
        {"ln1.weight", 1, 1, 0},      {"ln1.bias", 1, 1, 0},        {"attn.qkv.weight", 2, 3, 1},
        {"attn.qkv.bias", 1, 3, 0},   {"attn.proj.weight", 2, 1, 1}, {"attn.proj.bias", 1, 1, 0},
        {"ln2.weight", 1, 1, 0},      {"ln2.bias", 1, 1, 0},        {"mlp.fc.weight", 2, 4, 1},
        {"mlp.fc.bias", 1, 4, 0},     {"mlp.proj.weight", 2, 1, 4}, {"mlp.proj.bias", 1, 1, 0},
    };
    for (int l = 0; l < L; l++)
        for (size_t s = 0; s < sizeof block / sizeof block[0]; s++) {
            snprintf(name, sizeof name, "blocks.%d.%s", l, block[s].suffix);
            add_tensor(m, name, block[s].ndim, block[s].rows * C, block[s].cols * C, block[s].ndim == 2);
        }
    add_tensor(m, "ln_f.weight", 1, C, 0, 0);
    add_tensor(m, "ln_f.bias", 1, C, 0, 0);
    m->pos_offset = m->n_params;
    add_pos_tensors(m, pt, n_pos);
    m->pos_numel = m->n_params - m->pos_offset;
    free(pt);

    m->params = xmalloc_floats(m->n_params);
    m->grads = xmalloc_floats(m->n_params);
    m->p.blocks = xcalloc(L, sizeof(BlockParams));
    m->g.blocks = xcalloc(L, sizeof(BlockParams));
    view_arena(m, &m->p, m->params);
    view_arena(m, &m->g, m->grads);
    bind_pos_tensors(m);
    return 0;
}

void model_init_weights(Model *m, uint64_t seed) {
    Rng rng;
    rng_seed(&rng, seed);
    float std_res = 0.02f / sqrtf(2.0f * m->cfg.n_layer);
    for (int i = 0; i < m->n_tensors; i++) {
        const Tensor *t = &m->tensors[i];
        float *w = m->params + t->offset;
        if (t->offset >= m->pos_offset) continue;   /* the method initialises its own */
        int is_ln_weight = strstr(t->name, "ln") && strstr(t->name, ".weight");
        int is_residual = strstr(t->name, "attn.proj.weight") || strstr(t->name, "mlp.proj.weight");
        int is_tok_emb = strcmp(t->name, "tok_emb") == 0;
        float std = is_tok_emb ? 1.0f / sqrtf((float)m->cfg.d_model) : is_residual ? std_res : 0.02f;
        for (size_t j = 0; j < t->numel; j++) {
            if (t->ndim == 2) w[j] = std * rng_normal(&rng);
            else w[j] = is_ln_weight ? 1.0f : 0.0f;
        }
    }
    if (m->pos_numel) {   /* each tensor copy in the table's order: tensor k, then layer */
        memset(m->params + m->pos_offset, 0, m->pos_numel * sizeof(float));
        int n;
        PosTensor *pt = pos_tensor_list(m->pos, &m->pcfg, &n);
        const Tensor *t = m->tensors + 3 + 12 * m->cfg.n_layer;
        for (int k = 0; k < n; k++)
            for (int l = 0; l < (pt[k].per_layer ? m->cfg.n_layer : 1); l++, t++)
                if (m->pos->init) m->pos->init(m->params + t->offset, k, pt[k].per_layer ? l : -1, &m->pcfg, &rng);
        free(pt);
        model_pos_project(m);
    }
}

const Tensor *model_find_tensor(const Model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}

/* See model.h. The tensor table is copied, so the replica's arenas are laid out as m's. */
void model_build_replica(Model *r, const Model *m) {
    memset(r, 0, sizeof *r);
    r->cfg = m->cfg;
    r->pos = m->pos;
    r->pcfg = m->pcfg;
    r->pcfg_trained = m->pcfg_trained;
    r->pos_nt = m->pos_nt;
    r->n_tensors = m->n_tensors;
    r->tensors = xmalloc(sizeof(Tensor) * (size_t)m->n_tensors);
    memcpy(r->tensors, m->tensors, sizeof(Tensor) * (size_t)m->n_tensors);
    r->n_params = m->n_params;
    r->pos_offset = m->pos_offset;
    r->pos_numel = m->pos_numel;
    r->params = m->params;
    r->grads = xmalloc_floats(r->n_params);   /* zeroed */
    r->grads_clear = 1;
    r->p.blocks = xcalloc(r->cfg.n_layer, sizeof(BlockParams));
    r->g.blocks = xcalloc(r->cfg.n_layer, sizeof(BlockParams));
    view_arena(r, &r->p, r->params);
    view_arena(r, &r->g, r->grads);
    bind_pos_tensors(r);
}

void model_free(Model *m) {
    for (int i = 0; i < m->n_reps; i++) {
        m->reps[i].params = NULL;      /* m's */
        m->reps[i].pos_cache = NULL;   /* lent by m */
        model_free(&m->reps[i]);
    }
    free(m->reps);
    free(m->tensors);
    free(m->pos_p);
    free(m->pos_g);
    free(m->params);
    free(m->grads);
    free(m->p.blocks);
    free(m->g.blocks);
    if (m->ta) free(m->ta->layers);
    free(m->ta);
    free(m->acts);
    free(m->token_loss);
    free(m->eval_buf);
    free(m->pos_cache);
    free(m->pos_table);
    memset(m, 0, sizeof *m);
}

/* ---- position method plumbing --------------------------------------------- */

int model_set_pos_options(Model *m, const char *opts, char *err, size_t errlen) {
    PosConfig c = m->pcfg_trained;
    if (opts && *opts && pos_apply_options(m->pos, &c, opts, 1, err, errlen) != 0) return -1;
    m->pcfg = c;
    m->pos_cache_len = 0;   /* tables depend on the options: refill */
    m->pos_len = 0;
    free(m->pos_table);
    m->pos_table = NULL;
    return 0;
}

int model_check_len(const Model *m, int T, char *err, size_t errlen) {
    if (!m->pos->check_len) return 0;
    return m->pos->check_len(&m->pcfg, T, err, errlen);
}

void model_pos_cache(Model *m, int T) {
    if (m->pos->cache_size && T > m->pos_cache_len) {
        free(m->pos_cache);
        m->pos_cache = xmalloc_floats(m->pos->cache_size(&m->pcfg, T));
        m->pos->cache_fill(m->pos_cache, &m->pcfg, T);
        m->pos_cache_len = T;
    }
    if (m->pos->table_size && T > m->pos_len) {
        free(m->pos_table);
        m->pos_table = xmalloc_floats(m->pos->table_size(&m->pcfg, T));
    }
    if (T > m->pos_len) m->pos_len = T;
}

void model_pos_project(Model *m) {
    if (!m->pos->project) return;
    int n;
    PosTensor *pt = pos_tensor_list(m->pos, &m->pcfg, &n);
    const Tensor *t = m->tensors + 3 + 12 * m->cfg.n_layer;
    for (int k = 0; k < n; k++)
        for (int l = 0; l < (pt[k].per_layer ? m->cfg.n_layer : 1); l++, t++)
            m->pos->project(m->params + t->offset, t->numel, k, &m->pcfg);
    free(pt);
}

PosCtx model_pos_ctx(const Model *m, int layer, int training) {
    size_t at = (size_t)layer * m->pos_nt;
    PosCtx c = {.cfg = m->pcfg,
                .layer = layer,
                .p = m->pos_nt ? (const float *const *)m->pos_p + at : NULL,
                .dp = training && m->pos_nt ? m->pos_g + at : NULL,
                .cache = m->pos_cache,
                .cache_len = m->pos_cache_len,
                .table = m->pos_table,
                .table_len = m->pos_len};
    if (m->pos->table_fill && m->pos_table) m->pos->table_fill(m->pos_table, m->pos_len, &c);
    return c;
}

/* x (B, T, C) += PE for each sequence */
static void pos_embed_forward(const Model *m, float *x, int B, int T, const PosCtx *ctx) {
    if (!m->pos->embed_forward) return;
    size_t TC = (size_t)T * m->cfg.d_model;
    for (int b = 0; b < B; b++) m->pos->embed_forward(x + b * TC, T, ctx);
}

/* Apply a qk hook (forward, or backward on the gradients) to q and k (B, NH, T, hs) in place. */
typedef void (*QkHook)(float *x, int T, int head, int is_key, const PosCtx *ctx);
static void pos_qk_apply(const Model *m, QkHook hook, float *q, float *k, int B, int T, const PosCtx *ctx) {
    if (!hook) return;
    int NH = m->cfg.n_head, hs = m->pcfg.head_dim;
    FOR_SLICES((long)B * NH, id, lo, hi, for (long bh = lo; bh < hi; bh++) {
        size_t off = (size_t)bh * T * hs;
        hook(q + off, T, (int)(bh % NH), 0, ctx);
        hook(k + off, T, (int)(bh % NH), 1, ctx);
    });
}

/* A data-dependent method's values for B sequences: vals (B, NH, T) from the
 * attention input x (B, T, C); ctx then points at them (method.h). */
static void pos_data_forward(const Model *m, float *vals, const float *x, int B, int T, PosCtx *ctx) {
    if (!m->pos->data_forward) return;
    size_t TC = (size_t)T * m->cfg.d_model, HT = (size_t)m->cfg.n_head * T;
    ctx->data_len = T;
    FOR_SLICES(B, id, lo, hi, for (long b = lo; b < hi; b++) m->pos->data_forward(vals + b * HT, x + b * TC, T, ctx));
    ctx->data = vals;
}

/* dx (B, T, C) += the data path's gradient from dvals (B, NH, T); dp += its
 * parameters' (one sequence after another: they share dp). */
static void pos_data_backward(const Model *m, float *dx, const float *dvals, const float *x, int B, int T,
                              const PosCtx *ctx) {
    if (!m->pos->data_backward) return;
    size_t TC = (size_t)T * m->cfg.d_model, HT = (size_t)m->cfg.n_head * T;
    for (int b = 0; b < B; b++) m->pos->data_backward(dx + b * TC, dvals + b * HT, x + b * TC, T, ctx);
}

/* ---- training activations --------------------------------------------------- */

/* Carve consecutive buffers out of base (NULL base: only count). */
typedef struct Carver { float *base; size_t used; } Carver;
static float *carve(Carver *cv, size_t n) {
    float *p = cv->base ? cv->base + cv->used : NULL;
    cv->used += (n + 15) / 16 * 16;   /* keep 64-byte alignment */
    return p;
}

static void carve_train(Carver *cv, struct TrainActs *a, int L, size_t B, size_t T, size_t C, size_t NH, size_t V) {
    size_t BT = B * T;
    a->encoded = carve(cv, BT * C);
    for (int l = 0; l < L; l++) {
        LayerActs *la = &a->layers[l];
        la->ln1 = carve(cv, BT * C);
        la->ln1_mean = carve(cv, BT);
        la->ln1_rstd = carve(cv, BT);
        la->qkv = carve(cv, BT * 3 * C);
        la->q = carve(cv, BT * C);
        la->k = carve(cv, BT * C);
        la->att = carve(cv, B * NH * T);
        la->pdata = carve(cv, B * NH * T);
        la->atty = carve(cv, BT * C);
        la->res2 = carve(cv, BT * C);
        la->ln2 = carve(cv, BT * C);
        la->ln2_mean = carve(cv, BT);
        la->ln2_rstd = carve(cv, BT);
        la->fch = carve(cv, BT * 4 * C);
        la->fch_gelu = carve(cv, BT * 4 * C);
        la->res3 = carve(cv, BT * C);
    }
    a->lnf = carve(cv, BT * C);
    a->lnf_mean = carve(cv, BT);
    a->lnf_rstd = carve(cv, BT);
    a->logits = carve(cv, BT * V);
    a->lse = carve(cv, BT);
    a->dres = carve(cv, BT * C);
    a->dtmp = carve(cv, BT * C);
    a->dfch = carve(cv, BT * 4 * C);
    a->dqkv = carve(cv, BT * 3 * C);
    a->dq = carve(cv, BT * C);
    a->dk = carve(cv, BT * C);
    a->dlogits = carve(cv, BT * V);
    a->dpdata = carve(cv, B * NH * T);
}

void model_reserve_train(Model *m, int B, int T) {
    if (m->ta && B <= m->B_max && T <= m->T_max) return;
    if (m->ta) {
        free(m->ta->layers);
        free(m->ta);
        free(m->acts);
        free(m->token_loss);
    }
    if (B < m->B_max) B = m->B_max;
    if (T < m->T_max) T = m->T_max;
    m->ta = xcalloc(1, sizeof *m->ta);
    m->ta->layers = xcalloc(m->cfg.n_layer, sizeof(LayerActs));
    Carver cv = {NULL, 0};
    carve_train(&cv, m->ta, m->cfg.n_layer, B, T, m->cfg.d_model, m->cfg.n_head, m->cfg.vocab);
    m->n_acts = cv.used;
    m->acts = xmalloc_floats(m->n_acts);
    cv = (Carver){m->acts, 0};
    carve_train(&cv, m->ta, m->cfg.n_layer, B, T, m->cfg.d_model, m->cfg.n_head, m->cfg.vocab);
    m->token_loss = xmalloc_floats((size_t)B * T);
    m->B_max = B;
    m->T_max = T;
}

/* ---- training forward / backward ------------------------------------------- */

float model_forward(Model *m, const int *inputs, const int *targets, int B, int T) {
    int C = m->cfg.d_model, NH = m->cfg.n_head, hs = C / NH, V = m->cfg.vocab, BT = B * T;
    model_reserve_train(m, B, T);
    model_pos_cache(m, T);
    PosCtx ctx = model_pos_ctx(m, 0, 1);
    struct TrainActs *a = m->ta;
    m->B = B;
    m->T = T;
    m->inputs = inputs;
    m->targets = targets;

    encoder_forward(a->encoded, inputs, m->p.tok_emb, sqrtf((float)C), BT, C);
    pos_embed_forward(m, a->encoded, B, T, &ctx);
    const float *x = a->encoded;   /* (BT, C) residual stream entering the layer */
    for (int l = 0; l < m->cfg.n_layer; l++) {
        LayerActs *la = &a->layers[l];
        const BlockParams *p = &m->p.blocks[l];
        ctx = model_pos_ctx(m, l, 1);
        layernorm_forward(la->ln1, la->ln1_mean, la->ln1_rstd, x, p->ln1_w, p->ln1_b, BT, C);
        matmul_forward(la->qkv, la->ln1, p->qkv_w, p->qkv_b, BT, C, 3 * C);
        split_heads(la->q, la->k, NULL, la->qkv, B, T, NH, hs);   /* v is read in place, from qkv */
        pos_data_forward(m, la->pdata, la->ln1, B, T, &ctx);
        pos_qk_apply(m, m->pos->qk_forward, la->q, la->k, B, T, &ctx);
        attention_forward_at(la->atty, rows_token_major(T, C, hs), la->att, la->q, la->k, la->qkv + 2 * C,
                             rows_token_major(T, 3 * C, hs), B, NH, T, hs, m->pos, &ctx);
        matmul_residual_forward(la->res2, la->atty, p->proj_w, p->proj_b, x, BT, C, C);   /* x + proj(atty) */
        layernorm_forward(la->ln2, la->ln2_mean, la->ln2_rstd, la->res2, p->ln2_w, p->ln2_b, BT, C);
        matmul_forward(la->fch, la->ln2, p->fc_w, p->fc_b, BT, C, 4 * C);
        gelu_forward_keep_slope(la->fch_gelu, la->fch, (size_t)BT * 4 * C);
        matmul_residual_forward(la->res3, la->fch_gelu, p->fcp_w, p->fcp_b, la->res2, BT, 4 * C, C);
        x = la->res3;
    }
    layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, x, m->p.lnf_w, m->p.lnf_b, BT, C);
    matmul_forward(a->logits, a->lnf, m->p.tok_emb, NULL, BT, C, V);
    crossentropy_forward(m->token_loss, a->lse, a->logits, targets, BT, V);
    double s = 0.0;
    for (int t = 0; t < BT; t++) s += m->token_loss[t];
    m->loss = (float)(s / BT);
    return m->loss;
}

const float *model_logits(const Model *m) { return m->ta ? m->ta->logits : NULL; }

void model_zero_grad(Model *m) {
#pragma omp parallel if (m->n_params > 65536)
    {
        int lo, hi;   /* in 16-float chunks: each thread's share starts on a cache line */
        omp_slice((int)((m->n_params + 15) / 16), &lo, &hi);
        size_t a = (size_t)lo * 16, b = (size_t)hi * 16 < m->n_params ? (size_t)hi * 16 : m->n_params;
        if (b > a) memset(m->grads + a, 0, (b - a) * sizeof(float));
    }
    m->grads_clear = 1;
}

static void zero(float *p, size_t n) { memset(p, 0, n * sizeof(float)); }

void model_backward(Model *m) {
    int B = m->B, T = m->T, C = m->cfg.d_model, NH = m->cfg.n_head, hs = C / NH, V = m->cfg.vocab, BT = B * T;
    int L = m->cfg.n_layer;
    struct TrainActs *a = m->ta;
    PosCtx ctx = model_pos_ctx(m, 0, 1);
    size_t nC = (size_t)BT * C;
    m->grads_clear = 0;

    /* loss = mean over BT tokens; logits = lnf @ tok_emb^T; lnf = ln_f(x_L) */
    crossentropy_backward(a->dlogits, a->logits, a->lse, m->targets, 1.0f / (m->loss_tokens ? m->loss_tokens : BT),
                          BT, V, 0.0f);
    matmul_backward(a->dtmp, m->g.tok_emb, NULL, a->dlogits, a->lnf, m->p.tok_emb, BT, C, V, 0.0f);
    zero(a->dres, nC);
    const float *x_last = L ? a->layers[L - 1].res3 : a->encoded;
    layernorm_backward(a->dres, m->g.lnf_w, m->g.lnf_b, a->dtmp, x_last, m->p.lnf_w, a->lnf_mean, a->lnf_rstd, BT, C);

    for (int l = L - 1; l >= 0; l--) {
        LayerActs *la = &a->layers[l];
        const BlockParams *p = &m->p.blocks[l];
        BlockParams *g = &m->g.blocks[l];
        const float *x = l ? a->layers[l - 1].res3 : a->encoded;
        ctx = model_pos_ctx(m, l, 1);
        /* res3 = res2 + fcp(gelu(fc(ln2(res2)))); dres is d res3, and flows to res2 unchanged */
        matmul_backward(a->dfch, g->fcp_w, g->fcp_b, a->dres, la->fch_gelu, p->fcp_w, BT, 4 * C, C, 0.0f);
        gelu_backward_kept(a->dfch, la->fch, a->dfch, nC * 4);
        matmul_backward(a->dtmp, g->fc_w, g->fc_b, a->dfch, la->ln2, p->fc_w, BT, C, 4 * C, 0.0f);
        layernorm_backward(a->dres, g->ln2_w, g->ln2_b, a->dtmp, la->res2, p->ln2_w, la->ln2_mean, la->ln2_rstd, BT, C);
        /* res2 = x + proj(atty); dres is now d res2 and flows to x unchanged */
        matmul_backward(a->dtmp, g->proj_w, g->proj_b, a->dres, la->atty, p->proj_w, BT, C, C, 0.0f);
        if (m->pos->data_forward) {   /* the forward's values, and their gradient from the bias */
            ctx.data = la->pdata;
            ctx.data_len = T;
            ctx.ddata = a->dpdata;
            zero(a->dpdata, (size_t)B * NH * T);
        }
        attention_backward_at(a->dq, a->dk, a->dqkv + 2 * C, a->dtmp, rows_token_major(T, C, hs), la->att, la->q,
                              la->k, la->qkv + 2 * C, rows_token_major(T, 3 * C, hs), B, NH, T, hs, m->pos, &ctx);
        pos_qk_apply(m, m->pos->qk_backward, a->dq, a->dk, B, T, &ctx);  /* dx_in = J^T dx_out */
        merge_heads(a->dqkv, a->dq, a->dk, NULL, B, T, NH, hs);   /* with d v above, dqkv is written whole */
        matmul_backward(a->dtmp, g->qkv_w, g->qkv_b, a->dqkv, la->ln1, p->qkv_w, BT, C, 3 * C, 0.0f);
        pos_data_backward(m, a->dtmp, a->dpdata, la->ln1, B, T, &ctx);   /* ln1 also fed the data hook */
        layernorm_backward(a->dres, g->ln1_w, g->ln1_b, a->dtmp, x, p->ln1_w, la->ln1_mean, la->ln1_rstd, BT, C);
    }
    /* encoded = sqrt(C) tok_emb[x] + PE */
    ctx = model_pos_ctx(m, 0, 1);
    if (m->pos->embed_backward && ctx.dp)
        for (int b = 0; b < B; b++) m->pos->embed_backward(a->dres + (size_t)b * T * C, T, &ctx);
    encoder_backward(m->g.tok_emb, a->dres, m->inputs, sqrtf((float)C), BT, C);
}

/* ---- evaluation: one window, memory linear in T ------------------------------ */

typedef struct EvalBufs {
    float *x, *ln, *mean, *rstd;   /* (T, C), (T, C), (T), (T) */
    float *qkv;                    /* (T, 3C) */
    float *q, *k, *v, *atty_h;     /* (NH, T, hs) */
    float *pdata;                  /* (NH, T) a data-dependent method's values */
    float *atty;                   /* (T, C) */
    float *fch;                    /* (T, 4C) */
    float *logits, *lse;           /* (EVAL_LOGIT_ROWS, V), (EVAL_LOGIT_ROWS) */
} EvalBufs;

static void carve_eval(Carver *cv, EvalBufs *e, size_t T, size_t C, size_t NH, size_t V) {
    e->x = carve(cv, T * C);
    e->ln = carve(cv, T * C);
    e->mean = carve(cv, T);
    e->rstd = carve(cv, T);
    e->qkv = carve(cv, T * 3 * C);
    e->q = carve(cv, T * C);
    e->k = carve(cv, T * C);
    e->v = carve(cv, T * C);
    e->atty_h = carve(cv, T * C);
    e->pdata = carve(cv, T * NH);
    e->atty = carve(cv, T * C);
    e->fch = carve(cv, T * 4 * C);
    e->logits = carve(cv, (size_t)EVAL_LOGIT_ROWS * V);
    e->lse = carve(cv, EVAL_LOGIT_ROWS);
}

void model_reserve_eval(Model *m, int T) {
    if (T <= m->T_eval_max) return;
    free(m->eval_buf);
    EvalBufs e;
    Carver cv = {NULL, 0};
    carve_eval(&cv, &e, T, m->cfg.d_model, m->cfg.n_head, m->cfg.vocab);
    m->n_eval = cv.used;
    m->eval_buf = xmalloc_floats(m->n_eval);
    m->T_eval_max = T;
}

double model_eval_window(Model *m, const int *inputs, const int *targets, int T, float *nll) {
    return model_eval_window_top1(m, inputs, targets, T, nll, NULL, T);
}

static int pre_cap(const EvalPrefix *pre) { return pre ? pre->cap : 0; }

/* logits (n, V): out[i] = the index of row i's largest value (the first on a tie). */
static void argmax_rows(int *out, const float *logits, int n, int V) {
    for (int i = 0; i < n; i++) {
        const float *r = logits + (size_t)i * V;
        int best = 0;
        for (int v = 1; v < V; v++)
            if (r[v] > r[best]) best = v;
        out[i] = best;
    }
}

/* One layer of the evaluation forward on rows from..T-1 of e (rows < from: keys and values from
 * pre, whose first `from` positions they are); save: keep this layer's keys and values in pre. */
static void eval_layer(Model *m, EvalBufs *e, int l, int T, int from, EvalPrefix *pre, int save) {
    int C = m->cfg.d_model, NH = m->cfg.n_head, hs = C / NH, S = T - from;
    const BlockParams *p = &m->p.blocks[l];
    PosCtx ctx = model_pos_ctx(m, l, 0);
    size_t oC = (size_t)from * C, nC = (size_t)S * C;
    layernorm_forward(e->ln + oC, e->mean + from, e->rstd + from, e->x + oC, p->ln1_w, p->ln1_b, S, C);
    if (from) memset(e->qkv, 0, sizeof(float) * 3 * oC);   /* rows before from: replaced below */
    matmul_forward(e->qkv + 3 * oC, e->ln + oC, p->qkv_w, p->qkv_b, S, C, 3 * C);
    split_heads(e->q, e->k, e->v, e->qkv, 1, T, NH, hs);
    pos_data_forward(m, e->pdata, e->ln, 1, T, &ctx);
    pos_qk_apply(m, m->pos->qk_forward, e->q, e->k, 1, T, &ctx);
    size_t layer = (size_t)l * NH * pre_cap(pre) * hs;
    for (int h = 0; pre && (save || from) && h < NH; h++) {   /* (NH, T, hs) rows 0..n of each head */
        int n = save ? T : from;
        float *ck = pre->k + layer + (size_t)h * pre->cap * hs, *cv = pre->v + layer + (size_t)h * pre->cap * hs;
        float *k = e->k + (size_t)h * T * hs, *v = e->v + (size_t)h * T * hs;
        size_t bytes = sizeof(float) * (size_t)n * hs;
        if (save) memcpy(ck, k, bytes), memcpy(cv, v, bytes);
        else memcpy(k, ck, bytes), memcpy(v, cv, bytes);
    }
    if (m->eval_logn) attention_scale_logn(e->q, 1, NH, T, hs, m->cfg.train_len);
    attention_forward_tiled_rows(e->atty_h, e->q, e->k, e->v, 1, NH, T, hs, m->pos, &ctx, m->eval_window, from);
    heads_to_tokens(e->atty, e->atty_h, 1, T, NH, hs);
    matmul_residual_forward(e->x + oC, e->atty + oC, p->proj_w, p->proj_b, e->x + oC, S, C, C);
    layernorm_forward(e->ln + oC, e->mean + from, e->rstd + from, e->x + oC, p->ln2_w, p->ln2_b, S, C);
    matmul_forward(e->fch + 4 * oC, e->ln + oC, p->fc_w, p->fc_b, S, C, 4 * C);
    gelu_forward(e->fch + 4 * oC, e->fch + 4 * oC, nC * 4);
    matmul_residual_forward(e->x + oC, e->fch + 4 * oC, p->fcp_w, p->fcp_b, e->x + oC, S, 4 * C, C);
}

int model_eval_prefix_ok(const Model *m) { return !m->pos->data_forward; }

void model_prefix_free(EvalPrefix *pre) {
    free(pre->k);
    free(pre->v);
    memset(pre, 0, sizeof *pre);
}

double model_eval_window_top1(Model *m, const int *inputs, const int *targets, int T, float *nll, int *top1,
                              int top1_from) {
    return model_eval_window_prefix(m, inputs, targets, T, NULL, 0, nll, top1, top1_from);
}

double model_eval_window_prefix(Model *m, const int *inputs, const int *targets, int T, EvalPrefix *pre, int save,
                                float *nll, int *top1, int top1_from) {
    int C = m->cfg.d_model, NH = m->cfg.n_head, V = m->cfg.vocab;
    int from = pre && !save ? pre->len : 0;
    if (from >= T || (pre && !model_eval_prefix_ok(m))) die_internal("model_eval_window_prefix: bad prefix use");
    if (pre && save && pre->cap < T) {
        model_prefix_free(pre);
        pre->cap = T;
        pre->k = xmalloc_floats((size_t)m->cfg.n_layer * C * T);
        pre->v = xmalloc_floats((size_t)m->cfg.n_layer * C * T);
    }
    model_reserve_eval(m, T);
    model_pos_cache(m, T);
    PosCtx ctx = model_pos_ctx(m, 0, 0);
    EvalBufs e;
    Carver cv = {m->eval_buf, 0};
    carve_eval(&cv, &e, m->T_eval_max, C, NH, V);
    encoder_forward(e.x, inputs, m->p.tok_emb, sqrtf((float)C), T, C);
    pos_embed_forward(m, e.x, 1, T, &ctx);
    for (int l = 0; l < m->cfg.n_layer; l++) eval_layer(m, &e, l, T, from, pre, save);
    if (pre && save) pre->len = T;
    size_t oC = (size_t)from * C;
    layernorm_forward(e.ln + oC, e.mean + from, e.rstd + from, e.x + oC, m->p.lnf_w, m->p.lnf_b, T - from, C);
    double total = 0.0;
    for (int t = 0; t < from; t++) nll[t] = 0.0f;
    for (int r0 = from; r0 < T; r0 += EVAL_LOGIT_ROWS) {
        int n = T - r0 < EVAL_LOGIT_ROWS ? T - r0 : EVAL_LOGIT_ROWS;
        matmul_forward(e.logits, e.ln + (size_t)r0 * C, m->p.tok_emb, NULL, n, C, V);
        crossentropy_forward(nll + r0, e.lse, e.logits, targets + r0, n, V);
        for (int i = 0; i < n; i++) total += nll[r0 + i];
        if (top1 && r0 + n > top1_from) {
            int a = top1_from > r0 ? top1_from - r0 : 0;
            argmax_rows(top1 + r0 + a, e.logits + (size_t)a * V, n - a, V);
        }
    }
    return total;
}

size_t model_bytes_params(const Model *m) { return m->n_params * sizeof(float); }
size_t model_bytes_train_acts(const Model *m) {   /* replicas' gradients count as training memory */
    size_t n = m->n_acts;
    for (int i = 0; i < m->n_reps; i++) n += m->reps[i].n_acts + m->reps[i].n_params;
    return n * sizeof(float);
}
size_t model_bytes_eval(const Model *m) { return m->n_eval * sizeof(float); }
