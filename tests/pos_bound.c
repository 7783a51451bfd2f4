/* pos_bound.c — see pos_bound.h */
#include "pos_bound.h"
#include <stdlib.h>
#include <string.h>

PosBound pos_bound_make(const PosMethod *m, PosConfig cfg, int T, float std, uint64_t seed) {
    PosBound b;
    memset(&b, 0, sizeof b);
    b.m = m;
    b.n_params = pos_layer_param_count(m, &cfg);
    b.nt = pos_tensor_count(m, &cfg);
    b.params = xmalloc_floats(b.n_params + 1);
    b.dparams = xmalloc_floats(b.n_params + 1);
    Rng rng;
    rng_seed(&rng, seed);
    if (std > 0) {
        for (size_t k = 0; k < b.n_params; k++) b.params[k] = std * rng_normal(&rng);
    } else if (m->init) {
        int n;
        PosTensor *t = pos_tensor_list(m, &cfg, &n);
        size_t off = 0;
        for (int k = 0; k < n; k++) {
            m->init(b.params + off, k, t[k].per_layer ? 0 : -1, &cfg, &rng);
            if (m->project) m->project(b.params + off, pos_tensor_numel(&t[k]), k, &cfg);
            off += pos_tensor_numel(&t[k]);
        }
        free(t);
    }
    b.p = xcalloc((size_t)b.nt + 1, sizeof(float *));
    b.dp = xcalloc((size_t)b.nt + 1, sizeof(float *));
    pos_bind_flat(m, &cfg, b.params, b.dparams, b.p, b.dp);
    b.ctx.cfg = cfg;
    b.ctx.p = b.nt ? b.p : NULL;
    b.ctx.dp = b.nt ? b.dp : NULL;
    pos_bound_recache(&b, T);
    return b;
}

void pos_bound_grads(PosBound *b, float *flat) {
    if (!b->nt) return;
    pos_bind_flat(b->m, &b->ctx.cfg, NULL, flat, NULL, b->dp);
    b->ctx.dp = flat ? b->dp : NULL;
}

void pos_bound_recache(PosBound *b, int T) {
    free(b->cache);
    b->cache = NULL;
    if (b->m->cache_size) {
        b->cache = xmalloc_floats(b->m->cache_size(&b->ctx.cfg, T) + 1);
        b->m->cache_fill(b->cache, &b->ctx.cfg, T);
    }
    b->ctx.cache = b->cache;
    b->ctx.cache_len = T;
    free(b->table);
    b->table = b->m->table_size ? xmalloc_floats(b->m->table_size(&b->ctx.cfg, T) + 1) : NULL;
    b->ctx.table = b->table;
    b->ctx.table_len = T;
    pos_bound_refresh(b);
}

void pos_bound_refresh(PosBound *b) {
    if (b->table) b->m->table_fill(b->table, b->ctx.cache_len, &b->ctx);
}

void pos_bound_free(PosBound *b) {
    free(b->params);
    free(b->dparams);
    free(b->cache);
    free(b->table);
    free(b->p);
    free(b->dp);
    memset(b, 0, sizeof *b);
}
