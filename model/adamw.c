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

void adamw_update(AdamW *o, Model *m, float lr) {
    o->step++;
    float bc1 = 1.0f - powf(o->beta1, (float)o->step), bc2 = 1.0f - powf(o->beta2, (float)o->step);
    float step_size = lr / bc1, inv_sqrt_bc2 = 1.0f / sqrtf(bc2);
    /* one team for all tensors: most are under 64k floats, too small for a region each
     * (they ran on one thread); elementwise, so the result does not depend on the split */
#pragma omp parallel if (m->n_params > 65536)
    for (int i = 0; i < m->n_tensors; i++) {
        const Tensor *t = &m->tensors[i];
        float decay = t->decay ? 1.0f - lr * o->weight_decay : 1.0f;
        float *p = m->params + t->offset, *g = m->grads + t->offset;
        float *mm = o->m + t->offset, *vv = o->v + t->offset;
        long n = (long)t->numel;
#pragma omp for schedule(static) nowait
        for (long j = 0; j < n; j++) {
            /* p <- p (1 - lr wd);  m, v moments;  p <- p - lr mhat / (sqrt(vhat) + eps) */
            mm[j] = o->beta1 * mm[j] + (1.0f - o->beta1) * g[j];
            vv[j] = o->beta2 * vv[j] + (1.0f - o->beta2) * g[j] * g[j];
            p[j] = p[j] * decay - step_size * mm[j] / (sqrtf(vv[j]) * inv_sqrt_bc2 + o->eps);
        }
    }
    model_pos_project(m);   /* the method's domain (e.g. KERPLE's clamps), as its authors do after each step */
}

float grad_clip(Model *m, float max_norm) {
    /* sum of squares in fixed chunks added in order: bitwise reproducible */
    enum { CHUNK = 1 << 16 };
    long n = (long)m->n_params, n_chunks = (n + CHUNK - 1) / CHUNK;
    double *part = xcalloc((size_t)n_chunks + 1, sizeof(double));
#pragma omp parallel for schedule(static)
    for (long c = 0; c < n_chunks; c++) {
        double acc = 0.0;
        long end = (c + 1) * CHUNK < n ? (c + 1) * CHUNK : n;
        for (long i = c * CHUNK; i < end; i++) acc += (double)m->grads[i] * m->grads[i];
        part[c] = acc;
    }
    double s = 0.0;
    for (long c = 0; c < n_chunks; c++) s += part[c];
    free(part);
    float norm = (float)sqrt(s);
    if (max_norm > 0.0f && isfinite(norm)) {
        float coef = max_norm / (norm + 1e-6f);
        if (coef < 1.0f) {
#pragma omp parallel for schedule(static)
            for (long i = 0; i < n; i++) m->grads[i] *= coef;
        }
    }
    return norm;
}

float lr_schedule(long step, long warmup, long total, float lr_max, float lr_min) {
    if (step < warmup) return lr_max * (float)(step + 1) / (float)warmup;
    if (step >= total) return lr_min;
    double progress = (double)(step - warmup) / (double)(total - warmup > 0 ? total - warmup : 1);
    return lr_min + 0.5f * (lr_max - lr_min) * (float)(1.0 + cos(M_PI * progress));
}
