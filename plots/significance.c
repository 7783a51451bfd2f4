/* significance.c — the report's "Statistics over seeds" section (sections.h):
 * mean perplexity with its 95% t interval, and paired differences between each
 * method and the best one at every length. Seed s fixes both a model's initial
 * weights and the order of its training batches, so two methods' runs with the
 * same seed saw the same data in the same order: their difference is taken seed
 * by seed, which removes the data-order part of the noise. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "sections.h"
#include "plot.h"

/* The seeds every method shares at L (the pairing set), into S[MAX_SEEDS]. */
static int shared_seeds(const Run *r, long L, long *S) {
    int ns = 0;
    for (int k = 0; k < r->nmeth; k++) {
        long mine[MAX_SEEDS];
        int n = run_seeds(r, r->order[k], L, mine);
        if (!n) continue;
        if (!ns) { ns = n; memcpy(S, mine, sizeof(long) * (size_t)n); continue; }
        int keep = 0;
        for (int i = 0; i < ns; i++)
            for (int j = 0; j < n; j++)
                if (S[i] == mine[j]) { S[keep++] = S[i]; break; }
        ns = keep;
    }
    return ns;
}

/* The method with the lowest mean perplexity at (L, mode, T), or -1. */
static int best_method(const Run *r, long L, int mode, long T) {
    int best = -1;
    double bv = INFINITY;
    for (int k = 0; k < r->nmeth; k++) {
        Stat s = eval_stat(r, r->order[k], L, mode, T, F_PPL, NULL);
        if (s.n && s.mean < bv) { bv = s.mean; best = r->order[k]; }
    }
    return best;
}

static void table_head(FILE *f, const long *T, int nT) {
    fputs("| method |", f);
    for (int t = 0; t < nT; t++) fprintf(f, " %ld |", T[t]);
    fputs("\n|---|", f);
    for (int t = 0; t < nT; t++) fputs("---:|", f);
    fputc('\n', f);
}

static void interval_table(FILE *f, const Run *r, long L, int mode, const long *T, int nT) {
    table_head(f, T, nT);
    for (int k = 0; k < r->nmeth; k++) {
        int m = r->order[k];
        fprintf(f, "| %s |", plot_method_label(r->meth[m]));
        for (int t = 0; t < nT; t++) {
            Stat s = eval_stat(r, m, L, mode, T[t], F_PPL, NULL);
            if (s.n > 1) fprintf(f, " %.2f [%.2f, %.2f] |", s.mean, s.mean - s.half, s.mean + s.half);
            else if (s.n) fprintf(f, " %.2f |", s.mean);
            else fputs(" — |", f);
        }
        fputc('\n', f);
    }
    fputc('\n', f);
}

static void paired_table(FILE *f, const Run *r, long L, int mode, const long *T, int nT, const long *S, int ns) {
    table_head(f, T, nT);
    int best[MAX_T];
    for (int t = 0; t < nT; t++) best[t] = best_method(r, L, mode, T[t]);
    for (int k = 0; k < r->nmeth; k++) {
        int m = r->order[k];
        fprintf(f, "| %s |", plot_method_label(r->meth[m]));
        for (int t = 0; t < nT; t++) {
            double a[MAX_SEEDS], b[MAX_SEEDS];
            if (best[t] < 0) { fputs(" — |", f); continue; }
            if (best[t] == m) { fputs(" best |", f); continue; }
            eval_by_seed(r, m, L, mode, T[t], F_PPL, S, ns, a);
            eval_by_seed(r, best[t], L, mode, T[t], F_PPL, S, ns, b);
            Stat d = stat_paired(a, b, ns);
            if (d.n < 2) { fputs(" — |", f); continue; }
            fprintf(f, " %+.2f [%+.2f, %+.2f]%s |", d.mean, d.mean - d.half, d.mean + d.half,
                    stat_significant(d) ? "" : " n.s.");
        }
        fputc('\n', f);
    }
    fputc('\n', f);
}

void report_significance(FILE *f, const Run *r) {
    int mode = run_main_mode(r);
    if (r->max_seeds < 2 || mode < 0) return;
    fprintf(f, "## Statistics over seeds\n\n"
               "Seeds 1..n per model; seed s fixes a model's initial weights and the order of its training batches, "
               "so runs of different methods with the same seed saw the same data in the same order. Intervals are "
               "95%% Student-t intervals of the mean, mean ± t(0.975, n − 1)·sd/√n; with n = %d seeds t = %.2f, so "
               "an interval is about %.1f standard deviations wide (with 2 seeds, the fewest that give one, it would "
               "be %.1f). The count is the preset's `seeds`, set by its time budget (each seed trains every model "
               "once more), so only differences that are large against the seed-to-seed spread are resolved. "
               "Paired differences are perplexity(method) − perplexity(best method at that length), "
               "taken seed by seed; **n.s.** marks a difference whose interval contains 0 (not significant at "
               "the 5%% level).\n\n",
            r->max_seeds, t_quantile(0.975, r->max_seeds - 1),
            2 * t_quantile(0.975, r->max_seeds - 1) / sqrt((double)r->max_seeds),
            2 * t_quantile(0.975, 1) / sqrt(2.0));
    for (int l = 0; l < r->nL; l++) {
        long T[MAX_T], S[MAX_SEEDS];
        int nT = run_lengths(r, r->L[l], mode, T), ns = shared_seeds(r, r->L[l], S);
        if (!nT) continue;
        fprintf(f, "### Perplexity with 95%% intervals, nonoverlapping, trained at L = %ld\n\n", r->L[l]);
        interval_table(f, r, r->L[l], mode, T, nT);
        if (ns < 2) continue;
        fprintf(f, "### Paired differences against the best method, trained at L = %ld (%d shared seeds)\n\n",
                r->L[l], ns);
        paired_table(f, r, r->L[l], mode, T, nT, S, ns);
    }
}
