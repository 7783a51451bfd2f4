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
    if (m->data_forward) {
        size_t nx = (size_t)POS_BOUND_SEQS * T * cfg.d_model, nd = (size_t)POS_BOUND_SEQS * cfg.n_head * T;
        b.x = xmalloc_floats(nx);
        b.dx = xmalloc_floats(nx);
        b.data = xmalloc_floats(nd);
        b.ddata = xmalloc_floats(nd);
        for (size_t k = 0; k < nx; k++) b.x[k] = rng_normal(&rng);
        b.ctx.data = b.data;
        b.ctx.ddata = b.ddata;
        b.ctx.data_len = T;
    }
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
    if (b->data) {
        int T = b->ctx.data_len, C = b->ctx.cfg.d_model, NH = b->ctx.cfg.n_head;
        for (int s = 0; s < POS_BOUND_SEQS; s++)
            b->m->data_forward(b->data + (size_t)s * NH * T, b->x + (size_t)s * T * C, T, &b->ctx);
    }
}

void pos_bound_zero_ddata(PosBound *b) {
    if (b->ddata) memset(b->ddata, 0, sizeof(float) * POS_BOUND_SEQS * b->ctx.cfg.n_head * b->ctx.data_len);
}

void pos_bound_data_backward(PosBound *b, int nseq) {
    if (!b->data) return;
    int T = b->ctx.data_len, C = b->ctx.cfg.d_model, NH = b->ctx.cfg.n_head;
    memset(b->dx, 0, sizeof(float) * POS_BOUND_SEQS * T * C);
    for (int s = 0; s < nseq; s++)
        b->m->data_backward(b->dx + (size_t)s * T * C, b->ddata + (size_t)s * NH * T, b->x + (size_t)s * T * C, T,
                            &b->ctx);
}

void pos_bound_free(PosBound *b) {
    free(b->params);
    free(b->dparams);
    free(b->cache);
    free(b->table);
    free(b->p);
    free(b->dp);
    free(b->x);
    free(b->dx);
    free(b->data);
    free(b->ddata);
    memset(b, 0, sizeof *b);
}
