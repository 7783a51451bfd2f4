/* convergence.c — the report's "Training budget and convergence" section
 * (sections.h): per model, the tokens it was trained on, tokens per parameter,
 * the final loss on the fixed held-out slice and how much that loss still moved
 * over the last 20% of training. */
#include <math.h>
#include <stdio.h>
#include "plot.h"
#include "sections.h"

int convergence_of(const Run *r, int m, long L, long seed, Convergence *c) {
    c->steps = 0;
    c->tokens = 0;
    long last_val = -1;
    for (int i = 0; i < r->ntr; i++) {
        const TrainRow *t = &r->tr[i];
        if (t->m != m || t->L != L || t->seed != seed) continue;
        if (t->step > c->steps) { c->steps = t->step; c->tokens = t->tokens; }
        if (isfinite(t->val) && t->step > last_val) { last_val = t->step; c->final_val = t->val; }
    }
    if (last_val < 0) return -1;
    long from = -1;   /* the last measured step at or before 80% of the last one */
    double v_from = NAN;
    for (int i = 0; i < r->ntr; i++) {
        const TrainRow *t = &r->tr[i];
        if (t->m != m || t->L != L || t->seed != seed || !isfinite(t->val)) continue;
        if (5 * t->step <= 4 * last_val && t->step > from) { from = t->step; v_from = t->val; }
    }
    c->from = from;
    c->change = from >= 0 ? (v_from - c->final_val) / c->final_val : NAN;
    return 0;
}

/* One table row for (m, L): over seeds, the final held-out loss (mean ± sd) and the
 * largest change; 0 when no seed has a held-out curve. */
static int convergence_row(FILE *f, const Run *r, int m, long L) {
    long S[MAX_SEEDS];
    int ns = run_seeds(r, m, L, S), n = 0, settled = 1;
    double fin[MAX_SEEDS], worst = -INFINITY, tokens = 0;
    long steps = 0, worst_from = -1;
    for (int s = 0; s < ns; s++) {
        Convergence c;
        if (convergence_of(r, m, L, S[s], &c) != 0) continue;
        fin[n++] = c.final_val;
        tokens = c.tokens;
        steps = c.steps;
        if (isfinite(c.change) && c.change > worst) worst = c.change, worst_from = c.from;
        settled &= isfinite(c.change) && c.change < CONVERGED_BELOW;
    }
    if (!n) return 0;
    Stat v = stat_of(fin, n);
    double params = meta_train(r, m, L, "params");
    fprintf(f, "| %s |", plot_method_label(r->meth[m]));
    if (r->nL > 1) fprintf(f, " %ld |", L);
    fprintf(f, " %ld | %.2fM |", steps, tokens / 1e6);
    if (isfinite(params) && params > 0) fprintf(f, " %.0fk | %.1f |", params / 1e3, tokens / params);
    else fputs(" — | — |", f);
    if (n > 1) fprintf(f, " %.4f ± %.4f |", v.mean, v.sd);
    else fprintf(f, " %.4f |", v.mean);
    if (isfinite(worst)) fprintf(f, " %.2f%% (from %ld) | %s |\n", 100 * worst, worst_from, settled ? "yes" : "**no**");
    else fputs(" — | — |\n", f);
    return 1;
}

void report_convergence(FILE *f, const Run *r) {
    if (!r->have_val) return;
    fprintf(f, "## Training budget and convergence\n\n"
               "A comparison of position methods means something only when every model has finished learning "
               "at L. Each row: the training budget (steps, tokens, tokens per parameter) and the loss on a fixed "
               "held-out slice of the valid split scored at L during training (`val_loss` in train.csv, dashed in "
               "the training figure). *Change* is how much that loss still fell over the last 20%% of training, "
               "(v(s) − v(end)) / v(end) with s the last measurement at or before 80%% of training (the step in brackets: "
               "it spans more than the last 20%% when `val_every` does not divide 80%% of the steps), the largest over "
               "seeds; below %.0f%% counts as converged.\n\n",
            100 * CONVERGED_BELOW);
    fputs("| method |", f);
    if (r->nL > 1) fputs(" L |", f);
    fputs(" steps | tokens | parameters | tokens per parameter | held-out loss at the end | change over last 20% | "
          "converged |\n|---|",
          f);
    if (r->nL > 1) fputs("---:|", f);
    fputs("---:|---:|---:|---:|---:|---:|:---:|\n", f);
    for (int l = 0; l < r->nL; l++)
        for (int k = 0; k < r->nmeth; k++) convergence_row(f, r, r->order[k], r->L[l]);
    fputc('\n', f);
}
