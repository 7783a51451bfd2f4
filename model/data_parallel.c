/* data_parallel.c — the training step's gradient over a batch split by sequences
 * (model.h: model_train_grads).
 *
 * With one thread per shard, a step has one parallel region for the forward and
 * backward of the whole model instead of one per op (about 200 in a `quick` step,
 * each a fork, a join and, with passive waiting, a kernel wake-up), and each
 * shard's products run single-threaded on rows the thread keeps in its own cache.
 * Inside the region every op, product and attention loop sees omp_in_parallel()
 * and runs on its caller's thread alone (ops.c, gemm_bf16.c, attention.c).
 *
 *   shard s of n: sequences [b0(s), b0(s+1)), b0(s) = s*B/n rounded down
 *   grads = sum over s, in s order, of shard s's gradient of (sum of its token
 *           losses) / (B*T)    (model_backward with loss_tokens = B*T)
 *   loss  = sum over s, in s order, of (sum of shard s's token losses) / (B*T)
 */
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "ops.h"

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

/* Sum of the token losses of x's last forward, in token order. */
static double loss_sum(const Model *x) {
    double s = 0.0;
    for (int t = 0; t < x->B * x->T; t++) s += x->token_loss[t];
    return s;
}

float model_train_grads(Model *m, const int *inputs, const int *targets, int B, int T) {
    int n = model_train_shards(m, B);
    if (n <= 1) {
        float loss = model_forward(m, inputs, targets, B, T);
        model_zero_grad(m);
        model_backward(m);
        return loss;
    }
    prepare_replicas(m, n, T);
    int nth = omp_max_threads() < n ? omp_max_threads() : n;
    double *sums = xcalloc((size_t)n, sizeof(double));
#pragma omp parallel num_threads(nth)
    {
        int team = 1, id = 0;
#ifdef _OPENMP
        team = omp_get_num_threads();
        id = omp_get_thread_num();
#endif
        for (int s = id; s < n; s += team) {   /* a smaller team than asked still runs every shard */
            Model *x = s ? &m->reps[s - 1] : m;
            int b0 = shard_start(s, n, B), nb = shard_start(s + 1, n, B) - b0;
            x->loss_tokens = B * T;
            model_forward(x, inputs + (size_t)b0 * T, targets + (size_t)b0 * T, nb, T);
            model_zero_grad(x);
            model_backward(x);
            sums[s] = loss_sum(x);
        }
#pragma omp barrier
        int lo, hi;   /* grads += the replicas' gradients, in shard order, in 16-float chunks */
        omp_slice((int)((m->n_params + 15) / 16), &lo, &hi);
        size_t a = (size_t)lo * 16, e = (size_t)hi * 16 < m->n_params ? (size_t)hi * 16 : m->n_params;
        for (int r = 0; r < n - 1; r++) {
            const float *g = m->reps[r].grads;
            for (size_t i = a; i < e; i++) m->grads[i] += g[i];
        }
    }
    m->loss_tokens = 0;
    double total = 0.0;
    for (int s = 0; s < n; s++) total += sums[s];
    free(sums);
    m->loss = (float)(total / ((double)B * T));
    return m->loss;
}
