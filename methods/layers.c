/* layers.c — per-layer composition: registered methods assigned per layer, as
 * one method spec,
 *
 *   layers=rotary+rotary+rotary+nope       (one item per layer, '+' between them)
 *   layers=rotary:pi=2+alibi               (an item is a spec: options per layer)
 *
 * e.g. the interleaved RoPE/NoPE layers of recent long-context models. The
 * number of items must equal n_layer. Items are separated by '+' and not ','
 * so that a composition stays one item of a comma-separated method list
 * (presets, --methods) and one cell of results.csv.
 *
 * How it works: a composition is one PosMethod (pos_layers, not in the
 * registry list, so `methods = all` does not include it) whose hooks hand each
 * call to the method of ctx->layer, with that method's options, its own
 * tensors, cache slice and table. cfg.layers points at the parsed composition
 * (interned here for the life of the process, so a PosConfig stays a plain
 * value). Tensors: every item gets its own copy of each of its method's
 * tensors, named "pos.layers.<l>.<method>.<what>" and declared shared (one
 * copy, used by layer l only); a method whose tensor is shared across layers
 * (T5's table) therefore has one table per layer it is used in. The embed hook
 * runs once before the first block, not per layer: absolute methods are
 * refused in a composition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "method.h"

#define LAYERS_PREFIX "layers="
#define LAYERS_MAX 64      /* items, as the model's n_layer */
#define LAYERS_INTERNED 64 /* distinct compositions per process */

struct PosLayers {
    char spec[POS_SPEC_LEN];
    int n;
    const PosMethod *m[LAYERS_MAX];
    double opt[LAYERS_MAX][POS_MAX_OPTIONS];
    int t0[LAYERS_MAX + 1];   /* layer l's tensors are t0[l] .. t0[l+1]-1 of the composition */
    char label[160];          /* "RoPE×3+NoPE" */
};

static struct PosLayers interned[LAYERS_INTERNED];
static int n_interned;

int pos_is_layers_spec(const char *spec) { return spec && !strncmp(spec, LAYERS_PREFIX, strlen(LAYERS_PREFIX)); }

/* The config layer l's method sees: its options, no composition. */
static PosConfig sub_cfg(const PosConfig *cfg, int l) {
    PosConfig c = *cfg;
    memcpy(c.opt, cfg->layers->opt[l], sizeof c.opt);
    c.layers = NULL;
    return c;
}

/* Floats of layer l's cache for positions < T; offset = the layers before it. */
static size_t sub_cache(const PosConfig *cfg, int l, int T) {
    const PosMethod *m = cfg->layers->m[l];
    PosConfig c = sub_cfg(cfg, l);
    return m->cache_size ? m->cache_size(&c, T) : 0;
}

static size_t cache_offset(const PosConfig *cfg, int l, int T) {
    size_t off = 0;
    for (int k = 0; k < l; k++) off += sub_cache(cfg, k, T);
    return off;
}

/* ctx as layer ctx->layer's method sees it */
static PosCtx sub_ctx(const PosCtx *ctx) {
    const struct PosLayers *L = ctx->cfg.layers;
    int l = ctx->layer;
    PosCtx c = *ctx;
    c.cfg = sub_cfg(&ctx->cfg, l);
    c.p = ctx->p ? ctx->p + L->t0[l] : NULL;
    c.dp = ctx->dp ? ctx->dp + L->t0[l] : NULL;
    c.cache = ctx->cache ? ctx->cache + cache_offset(&ctx->cfg, l, ctx->cache_len) : NULL;
    return c;
}

#define SUB(ctx) ((ctx)->cfg.layers->m[(ctx)->layer])

/* ---- parsing -------------------------------------------------------------------- */

/* "RoPE×3+NoPE": runs of equal items grouped; an item with options is
 * "RoPE (pi=2)". */
static void make_label(struct PosLayers *L, char items[][POS_SPEC_LEN]) {
    size_t len = 0;
    L->label[0] = '\0';
    for (int l = 0; l < L->n;) {
        int run = 1;
        while (l + run < L->n && !strcmp(items[l], items[l + run])) run++;
        const char *colon = strchr(items[l], ':');
        char one[128];
        if (colon) snprintf(one, sizeof one, "%s (%s)", L->m[l]->label, colon + 1);
        else snprintf(one, sizeof one, "%s", L->m[l]->label);
        if (len < sizeof L->label) {
            if (run > 1)
                len += (size_t)snprintf(L->label + len, sizeof L->label - len, "%s%s\xc3\x97%d", l ? "+" : "", one, run);
            else len += (size_t)snprintf(L->label + len, sizeof L->label - len, "%s%s", l ? "+" : "", one);
        }
        l += run;
    }
}

/* Parse "layers=a+b+..." into L; 0 or -1 + err. */
static int parse_layers(const char *spec, struct PosLayers *L, const PosConfig *ref, char *err, size_t errlen) {
    static char items[LAYERS_MAX][POS_SPEC_LEN];
    memset(L, 0, sizeof *L);
    snprintf(L->spec, sizeof L->spec, "%s", spec);
    const char *s = spec + strlen(LAYERS_PREFIX);
    for (;;) {
        size_t len = strcspn(s, "+");
        if (len == 0 || len >= POS_SPEC_LEN) {
            snprintf(err, errlen, "method spec '%s': every layer needs a method (layers=rotary+rotary+nope)", spec);
            return -1;
        }
        if (L->n == LAYERS_MAX) {
            snprintf(err, errlen, "method spec '%s': more than %d layers", spec, LAYERS_MAX);
            return -1;
        }
        memcpy(items[L->n], s, len);
        items[L->n][len] = '\0';
        PosConfig c = *ref;
        c.layers = NULL;
        char why[ERRLEN];
        if (pos_is_layers_spec(items[L->n]) || pos_spec_parse(items[L->n], &L->m[L->n], &c, why, sizeof why) != 0) {
            snprintf(err, errlen, "method spec '%s', layer %d: %s", spec, L->n,
                     pos_is_layers_spec(items[L->n]) ? "a composition cannot be nested" : why);
            return -1;
        }
        if (L->m[L->n]->embed_forward) {
            snprintf(err, errlen, "method spec '%s', layer %d: %s adds positions once before the first block, not per "
                     "layer; it cannot be one layer's method", spec, L->n, L->m[L->n]->name);
            return -1;
        }
        memcpy(L->opt[L->n], c.opt, sizeof c.opt);
        L->t0[L->n + 1] = L->t0[L->n] + pos_tensor_count(L->m[L->n], &c);
        L->n++;
        if (!s[len]) break;
        s += len + 1;
    }
    make_label(L, items);
    return 0;
}

int pos_layers_parse(const char *spec, PosConfig *cfg, char *err, size_t errlen) {
    struct PosLayers L;
    if (parse_layers(spec, &L, cfg, err, errlen) != 0) return -1;
    if (cfg->n_layer > 0 && L.n != cfg->n_layer) {
        snprintf(err, errlen, "method spec '%s' names %d layers, but the model has n_layer = %d", spec, L.n,
                 cfg->n_layer);
        return -1;
    }
    for (int k = 0; k < n_interned; k++)
        if (!strcmp(interned[k].spec, spec)) {
            cfg->layers = &interned[k];
            return 0;
        }
    if (n_interned == LAYERS_INTERNED) {
        snprintf(err, errlen, "method spec '%s': more than %d compositions in one process", spec, LAYERS_INTERNED);
        return -1;
    }
    interned[n_interned] = L;
    cfg->layers = &interned[n_interned++];
    return 0;
}

const char *pos_layers_label(const PosConfig *cfg) { return cfg->layers ? cfg->layers->label : NULL; }
const PosMethod *pos_layers_item(const PosConfig *cfg, int l) {
    return cfg->layers && l >= 0 && l < cfg->layers->n ? cfg->layers->m[l] : NULL;
}

/* ---- tensors -------------------------------------------------------------------- */

/* composition tensor k -> (layer, the layer method's tensor index) */
static int tensor_layer(const struct PosLayers *L, int k, int *sk) {
    int l = 0;
    while (l + 1 < L->n && L->t0[l + 1] <= k) l++;
    *sk = k - L->t0[l];
    return l;
}

static int layers_tensors(PosTensor *out, const PosConfig *cfg) {
    const struct PosLayers *L = cfg->layers;
    if (out)
        for (int l = 0; l < L->n; l++) {
            PosConfig c = sub_cfg(cfg, l);
            int n;
            PosTensor *t = pos_tensor_list(L->m[l], &c, &n);
            for (int k = 0; k < n; k++) {
                PosTensor *o = &out[L->t0[l] + k];
                *o = t[k];
                snprintf(o->name, sizeof o->name, "pos.layers.%d.%s", l, t[k].name + 4);   /* drop "pos." */
                o->per_layer = 0;   /* one copy, used by layer l */
            }
            free(t);
        }
    return L->t0[L->n];
}

static void layers_init(float *x, int k, int layer, const PosConfig *cfg, Rng *rng) {
    (void)layer;
    int sk, l = tensor_layer(cfg->layers, k, &sk);
    const PosMethod *m = cfg->layers->m[l];
    PosConfig c = sub_cfg(cfg, l);
    PosTensor *t = xcalloc((size_t)pos_tensor_count(m, &c), sizeof(PosTensor));
    m->tensors(t, &c);
    if (m->init) m->init(x, sk, t[sk].per_layer ? l : -1, &c, rng);   /* NULL init: the model's zeros */
    free(t);
}

static void layers_project(float *x, size_t n, int k, const PosConfig *cfg) {
    int sk, l = tensor_layer(cfg->layers, k, &sk);
    PosConfig c = sub_cfg(cfg, l);
    if (cfg->layers->m[l]->project) cfg->layers->m[l]->project(x, n, sk, &c);
}

/* ---- tables -------------------------------------------------------------------- */

static size_t layers_cache_size(const PosConfig *cfg, int T) { return cache_offset(cfg, cfg->layers->n, T); }

static void layers_cache_fill(float *cache, const PosConfig *cfg, int T) {
    for (int l = 0; l < cfg->layers->n; l++) {
        PosConfig c = sub_cfg(cfg, l);
        if (cfg->layers->m[l]->cache_fill) cfg->layers->m[l]->cache_fill(cache + cache_offset(cfg, l, T), &c, T);
    }
}

static size_t layers_table_size(const PosConfig *cfg, int T) {
    size_t n = 0;
    for (int l = 0; l < cfg->layers->n; l++) {
        PosConfig c = sub_cfg(cfg, l);
        const PosMethod *m = cfg->layers->m[l];
        size_t s = m->table_size ? m->table_size(&c, T) : 0;
        n = s > n ? s : n;
    }
    return n;
}

static void layers_table_fill(float *table, int T, const PosCtx *ctx) {
    PosCtx c = sub_ctx(ctx);
    if (SUB(ctx)->table_fill) SUB(ctx)->table_fill(table, T, &c);
}

/* Every length the methods of all layers can do; the first refusal's reason. */
static int layers_check_len(const PosConfig *cfg, int T, char *err, size_t errlen) {
    for (int l = 0; l < cfg->layers->n; l++) {
        PosConfig c = sub_cfg(cfg, l);
        const PosMethod *m = cfg->layers->m[l];
        if (m->check_len && m->check_len(&c, T, err, errlen) != 0) return -1;
    }
    return 0;
}

/* ---- hooks: layer ctx->layer's method, or nothing ------------------------------------ */

static void layers_qk_forward(float *x, int T, int head, int is_key, const PosCtx *ctx) {
    PosCtx c = sub_ctx(ctx);
    if (SUB(ctx)->qk_forward) SUB(ctx)->qk_forward(x, T, head, is_key, &c);
}

static void layers_qk_backward(float *dx, int T, int head, int is_key, const PosCtx *ctx) {
    PosCtx c = sub_ctx(ctx);
    if (SUB(ctx)->qk_backward) SUB(ctx)->qk_backward(dx, T, head, is_key, &c);
}

static void layers_bias_add(float *scores, int ld, int h, int i0, int ni, int j0, int nj, const PosCtx *ctx) {
    PosCtx c = sub_ctx(ctx);
    if (SUB(ctx)->bias_add) SUB(ctx)->bias_add(scores, ld, h, i0, ni, j0, nj, &c);
}

static void layers_bias_backward(const float *dscores, int ld, int h, int i0, int ni, int j0, int nj,
                                 const PosCtx *ctx) {
    PosCtx c = sub_ctx(ctx);
    if (SUB(ctx)->bias_backward) SUB(ctx)->bias_backward(dscores, ld, h, i0, ni, j0, nj, &c);
}

static void layers_data_forward(float *vals, const float *x, int T, const PosCtx *ctx) {
    PosCtx c = sub_ctx(ctx);
    if (SUB(ctx)->data_forward) SUB(ctx)->data_forward(vals, x, T, &c);
}

static void layers_data_backward(float *dx, const float *dvals, const float *x, int T, const PosCtx *ctx) {
    PosCtx c = sub_ctx(ctx);
    if (SUB(ctx)->data_backward) SUB(ctx)->data_backward(dx, dvals, x, T, &c);
}

const PosMethod pos_layers = {
    .name = "layers",
    .summary = "registered methods per layer: layers=rotary+rotary+rotary+nope (one item per layer, options per item)",
    .label = "per-layer",
    .citation = "per-layer composition of the methods named",
    .family = POS_FAMILY_NONE,
    .tensors = layers_tensors,
    .init = layers_init,
    .project = layers_project,
    .cache_size = layers_cache_size,
    .cache_fill = layers_cache_fill,
    .table_size = layers_table_size,
    .table_fill = layers_table_fill,
    .check_len = layers_check_len,
    .qk_forward = layers_qk_forward,
    .qk_backward = layers_qk_backward,
    .bias_add = layers_bias_add,
    .bias_backward = layers_bias_backward,
    .data_forward = layers_data_forward,
    .data_backward = layers_data_backward,
};
