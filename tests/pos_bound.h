/* pos_bound.h — a position method bound to one layer's parameters, outside the
 * model: the tensors back to back in one flat buffer (random N(0, std) or the
 * method's own initialisation), a flat gradient buffer, the pointer arrays the
 * hooks read (ctx.p, ctx.dp) and the cache for positions < T. Shared by the
 * method and attention tests. */
#ifndef POSBENCH_POS_BOUND_H
#define POSBENCH_POS_BOUND_H
#include "../methods/method.h"

typedef struct PosBound {
    const PosMethod *m;
    PosCtx ctx;
    float *params, *dparams, *cache;   /* (n_params), (n_params), (cache_size) */
    float *table;                      /* (table_size) this layer's table, or NULL */
    size_t n_params;
    int nt;
    const float **p;                   /* (nt) into params */
    float **dp;                        /* (nt) into dparams, or another flat buffer */
    /* data-dependent methods (data_forward set), else NULL: POS_BOUND_SEQS
     * sequences of attention input x N(0, 1) and the values computed from them */
    float *x, *dx;                     /* (POS_BOUND_SEQS, T, C) */
    float *data, *ddata;               /* (POS_BOUND_SEQS, NH, T); ctx.data, ctx.ddata */
} PosBound;

#define POS_BOUND_SEQS 2

/* std > 0: params N(0, std) from seed; std == 0: the method's init (layer 0),
 * then its projection. The table is filled. */
PosBound pos_bound_make(const PosMethod *m, PosConfig cfg, int T, float std, uint64_t seed);
/* Point ctx.dp at a flat gradient buffer (NULL: not training). */
void pos_bound_grads(PosBound *b, float *flat);
/* Refill the cache (and table) after cfg changed (options), for positions < T. */
void pos_bound_recache(PosBound *b, int T);
/* Refill the table (and the data values) after the parameters or x changed. */
void pos_bound_refresh(PosBound *b);
void pos_bound_free(PosBound *b);
/* Data-dependent methods: zero ddata (before bias_backward gathers into it), and
 * push it through data_backward into dx (zeroed first) and ctx.dp, for the
 * first nseq sequences. No-ops for other methods. */
void pos_bound_zero_ddata(PosBound *b);
void pos_bound_data_backward(PosBound *b, int nseq);

#endif
