/* headline.c — the report's "Headline" section (sections.h): the paper's claim
 * that ALiBi trained at L and evaluated at a longer length T matches sinusoidal
 * trained at T, while training faster and with less memory. Needs a run with
 * both methods at two or more training lengths (the `headline` preset). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "plot.h"
#include "sections.h"

static int method_id(const Run *r, const char *name) {
    for (int m = 0; m < r->nmeth; m++)
        if (!strcmp(r->meth[m], name)) return m;
    return -1;
}

static void cell(FILE *f, Stat s) {
    if (!s.n) fputs(" — |", f);
    else if (s.n > 1) fprintf(f, " %.2f ± %.2f |", s.mean, s.sd);
    else fprintf(f, " %.2f |", s.mean);
}

static int trained(const Run *r, int m, long L) {
    long S[MAX_SEEDS];
    return run_seeds(r, m, L, S) > 0;
}

/* ALiBi(L) at T against sinusoidal(T) at T, with training speed and memory. */
static void pairs_table(FILE *f, const Run *r, int al, int si, int mode) {
    fputs("| ALiBi trained at | evaluated at | ALiBi | sinusoidal trained at that length | ALiBi ÷ sinusoidal | "
          "train tokens/s, ALiBi | train tokens/s, sinusoidal | train peak RSS MB, ALiBi | train peak RSS MB, "
          "sinusoidal |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
          f);
    for (int a = 0; a < r->nL; a++)
        for (int b = a + 1; b < r->nL; b++) {
            long L = r->L[a], T = r->L[b];
            if (!trained(r, al, L) || !trained(r, si, T)) continue;
            Stat x = eval_stat(r, al, L, mode, T, F_PPL, NULL), y = eval_stat(r, si, T, mode, T, F_PPL, NULL);
            fprintf(f, "| %ld | %ld |", L, T);
            cell(f, x);
            cell(f, y);
            if (x.n && y.n) fprintf(f, " %.3f |", x.mean / y.mean);
            else fputs(" — |", f);
            Stat tx = train_tps(r, al, L), ty = train_tps(r, si, T);
            fprintf(f, " %.1fk | %.1fk |", tx.mean / 1e3, ty.mean / 1e3);
            double rx = meta_train(r, al, L, "peak_rss_mb"), ry = meta_train(r, si, T, "peak_rss_mb");
            fprintf(f, isfinite(rx) ? " %.0f |" : " — |", rx);
            fprintf(f, isfinite(ry) ? " %.0f |\n" : " — |\n", ry);
        }
    fputc('\n', f);
}

/* The paper's table: ALiBi trained at each L (rows) at every training length T >= L
 * (columns), and a last row with sinusoidal trained and evaluated at T. */
static void grid_table(FILE *f, const Run *r, int al, int si, int mode) {
    fputs("| trained at \\ evaluated at |", f);
    for (int b = 0; b < r->nL; b++) fprintf(f, " %ld |", r->L[b]);
    fputs("\n|---|", f);
    for (int b = 0; b < r->nL; b++) fputs("---:|", f);
    fputc('\n', f);
    for (int a = 0; a < r->nL; a++) {
        if (!trained(r, al, r->L[a])) continue;
        fprintf(f, "| ALiBi, L = %ld |", r->L[a]);
        for (int b = 0; b < r->nL; b++) {
            if (b < a) fputs(" |", f);
            else cell(f, eval_stat(r, al, r->L[a], mode, r->L[b], F_PPL, NULL));
        }
        fputc('\n', f);
    }
    fputs("| Sinusoidal, L = evaluation length |", f);
    for (int b = 0; b < r->nL; b++) cell(f, eval_stat(r, si, r->L[b], mode, r->L[b], F_PPL, NULL));
    fputs("\n\n", f);
}

void report_headline(FILE *f, const Run *r) {
    int al = method_id(r, "alibi"), si = method_id(r, "sinusoidal"), mode = run_mode_id(r, "nonoverlapping");
    if (al < 0 || si < 0 || mode < 0 || r->nL < 2) return;
    fprintf(f, "## Headline: ALiBi trained short against sinusoidal trained long\n\n"
               "The paper's claim: ALiBi trained at L and evaluated at a longer length matches sinusoidal trained "
               "at that length, while training faster and with less memory. Perplexity, nonoverlapping windows, "
               "%s; every model saw the same number of tokens per step (batch × L constant) and the same number of "
               "steps.\n\n",
            r->max_seeds > 1 ? "mean ± std over seeds" : "one seed");
    pairs_table(f, r, al, si, mode);
    grid_table(f, r, al, si, mode);
}
