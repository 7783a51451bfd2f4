/* learned.c — the report's "Learned position biases" section (sections.h):
 * for every bias method with learned parameters (T5's bucket table, KERPLE's
 * r1 and r2, ...), the bias each head adds at a range of distances, read from
 * the first seed's checkpoint of the run (units/<method>-L<L>-s<seed>/). The
 * values are what the model really adds: the method's own bias hook evaluated
 * for one query row, as `posbench inspect METHOD --ckpt` prints them. Per-layer
 * methods show layer 0 and say so. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../model/checkpoint.h"
#include "plot.h"
#include "sections.h"

#define MAX_DIST 24

/* Distances 0, 1, 2, 4, ... up to far (inclusive, far itself last); returns the count. */
static int distances(long far, long *d) {
    int n = 0;
    d[n++] = 0;
    for (long x = 1; x < far && n < MAX_DIST - 1; x *= 2) d[n++] = x;
    if (far > 0) d[n++] = far;
    return n;
}

static int has_learned_bias(const Model *m) {
    return m->pos->bias_add && m->pos_nt > 0 && m->pos_numel > 0;
}

/* bias(h, i = far, j = far - d) for every head and distance of the first seed's model. */
static void learned_table(FILE *f, const Run *r, int mi, long L, long far) {
    long S[MAX_SEEDS];
    if (!run_seeds(r, mi, L, S)) return;
    char path[PATH_MAX + 256], err[ERRLEN];
    snprintf(path, sizeof path, "%s/units/%s-L%ld-s%ld/model.safetensors", r->dir, r->meth[mi], L, S[0]);
    Model m;
    if (!path_exists(path) || checkpoint_load(path, &m, NULL, NULL, err, sizeof err) != 0) return;
    if (!has_learned_bias(&m)) { model_free(&m); return; }
    long d[MAX_DIST];
    int nd = distances(far, d);
    model_pos_cache(&m, (int)far + 1);
    PosCtx ctx = model_pos_ctx(&m, 0, 0);
    float *data = pos_data_at_zero_input(m.pos, &ctx, (int)far + 1);   /* FoX: gates at input 0 */
    float *row = xmalloc_floats((size_t)far + 1);
    PosTensor *pt = xcalloc((size_t)m.pos_nt, sizeof(PosTensor));
    m.pos->tensors(pt, &m.pcfg);
    int per_layer = 0;
    for (int k = 0; k < m.pos_nt; k++) per_layer |= pt[k].per_layer && m.cfg.n_layer > 1;
    free(pt);
    fprintf(f, "### %s, trained at L = %ld (seed %ld%s%s)\n\n| head |", plot_method_label(r->meth[mi]), L, S[0],
            per_layer ? ", layer 0 of its per-layer parameters" : "",
            data ? "; the bias depends on the tokens, shown for an attention input of zeros" : "");
    for (int k = 0; k < nd; k++) fprintf(f, " %ld |", d[k]);
    fputs("\n|---|", f);
    for (int k = 0; k < nd; k++) fputs("---:|", f);
    fputc('\n', f);
    for (int h = 0; h < m.cfg.n_head; h++) {
        memset(row, 0, sizeof(float) * ((size_t)far + 1));
        m.pos->bias_add(row, (int)far + 1, h, (int)far, 1, 0, (int)far + 1, &ctx);
        fprintf(f, "| %d |", h);
        for (int k = 0; k < nd; k++) fprintf(f, " %.2f |", row[far - d[k]]);
        fputc('\n', f);
    }
    fputc('\n', f);
    free(row);
    free(data);
    model_free(&m);
}

void report_learned(FILE *f, const Run *r) {
    int header = 0;
    for (int l = 0; l < r->nL; l++) {
        long T[MAX_T];
        int nT = run_lengths(r, r->L[l], -1, T);
        long far = nT ? T[nT - 1] - 1 : r->L[l] - 1;
        for (int k = 0; k < r->nmeth; k++) {
            const PosMethod *pm = pos_spec_method(r->meth[r->order[k]]);   /* "kerple_log:shared=1" too */
            /* a composition (family none) has no one bias per head to show */
            if (!pm || !pm->bias_add || !pm->tensors || pm->family == POS_FAMILY_NONE) continue;
            if (!header) {
                fputs("## Learned position biases\n\nThe bias each head adds to an attention logit at key distance "
                      "i − j (columns), in the trained model: how far a learned method moved its parameters from "
                      "their initial values. ALiBi's fixed slopes add −m·(i − j) for comparison.\n\n",
                      f);
                header = 1;
            }
            learned_table(f, r, r->order[k], r->L[l], far);
        }
    }
}
