/* adamw.c — AdamW (decoupled weight decay, as torch.optim.AdamW), global
 * gradient-norm clipping (as torch.nn.utils.clip_grad_norm_) and the learning
 * rate schedule. All three are flat loops over the arenas.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

void adamw_init(AdamW *o, const Model *m, float weight_decay) {
    o->beta1 = 0.9f;
    o->beta2 = 0.95f;
    o->eps = 1e-8f;
    o->weight_decay = weight_decay;
    o->step = 0;
    o->m = xmalloc_floats(m->n_params);
    o->v = xmalloc_floats(m->n_params);
}

void adamw_free(AdamW *o) {
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

/* The bias corrections of update o->step + 1 (the update about to be made). */
AdamWStep adamw_next(const AdamW *o, float lr, float gscale) {
    long t = o->step + 1;
    float bc1 = 1.0f - powf(o->beta1, (float)t), bc2 = 1.0f - powf(o->beta2, (float)t);
    return (AdamWStep){.lr = lr, .step_size = lr / bc1, .inv_sqrt_bc2 = 1.0f / sqrtf(bc2), .gscale = gscale};
}

/* One team for all tensors: most are under 64k floats, too small for a region each (they ran
 * on one thread); elementwise, so the result does not depend on the split. Orphaned worksharing:
 * the caller's team shares it, or the caller alone outside a parallel region. */
void adamw_apply_team(const AdamW *o, Model *m, AdamWStep st, int clear) {
    for (int i = 0; i < m->n_tensors; i++) {
        const Tensor *t = &m->tensors[i];
        float decay = t->decay ? 1.0f - st.lr * o->weight_decay : 1.0f;
        float *p = m->params + t->offset;
        float *g = m->grads + t->offset;
        float *mm = o->m + t->offset, *vv = o->v + t->offset;
        long n = (long)t->numel;
#pragma omp for schedule(static) nowait
        for (long j = 0; j < n; j++) {
            /* g <- g * gscale (clipping);  p <- p (1 - lr wd);  m, v moments;
             * p <- p - lr mhat / (sqrt(vhat) + eps) */
            float gj = g[j] * st.gscale;
            if (clear) g[j] = 0.0f;   /* in cache now: the next step's zeroing pass is not needed */
            mm[j] = o->beta1 * mm[j] + (1.0f - o->beta1) * gj;
            vv[j] = o->beta2 * vv[j] + (1.0f - o->beta2) * gj * gj;
            p[j] = p[j] * decay - st.step_size * mm[j] / (sqrtf(vv[j]) * st.inv_sqrt_bc2 + o->eps);
        }
    }
}

void adamw_finish(AdamW *o, Model *m) {
    o->step++;
    model_pos_project(m);   /* the method's domain (e.g. KERPLE's clamps), as its authors do after each step */
}

void adamw_update(AdamW *o, Model *m, float lr) {
    AdamWStep st = adamw_next(o, lr, 1.0f);
#pragma omp parallel if (m->n_params > 65536)
    adamw_apply_team(o, m, st, 0);
    adamw_finish(o, m);
}

long grad_norm_chunks(long n) { return (n + GRAD_NORM_CHUNK - 1) / GRAD_NORM_CHUNK; }

/* In a fixed order, so the same bits on any thread count: element i goes to lane i mod 16, the
 * lanes are added pairwise at the end. (One running sum was a chain of dependent double adds,
 * 1% of a paper training step; sixteen lanes vectorise.) */
#define SQ_LANES 16
double grad_sq_chunk(const float *g, long n, long c) {
    double acc[SQ_LANES] = {0};
    long i = c * GRAD_NORM_CHUNK, end = (c + 1) * GRAD_NORM_CHUNK < n ? (c + 1) * GRAD_NORM_CHUNK : n;
    for (; i + SQ_LANES <= end; i += SQ_LANES)
        for (int k = 0; k < SQ_LANES; k++) acc[k] += (double)g[i + k] * g[i + k];
    for (int k = 0; i < end; i++, k++) acc[k] += (double)g[i] * g[i];
    for (int w = SQ_LANES / 2; w > 0; w /= 2)
        for (int k = 0; k < w; k++) acc[k] += acc[k + w];
    return acc[0];
}

/* part[c] = chunk c's sum of squares (orphaned worksharing). */
void grad_sq_chunks_team(const float *g, long n, double *part) {
    long n_chunks = grad_norm_chunks(n);
#pragma omp for schedule(static)
    for (long c = 0; c < n_chunks; c++) part[c] = grad_sq_chunk(g, n, c);
}

float grad_norm_of(const double *part, long n) {   /* the chunks added in order: bitwise reproducible */
    double s = 0.0;
    for (long c = 0; c < grad_norm_chunks(n); c++) s += part[c];
    return (float)sqrt(s);
}

float grad_clip_scale(float norm, float max_norm) {
    if (max_norm > 0.0f && isfinite(norm)) {
        float coef = max_norm / (norm + 1e-6f);
        if (coef < 1.0f) return coef;
    }
    return 1.0f;
}

float grad_clip(Model *m, float max_norm) {
    long n = (long)m->n_params;
    double *part = xcalloc((size_t)grad_norm_chunks(n) + 1, sizeof(double));
#pragma omp parallel
    grad_sq_chunks_team(m->grads, n, part);
    float norm = grad_norm_of(part, n);
    free(part);
    float coef = grad_clip_scale(norm, max_norm);
    if (coef < 1.0f) {
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) m->grads[i] *= coef;
    }
    return norm;
}

float lr_schedule(long step, long warmup, long total, float lr_max, float lr_min) {
    if (step < warmup) return lr_max * (float)(step + 1) / (float)warmup;
    if (step >= total) return lr_min;
    double progress = (double)(step - warmup) / (double)(total - warmup > 0 ? total - warmup : 1);
    return lr_min + 0.5f * (lr_max - lr_min) * (float)(1.0 + cos(M_PI * progress));
}
