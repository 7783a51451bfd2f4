/* learned.c — the report's "Learned position biases" section (sections.h):
 * for every bias method with learned parameters (T5's bucket table, KERPLE's
 * r1 and r2, ...), the bias each head adds at a range of distances, read from
 * the first seed's checkpoint of the run (units/<method>-L<L>-s<seed>/). The
 * values are what the model really adds: the method's own bias hook evaluated
 * for one query row, as `posbench inspect METHOD --ckpt` prints them. Per-layer
 * methods show layer 0 and say so; a per-layer composition shows every layer whose
 * method is a learned bias. The values go to figures/data/learned_bias.csv (this
 * module's file: method, train_len, seed, layer, what, head, distance, bias), and
 * the section is rendered from it, so a copy of the run without its checkpoints
 * (results/) keeps the tables. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/csv.h"
#include "../common/strbuf.h"
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

/* A learned bias method with one bias per head (not a composition). */
static int learned_bias_method(const PosMethod *pm) {
    return pm && pm->bias_add && pm->tensors && pm->family != POS_FAMILY_NONE;
}

#define LEARNED_CSV "figures/data/learned_bias.csv"
#define LEARNED_HEAD "method,train_len,seed,layer,what,head,distance,bias\n"

/* Rows of one table into out: bias(h, i = far, j = far - d) of layer `layer`, every head
 * and distance; `what` says which layer it is (empty for a shared table). */
static void bias_rows(Sb *out, Model *m, const char *method, long L, long seed, int layer, const char *what,
                      int tokens, long far) {
    long d[MAX_DIST];
    int nd = distances(far, d);
    PosCtx ctx = model_pos_ctx(m, layer, 0);
    float *data = pos_data_at_zero_input(m->pos, &ctx, (int)far + 1);   /* FoX: gates at input 0 */
    float *row = xmalloc_floats((size_t)far + 1);   /* (far + 1): one query row */
    char w[300];
    tokens = tokens && data;   /* the layer's own method reads the tokens (FoX) */
    snprintf(w, sizeof w, "%s%s%s", what, *what && tokens ? "; " : "",
             tokens ? "the bias depends on the tokens, shown for an attention input of zeros" : "");
    for (int h = 0; h < m->cfg.n_head; h++) {
        memset(row, 0, sizeof(float) * ((size_t)far + 1));
        m->pos->bias_add(row, (int)far + 1, h, (int)far, 1, 0, (int)far + 1, &ctx);
        for (int k = 0; k < nd; k++)
            sb_printf(out, "%s,%ld,%ld,%d,\"%s\",%d,%ld,%.4f\n", method, L, seed, layer, w, h, d[k], row[far - d[k]]);
    }
    free(row);
    free(data);
}

/* The first seed's model of (method mi, L), when its checkpoint is here: one table (layer 0
 * of per-layer parameters), or for a composition one per layer whose method is a learned
 * bias. 1 when the checkpoint was read. */
static int learned_rows(Sb *out, const Run *r, int mi, long L, long far) {
    long S[MAX_SEEDS];
    if (!run_seeds(r, mi, L, S)) return 0;
    char path[PATH_MAX + 256], err[ERRLEN], what[200];
    snprintf(path, sizeof path, "%s/units/%s-L%ld-s%ld/model.safetensors", r->dir, r->meth[mi], L, S[0]);
    Model m;
    if (!path_exists(path) || checkpoint_load(path, &m, NULL, NULL, err, sizeof err) != 0) return 0;
    if (has_learned_bias(&m)) {
        model_pos_cache(&m, (int)far + 1);
        if (m.pcfg.layers) {
            for (int l = 0; l < m.cfg.n_layer; l++) {
                const PosMethod *item = pos_layers_item(&m.pcfg, l);
                if (!learned_bias_method(item)) continue;
                snprintf(what, sizeof what, "layer %d, %s", l, item->label);
                bias_rows(out, &m, r->meth[mi], L, S[0], l, what, item->data_forward != NULL, far);
            }
        } else {
            PosTensor *pt = xcalloc((size_t)m.pos_nt, sizeof(PosTensor));
            m.pos->tensors(pt, &m.pcfg);
            int per_layer = 0;
            for (int k = 0; k < m.pos_nt; k++) per_layer |= pt[k].per_layer && m.cfg.n_layer > 1;
            free(pt);
            bias_rows(out, &m, r->meth[mi], L, S[0], 0, per_layer ? "layer 0 of its per-layer parameters" : "",
                      1, far);
        }
    }
    model_free(&m);
    return 1;
}

/* figures/data/learned_bias.csv from the checkpoints, when any is here (a copy of a run
 * without units/ keeps the file its last full plot wrote). 1 if learned methods exist. */
static int learned_csv_update(const Run *r) {
    Sb rows = {0};
    int learned = 0, read = 0;
    for (int l = 0; l < r->nL; l++) {
        long T[MAX_T];
        int nT = run_lengths(r, r->L[l], -1, T);
        long far = nT ? T[nT - 1] - 1 : r->L[l] - 1;
        for (int k = 0; k < r->nmeth; k++) {
            const char *spec = r->meth[r->order[k]];
            /* "kerple_log:shared=1" too; a composition shows each layer that has a learned bias */
            if (!learned_bias_method(pos_spec_method(spec)) && !pos_is_layers_spec(spec)) continue;
            learned = 1;
            read += learned_rows(&rows, r, r->order[k], r->L[l], far);
        }
    }
    if (read) {
        char path[PATH_MAX + 64], err[ERRLEN];
        snprintf(path, sizeof path, "%s/" LEARNED_CSV, r->dir);
        AtomicFile af;
        if (atomic_open(&af, path, "w", err, sizeof err) == 0) {
            fputs(LEARNED_HEAD, af.fp);
            fputs(sb_str(&rows), af.fp);
            if (atomic_commit(&af, err, sizeof err) != 0) fprintf(stderr, "posbench: plot: %s\n", err);
        } else fprintf(stderr, "posbench: plot: %s\n", err);
    }
    free(rows.s);
    return learned;
}

/* One markdown table per (method, L, seed, layer) run of consecutive rows. */
static void learned_render(FILE *f, const Csv *c) {
    int cm = csv_col(c, "method"), cL = csv_col(c, "train_len"), cs = csv_col(c, "seed"), cl = csv_col(c, "layer"),
        cw = csv_col(c, "what"), ch = csv_col(c, "head"), cd = csv_col(c, "distance"), cb = csv_col(c, "bias");
    for (int i = 0; i < c->nrow;) {
        int j = i;   /* rows i .. j-1: one table */
        while (j < c->nrow && !strcmp(csv_get(c, j, cm), csv_get(c, i, cm)) &&
               !strcmp(csv_get(c, j, cL), csv_get(c, i, cL)) && !strcmp(csv_get(c, j, cl), csv_get(c, i, cl)))
            j++;
        const char *what = csv_get(c, i, cw);
        fprintf(f, "### %s, trained at L = %s (seed %s%s%s)\n\n| head |", plot_method_label(csv_get(c, i, cm)),
                csv_get(c, i, cL), csv_get(c, i, cs), *what ? "; " : "", what);
        int nd = 0;
        while (i + nd < j && !strcmp(csv_get(c, i + nd, ch), csv_get(c, i, ch))) nd++;
        for (int k = 0; k < nd; k++) fprintf(f, " %s |", csv_get(c, i + k, cd));
        fputs("\n|---|", f);
        for (int k = 0; k < nd; k++) fputs("---:|", f);
        for (int k = i; k < j; k++) {
            if ((k - i) % nd == 0) fprintf(f, "\n| %s |", csv_get(c, k, ch));
            fprintf(f, " %.2f |", csv_num(csv_get(c, k, cb)));
        }
        fputs("\n\n", f);
        i = j;
    }
}

void report_learned(FILE *f, const Run *r) {
    if (!learned_csv_update(r)) return;
    fputs("## Learned position biases\n\nThe bias each head adds to an attention logit at key distance "
          "i − j (columns), in the trained model: how far a learned method moved its parameters from "
          "their initial values. ALiBi's fixed slopes add −m·(i − j) for comparison. Values: `" LEARNED_CSV
          "`, written from the checkpoints.\n\n",
          f);
    char path[PATH_MAX + 64], err[ERRLEN];
    snprintf(path, sizeof path, "%s/" LEARNED_CSV, r->dir);
    Csv c;
    if (!path_exists(path) || csv_load(&c, path, err, sizeof err) != 0) {
        fputs("Not shown: this copy of the run has neither the checkpoints (`units/`) nor `" LEARNED_CSV "`.\n\n", f);
        return;
    }
    learned_render(f, &c);
    csv_free(&c);
}
