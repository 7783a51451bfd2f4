/* data_parallel.c — the training step over a batch split by sequences (model.h:
 * model_train_grads, model_train_step).
 *
 * With one thread per shard, a step has one parallel region for the forward and
 * backward of the whole model instead of one per op (about 200 in a `quick` step,
 * each a fork, a join and, with passive waiting, a kernel wake-up), and each
 * shard's products run single-threaded on rows the thread keeps in its own cache.
 * Inside the region every op, product and attention loop sees omp_in_parallel()
 * and runs on its caller's thread alone, opening no region of its own (FOR_SLICES,
 * ops.h: libgomp would still build a team of one for each, ~80 per shard and step).
 *
 *   shard s of n: sequences [b0(s), b0(s+1)), b0(s) = s*B/n rounded down
 *   grads = sum over s, in s order, of shard s's gradient of (sum of its token
 *           losses) / (B*T)    (model_backward with loss_tokens = B*T)
 *   loss  = sum over s, in s order, of (sum of shard s's token losses) / (B*T)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "gemm_bf16.h"
#include "ops.h"

/* Automatic: one shard per thread (in bf16 too: each thread then converts the weights for its
 * own products, and still measured faster than one shard whose products split; README, Threads). */
int model_train_shards(const Model *m, int B) {
    int n = m->shards > 0 ? m->shards : omp_max_threads();
    return n < B ? n : B;
}

static int shard_start(int s, int n, int B) { return (int)((long)s * B / n); }

/* Replicas for shards 1..n-1, created once and kept; each borrows m's position cache
 * (filled here first, so no replica reallocates it) and follows m's method options. */
static void prepare_replicas(Model *m, int n, int T) {
    if (m->n_reps < n - 1) {
        m->reps = xrealloc(m->reps, sizeof(Model) * (size_t)(n - 1));
        for (int i = m->n_reps; i < n - 1; i++) model_build_replica(&m->reps[i], m);
        m->n_reps = n - 1;
    }
    model_pos_cache(m, T);
    for (int i = 0; i < n - 1; i++) {
        Model *r = &m->reps[i];
        if (memcmp(&r->pcfg, &m->pcfg, sizeof r->pcfg) != 0) {   /* options changed: the table's size may */
            r->pcfg = m->pcfg;
            free(r->pos_table);
            r->pos_table = NULL;
            r->pos_len = 0;
        }
        r->pos_cache = m->pos_cache;
        r->pos_cache_len = m->pos_cache_len;
    }
}

/* bf16 products: each linear weight W (R x C) packed once for the step in both layouts its
 * products use (forward: op(B) = W^T, N = R, K = C; the input's gradient: op(B) = W, N = C,
 * K = R), shared by the shards' threads instead of converted by each (gemm_bf16.h). */
static void prepack_weights(const Model *m) {
    if (!ops_bf16()) return;
    for (int i = 0; i < 3 + 12 * m->cfg.n_layer; i++) {   /* the model's tensors, before the method's */
        const Tensor *t = &m->tensors[i];
        if (t->ndim != 2) continue;
        const float *w = m->params + t->offset;
        gemm_bf16_prepack(w, 1, t->shape[0], t->shape[1], t->shape[1]);
        gemm_bf16_prepack(w, 0, t->shape[1], t->shape[0], t->shape[1]);
    }
}

/* Sum of the token losses of x's last forward, in token order. */
static double loss_sum(const Model *x) {
    double s = 0.0;
    for (int t = 0; t < x->B * x->T; t++) s += x->token_loss[t];
    return s;
}

/* Shard s of n of the batch forward and backward on x (m for s = 0); returns its loss sum. */
static double run_shard(Model *m, int s, int n, const int *inputs, const int *targets, int B, int T) {
    Model *x = s ? &m->reps[s - 1] : m;
    int b0 = shard_start(s, n, B), nb = shard_start(s + 1, n, B) - b0;
    x->loss_tokens = B * T;
    model_forward(x, inputs + (size_t)b0 * T, targets + (size_t)b0 * T, nb, T);
    if (!x->grads_clear) model_zero_grad(x);
    model_backward(x);
    return loss_sum(x);
}

/* Inside the team: every shard (a smaller team than asked still runs them all), then, after a
 * barrier, grads += the replicas' gradients in shard order, in the norm's chunks, clearing each
 * replica's entries once read (while they are in cache: the replicas' next step needs no
 * zeroing pass); part[c] gets chunk c's sum of squares when part is not NULL. */
static void shards_team(Model *m, int n, const int *inputs, const int *targets, int B, int T, double *sums,
                        double *part) {
    int team = 1, id = 0;
#ifdef _OPENMP
    team = omp_get_num_threads();
    id = omp_get_thread_num();
#endif
    for (int s = id; s < n; s += team) sums[s] = run_shard(m, s, n, inputs, targets, B, T);
#pragma omp barrier
    long np = (long)m->n_params, n_chunks = grad_norm_chunks(np);
#pragma omp for schedule(static)
    for (long c = 0; c < n_chunks; c++) {
        long a = c * GRAD_NORM_CHUNK, e = a + GRAD_NORM_CHUNK < np ? a + GRAD_NORM_CHUNK : np;
        for (int r = 0; r < n - 1; r++) {
            float *g = m->reps[r].grads;
            for (long i = a; i < e; i++) m->grads[i] += g[i];
            memset(g + a, 0, sizeof(float) * (size_t)(e - a));
        }
        if (part) part[c] = grad_sq_chunk(m->grads, np, c);   /* the chunk just summed, still in cache */
    }
#pragma omp master
    for (int r = 0; r < n - 1; r++) m->reps[r].grads_clear = 1;   /* read after the region ends */
}

/* One shard: the whole batch on m, each op split over the threads. */
static float whole_batch(Model *m, const int *inputs, const int *targets, int B, int T) {
    float loss = model_forward(m, inputs, targets, B, T);
    if (!m->grads_clear) model_zero_grad(m);
    model_backward(m);
    return loss;
}

static float mean_loss(Model *m, const double *sums, int n, int B, int T) {
    double total = 0.0;
    for (int s = 0; s < n; s++) total += sums[s];
    m->loss_tokens = 0;
    m->loss = (float)(total / ((double)B * T));
    return m->loss;
}

float model_train_grads(Model *m, const int *inputs, const int *targets, int B, int T) {
    int n = model_train_shards(m, B);
    if (n <= 1) return whole_batch(m, inputs, targets, B, T);
    prepare_replicas(m, n, T);
    prepack_weights(m);
    int nth = omp_max_threads() < n ? omp_max_threads() : n;
    double *sums = xcalloc((size_t)n, sizeof(double));
#pragma omp parallel num_threads(nth)
    shards_team(m, n, inputs, targets, B, T, sums, NULL);
    gemm_bf16_prepack_clear();
    float loss = mean_loss(m, sums, n, B, T);
    free(sums);
    return loss;
}

/* See model.h. One shard: the forward and backward split each op over the threads (as
 * model_train_grads); then one region for the norm and the update. Several: one region for
 * everything. */
int model_train_step(Model *m, AdamW *o, const int *inputs, const int *targets, int B, int T, float lr,
                     float max_norm, float *loss, float *norm) {
    int n = model_train_shards(m, B);
    double *sums = xcalloc((size_t)n, sizeof(double));
    long np = (long)m->n_params;
    double *part = xcalloc((size_t)grad_norm_chunks(np) + 1, sizeof(double));
    if (n <= 1) {
        whole_batch(m, inputs, targets, B, T);
    } else {
        prepare_replicas(m, n, T);
        prepack_weights(m);
    }
    int nth = n > 1 && omp_max_threads() > n ? n : omp_max_threads(), ok = 0;
    float nrm = 0.0f;
    AdamWStep st;
#pragma omp parallel num_threads(nth)
    {
        if (n > 1) shards_team(m, n, inputs, targets, B, T, sums, part);
        else grad_sq_chunks_team(m->grads, np, part);
#pragma omp single
        {
            gemm_bf16_prepack_clear();   /* before AdamW changes the weights */
            nrm = grad_norm_of(part, np);
            *loss = n > 1 ? mean_loss(m, sums, n, B, T) : m->loss;
            ok = isfinite(*loss) && isfinite(nrm);
            st = adamw_next(o, lr, grad_clip_scale(nrm, max_norm));
        }
        if (ok) adamw_apply_team(o, m, st, 1);
    }
    if (ok) adamw_finish(o, m);
    m->grads_clear = ok;
    *norm = nrm;
    free(sums);
    free(part);
    return ok;
}
