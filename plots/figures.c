/* figures.c — the figures of a run (figures.h): one function per figure kind,
 * each writing its data and variable files and rendering them with its script
 * in plots/. A figure without data is skipped, not an error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "figures.h"
#include "style.h"

/* ------------------------------------------------------------------------ */
/* Figure 1: extrapolation curves (the paper's Figure 1), one file per mode.  */

/* What an evaluation figure in `mode` shows: the methods (display order, into
 * ms[256]) with a perplexity (speed: a throughput or memory figure) in that mode,
 * and the training lengths (into Ls[MAX_L]) evaluated in it, one panel each.
 * 0 when there is nothing to draw. */
static int eval_panels(const Run *r, int mode, int speed, int *ms, int *n, long *Ls, int *np) {
    *n = *np = 0;
    for (int k = 0; k < r->nmeth && *n < 256; k++) {
        int m = r->order[k], any = 0;
        for (int i = 0; i < r->nev && !any; i++) {
            const EvalRow *e = &r->ev[i];
            any = e->m == m && e->mode == mode &&
                  (speed ? isfinite(e->tps) || isfinite(e->rss) : isfinite(e->ppl) && e->ppl > 0);
        }
        if (any) ms[(*n)++] = m;
    }
    for (int l = 0; l < r->nL; l++) {
        long T[MAX_T];
        if (run_lengths(r, r->L[l], mode, T)) Ls[(*np)++] = r->L[l];
    }
    return *n && *np;
}

static int fig_extrapolation(Plot *pl, int mode, char *err, size_t errlen) {
    Run *r = pl->r;
    int ms[256], n, np;
    long Ls[MAX_L];
    if (!eval_panels(r, mode, 0, ms, &n, Ls, &np)) return 0;
    int band = r->max_seeds > 1;
    double ylo = INFINITY, yhi = -INFINITY;
    char name[96], fname[160];
    snprintf(name, sizeof name, "extrapolation_%s", r->mode[mode]);
    for (int p = 0; p < np; p++) {
        AtomicFile af;
        snprintf(fname, sizeof fname, "%s_L%ld.dat", name, Ls[p]);
        if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
        long T[MAX_T];
        int nT = run_lengths(r, Ls[p], mode, T);
        for (int i = 0; i < n; i++) {
            fprintf(af.fp, "# %s, trained at L = %ld, %s: eval_len mean_ppl sd lo hi seeds\n", r->meth[ms[i]], Ls[p],
                    r->mode[mode]);
            int rows = 0;
            for (int t = 0; t < nT; t++) {
                Stat s = eval_stat(r, ms[i], Ls[p], mode, T[t], F_PPL, NULL);
                if (!s.n || s.mean <= 0) continue;
                double lo = s.mean - s.sd, hi = s.mean + s.sd;
                if (lo <= 0) lo = s.mean * 0.5;
                fprintf(af.fp, "%ld %.6g %.6g %.6g %.6g %d\n", T[t], s.mean, s.sd, lo, hi, s.n);
                ylo = fmin(ylo, band ? lo : s.mean);
                yhi = fmax(yhi, band ? hi : s.mean);
                rows++;
            }
            if (!rows) fputs("NaN NaN NaN NaN NaN 0\n", af.fp);
            fputs("\n\n", af.fp);
        }
        if (atomic_commit(&af, err, errlen) != 0) return 1;
    }
    AtomicFile af;
    if (vars_open_panels(pl, &af, name, "extrapolation.gp", np, ms, n, err, errlen) != 0) return 1;
    FILE *f = af.fp;
    fprintf(f, "npanel = %d\n", np);
    vars_panels(f, "pfile", np);
    vars_panels(f, "ptitle", np);
    vars_panels(f, "pL", np);
    vars_panel_length_arrays(f, np);
    char mt[96];
    for (int p = 0; p < np; p++) {
        long T[MAX_T];
        vars_panel_lengths(f, p, T, run_lengths(r, Ls[p], mode, T));
        mode_title(r, mode, Ls[p], mt, sizeof mt);
        fprintf(f, "pfile[%d] = '%s_L%ld.dat'\npL[%d] = %ld\nptitle[%d] = ", p + 1, name, Ls[p], p + 1, Ls[p], p + 1);
        char t[160];
        if (np > 1) snprintf(t, sizeof t, "L = %ld (dashed), %s", Ls[p], r->mode[mode]); /* side by side: short */
        else snprintf(t, sizeof t, "trained at L = %ld (dashed), %s", Ls[p], mt);
        gp_str(f, t);
        fputc('\n', f);
    }
    fprintf(f, "band = %d\nymin = %g\nymax = %g\n", band, ylo / 1.12, yhi * 1.12);
    vars_log_tics(f, "ytics", ylo / 1.12, yhi * 1.12);
    char cap[800];
    mode_title(r, mode, Ls[0], mt, sizeof mt);
    snprintf(cap, sizeof cap,
             "Validation perplexity (log scale) against evaluation length (log₂ axis), %s, for every method "
             "trained at the length marked by the dashed line%s: a curve that stays flat or falls to the right "
             "of the line extrapolates, one that rises does not.",
             mt, band ? "; lines are the mean over seeds, shading ±1 std" : "");
    return fig_finish(pl, &af, "extrapolation.gp", name, cap, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Figure 2: seed bands, one panel per method, per mode and training length. */

static int fig_seeds(Plot *pl, int mode, long L, char *err, size_t errlen) {
    Run *r = pl->r;
    int ms[256], n = 0, maxs = 0;
    long T[MAX_T];
    int nT = run_lengths(r, L, mode, T);
    if (!nT) return 0;
    for (int k = 0; k < r->nmeth && n < 256; k++) {
        int m = r->order[k];
        long S[MAX_SEEDS];
        int ns = run_seeds(r, m, L, S), any = 0;
        for (int t = 0; t < nT && !any; t++) any = eval_stat(r, m, L, mode, T[t], F_PPL, NULL).n > 0;
        if (!any) continue;
        ms[n++] = m;
        if (ns > maxs) maxs = ns;
    }
    if (!n || maxs < 2) return 0;
    char name[96], fname[160];
    snprintf(name, sizeof name, "seeds_%s_L%ld", r->mode[mode], L);
    snprintf(fname, sizeof fname, "%s.dat", name);
    AtomicFile af;
    if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
    double ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < n; i++) {
        int m = ms[i], rows = 0;
        fprintf(af.fp, "# %s: eval_len mean_ppl sd lo hi seeds\n", r->meth[m]);
        for (int t = 0; t < nT; t++) {
            Stat s = eval_stat(r, m, L, mode, T[t], F_PPL, NULL);
            if (!s.n || s.mean <= 0) continue;
            double lo = s.mean - s.sd > 0 ? s.mean - s.sd : s.mean * 0.5;
            fprintf(af.fp, "%ld %.6g %.6g %.6g %.6g %d\n", T[t], s.mean, s.sd, lo, s.mean + s.sd, s.n);
            ylo = fmin(ylo, lo);
            yhi = fmax(yhi, s.mean + s.sd);
            rows++;
        }
        if (!rows) fputs("NaN NaN NaN NaN NaN 0\n", af.fp);
        fprintf(af.fp, "\n\n# %s: single seeds, eval_len ppl (one line per seed)\n", r->meth[m]);
        long S[MAX_SEEDS];
        int ns = run_seeds(r, m, L, S), srows = 0;
        for (int s = 0; s < ns; s++) {
            int any = 0;
            for (int t = 0; t < nT; t++)
                for (int e = 0; e < r->nev; e++) {
                    const EvalRow *x = &r->ev[e];
                    if (x->m == m && x->L == L && x->mode == mode && x->T == T[t] && x->seed == S[s] &&
                        isfinite(x->ppl) && x->ppl > 0) {
                        fprintf(af.fp, "%ld %.6g\n", T[t], x->ppl);
                        ylo = fmin(ylo, x->ppl);
                        yhi = fmax(yhi, x->ppl);
                        any = 1;
                        srows++;
                        break;
                    }
                }
            if (any) fputc('\n', af.fp);
        }
        if (!srows) fputs("NaN NaN\n", af.fp);
        fputs("\n\n", af.fp);
    }
    if (atomic_commit(&af, err, errlen) != 0) return 1;

    snprintf(fname, sizeof fname, "%s.gp", name);
    if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
    FILE *f = af.fp;
    int nc = n <= 2 ? n : n <= 4 ? 2 : 3, nr = (n + nc - 1) / nc;
    vars_head(f, "seeds.gp", 3.4, 0.85 + 1.2 * nr, r, ms, n);
    char mt[96], t[200];
    mode_title(r, mode, L, mt, sizeof mt);
    fprintf(f, "dfile = '%s.dat'\nncol = %d\nnrow = %d\nLtrain = %ld\nnseeds = %d\n", name, nc, nr, L, maxs);
    snprintf(t, sizeof t, "trained at L = %ld (dashed), %s", L, mt);
    fputs("ftitle = ", f);
    gp_str(f, t);
    fprintf(f, "\nxmin = %g\nxmax = %g\nymin = %g\nymax = %g\n", T[0] / 1.25, T[nT - 1] * 1.25, ylo / 1.12, yhi * 1.12);
    vars_len_tics(f, "xtics", T, nT, 1);
    vars_len_tics_bare(f, "xticsnl", T, nT);
    vars_log_tics(f, "ytics", ylo / 1.12, yhi * 1.12);
    char cap[800];
    snprintf(cap, sizeof cap,
             "Seed spread at L = %ld (%s), one panel per method: the thick line is the mean perplexity over "
             "%d seeds, the shading ±1 std and the thin lines the single seeds, so differences between methods "
             "can be told from seed noise.",
             L, mt, maxs);
    return fig_finish(pl, &af, "seeds.gp", name, cap, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Figure 3: per-position loss at the longest evaluation length.             */

/* One method's per-position series in window W at training length L, binned on
 * the log axis of context length c = pos + 1: single positions up to 8, then
 * eight bins per octave; each position's seed mean weighs equally. sum and cnt
 * are W-long scratch; the y range found widens *ylo, *yhi. */
static void positions_series(FILE *f, const Run *r, int m, long L, long W, double *sum, int *cnt, double *ylo,
                             double *yhi) {
    memset(sum, 0, sizeof(double) * (size_t)W);
    memset(cnt, 0, sizeof(int) * (size_t)W);
    for (int k = 0; k < r->npo; k++) {
        const PosRow *q = &r->po[k];
        if (q->m == m && q->L == L && q->T == W && isfinite(q->nll)) { sum[q->pos] += q->nll; cnt[q->pos]++; }
    }
    fprintf(f, "# %s, L = %ld, window %ld: context_tokens(pos+1, bin centre) mean_nll positions_in_bin\n",
            r->meth[m], L, W);
    int rows = 0;
    for (double lo = 1; lo <= (double)W;) {
        double hi = lo < 8 ? lo + 1 : fmax(lo + 1, floor(lo * pow(2, 0.125) + 0.5));
        double s = 0;
        int c = 0;
        for (long pos = (long)lo - 1; pos < (long)hi - 1 && pos < W; pos++)
            if (cnt[pos]) { s += sum[pos] / cnt[pos]; c++; }
        if (c) {
            double x = lo < 8 ? lo : sqrt(lo * fmin(hi - 1, (double)W));
            double y = s / c;
            fprintf(f, "%.6g %.6g %d\n", x, y, c);
            *ylo = fmin(*ylo, y);
            *yhi = fmax(*yhi, y);
            rows++;
        }
        lo = hi;
    }
    if (!rows) fputs("NaN NaN 0\n", f);
    fputs("\n\n", f);
}

static int fig_positions(Plot *pl, char *err, size_t errlen) {
    Run *r = pl->r;
    if (!r->have_pos) return 0;
    int ms[256], n = 0, np = 0;
    long Ls[MAX_L], Ws[MAX_L];
    for (int l = 0; l < r->nL; l++) {
        long W = 0;
        for (int i = 0; i < r->npo; i++)
            if (r->po[i].L == r->L[l] && r->po[i].T > W) W = r->po[i].T;
        if (W > 0) { Ls[np] = r->L[l]; Ws[np++] = W; }
    }
    for (int k = 0; k < r->nmeth && n < 256; k++) {
        int m = r->order[k], any = 0;
        for (int i = 0; i < r->npo && !any; i++)
            for (int p = 0; p < np && !any; p++)
                any = r->po[i].m == m && r->po[i].L == Ls[p] && r->po[i].T == Ws[p] && isfinite(r->po[i].nll);
        if (any) ms[n++] = m;
    }
    if (!n || !np) return 0;
    double ylo = INFINITY, yhi = -INFINITY;
    long Wmax = 0;
    char fname[160];
    for (int p = 0; p < np; p++) {
        long W = Ws[p];
        if (W > Wmax) Wmax = W;
        AtomicFile af;
        snprintf(fname, sizeof fname, "positions_L%ld.dat", Ls[p]);
        if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
        double *sum = xmalloc(sizeof(double) * (size_t)W);
        int *cnt = xmalloc(sizeof(int) * (size_t)W);
        for (int i = 0; i < n; i++) positions_series(af.fp, r, ms[i], Ls[p], W, sum, cnt, &ylo, &yhi);
        free(sum);
        free(cnt);
        if (atomic_commit(&af, err, errlen) != 0) return 1;
    }
    AtomicFile af;
    if (figdata_open(pl, &af, "positions.gp", err, errlen) != 0) return 1;
    FILE *f = af.fp;
    int krows = (n + 2) / 3;
    vars_head(f, "positions.gp", panels_width(np), 2.45 + 0.13 * krows, r, ms, n);
    fprintf(f, "npanel = %d\n", np);
    vars_panels(f, "pfile", np);
    vars_panels(f, "pL", np);
    vars_panels(f, "pW", np);
    vars_panels(f, "ptitle", np);
    vars_panels(f, "pxmax", np);
    vars_panels(f, "pxtics", np);
    for (int p = 0; p < np; p++) {
        char t[160];
        long tics[64];
        int nt = 0;
        for (long x = 1; x <= Ws[p] && nt < 63; x *= 4) tics[nt++] = x;
        if (tics[nt - 1] != Ws[p]) {
            if (Ws[p] < tics[nt - 1] * 2.5) nt--; /* too close to the last power of 4 */
            tics[nt++] = Ws[p];
        }
        snprintf(t, sizeof t, "pxtics[%d]", p + 1);
        vars_len_tics(f, t, tics, nt, 0);
        fprintf(f, "pxmax[%d] = %g\n", p + 1, Ws[p] * 1.25);
        snprintf(t, sizeof t, "trained at L = %ld (dashed), window %ld", Ls[p], Ws[p]);
        fprintf(f, "pfile[%d] = 'positions_L%ld.dat'\npL[%d] = %ld\npW[%d] = %ld\nptitle[%d] = ", p + 1, Ls[p], p + 1,
                Ls[p], p + 1, Ws[p], p + 1);
        gp_str(f, t);
        fputc('\n', f);
    }
    double pad = (yhi - ylo) * 0.06 + 1e-3;
    fprintf(f, "xmin = 0.8\nymin = %g\nymax = %g\n", ylo - pad, yhi + pad);
    char cap[800];
    snprintf(cap, sizeof cap,
             "Mean loss (nats per token) at each position inside a nonoverlapping %ld-token window, against the "
             "context the token sees (log₂ axis; positions binned, eight bins per octave), with the training "
             "length dashed: left of the line every method gains from more context; right of it a method either "
             "keeps its loss flat or breaks, and the point where its curve turns up is where it stops "
             "extrapolating.",
             Wmax);
    return fig_finish(pl, &af, "positions.gp", "positions", cap, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Figure 4: training loss against tokens.                                   */

static int cmp_train(const void *a, const void *b) {
    const TrainRow *x = a, *y = b;
    return (x->step > y->step) - (x->step < y->step);
}

/* One data block of the validation curve of (m, L): x (tokens / xunit) and the
 * validation loss, averaged over the seeds measured at that step. buf: scratch
 * of r->ntr rows. Lowers *ylo to the smallest value written. */
static void val_block(const Run *r, int m, long L, double xunit, TrainRow *buf, FILE *fp, double *ylo) {
    int k = 0, rows = 0;
    for (int j = 0; j < r->ntr; j++)
        if (r->tr[j].m == m && r->tr[j].L == L && isfinite(r->tr[j].val)) buf[k++] = r->tr[j];
    qsort(buf, (size_t)k, sizeof(TrainRow), cmp_train);
    fprintf(fp, "# %s, L = %ld: x validation_loss (mean over seeds)\n", r->meth[m], L);
    for (int j = 0; j < k;) {
        double st = 0, sv = 0;
        int c = 0;
        for (long step = buf[j].step; j < k && buf[j].step == step; j++, c++) {
            st += buf[j].tokens;
            sv += buf[j].val;
        }
        fprintf(fp, "%.6g %.6g\n", st / c / xunit, sv / c);
        *ylo = fmin(*ylo, sv / c);
        rows++;
    }
    if (!rows) fputs("NaN NaN\n", fp);
    fputs("\n\n", fp);
}

/* One method's training-loss series at L: the mean over seeds per step, then at
 * most ~200 points (consecutive steps binned); x in tokens / xunit. buf holds
 * r->ntr rows of scratch; *ylo and *xmax widen. Returns the most seeds in a point. */
static int training_series(FILE *f, const Run *r, int m, long L, double xunit, const char *xlab, TrainRow *buf,
                           double *ylo, double *xmax) {
    int k = 0, nseeds_max = 1;
    for (int j = 0; j < r->ntr; j++)
        if (r->tr[j].m == m && r->tr[j].L == L && isfinite(r->tr[j].loss)) buf[k++] = r->tr[j];
    qsort(buf, (size_t)k, sizeof(TrainRow), cmp_train);
    int nsteps = 0;
    for (int j = 0; j < k; j++) nsteps += j == 0 || buf[j].step != buf[j - 1].step;
    int per = nsteps > 200 ? (nsteps + 199) / 200 : 1;
    fprintf(f, "# %s, L = %ld: x (%s) mean_loss (seeds averaged, %d step(s) per point)\n", r->meth[m], L, xlab, per);
    int rows = 0;
    for (int j = 0; j < k;) {
        double st = 0, sl = 0;
        int c = 0, steps = 0, ns = 0;
        long seeds[MAX_SEEDS];
        while (j < k && steps < per) {
            long step = buf[j].step;
            while (j < k && buf[j].step == step) {
                st += buf[j].tokens;
                sl += buf[j].loss;
                ns = add_unique(seeds, ns, MAX_SEEDS, buf[j].seed);
                c++;
                j++;
            }
            steps++;
        }
        if (ns > nseeds_max) nseeds_max = ns;
        double x = st / c / xunit, y = sl / c;
        fprintf(f, "%.6g %.6g\n", x, y);
        *ylo = fmin(*ylo, y);
        *xmax = fmax(*xmax, x);
        rows++;
    }
    if (!rows) fputs("NaN NaN\n", f);
    fputs("\n\n", f);
    return nseeds_max;
}

static int fig_training(Plot *pl, char *err, size_t errlen) {
    Run *r = pl->r;
    if (!r->have_train) return 0;
    int ms[256], n = 0, np = 0;
    long Ls[MAX_L];
    for (int l = 0; l < r->nL; l++) {
        int any = 0;
        for (int i = 0; i < r->ntr && !any; i++) any = r->tr[i].L == r->L[l] && isfinite(r->tr[i].loss);
        if (any) Ls[np++] = r->L[l];
    }
    for (int k = 0; k < r->nmeth && n < 256; k++) {
        int m = r->order[k], any = 0;
        for (int i = 0; i < r->ntr && !any; i++) any = r->tr[i].m == m && isfinite(r->tr[i].loss);
        if (any) ms[n++] = m;
    }
    if (!n || !np) return 0;
    double ylo = INFINITY, ytop = -INFINITY, xmax = 0, tokmax = 0;
    int nseeds_max = 1;
    for (int j = 0; j < r->ntr; j++) tokmax = fmax(tokmax, r->tr[j].tokens);
    /* x unit: millions of tokens for real runs, thousands or plain for tiny ones */
    double xunit = r->train_by_step ? 1 : tokmax >= 2e6 ? 1e6 : tokmax >= 2e3 ? 1e3 : 1;
    const char *xlab = r->train_by_step ? "training steps"
                       : xunit == 1e6  ? "training tokens (millions)"
                       : xunit == 1e3  ? "training tokens (thousands)"
                                       : "training tokens";
    char fname[160];
    TrainRow *buf = xmalloc(sizeof(TrainRow) * (size_t)(r->ntr + 1));
    for (int p = 0; p < np; p++) {
        AtomicFile af;
        snprintf(fname, sizeof fname, "training_L%ld.dat", Ls[p]);
        if (figdata_open(pl, &af, fname, err, errlen) != 0) { free(buf); return 1; }
        for (int i = 0; i < n; i++) {
            int ns = training_series(af.fp, r, ms[i], Ls[p], xunit, xlab, buf, &ylo, &xmax);
            if (ns > nseeds_max) nseeds_max = ns;
        }
        for (int i = 0; i < n; i++) val_block(r, ms[i], Ls[p], xunit, buf, af.fp, &ylo);
        if (atomic_commit(&af, err, errlen) != 0) { free(buf); return 1; }
    }
    /* The y axis starts at the loss reached after 3% of training: the first drop from
     * ln(vocab) would flatten everything that matters; it is clipped at the top. */
    for (int j = 0; j < r->ntr; j++)
        if (isfinite(r->tr[j].loss) && r->tr[j].tokens / xunit >= 0.03 * xmax)
            ytop = fmax(ytop, r->tr[j].loss);
    if (!isfinite(ytop)) ytop = ylo + 1;
    free(buf);
    AtomicFile af;
    if (figdata_open(pl, &af, "training.gp", err, errlen) != 0) return 1;
    FILE *f = af.fp;
    int krows = (n + 2) / 3;
    vars_head(f, "training.gp", panels_width(np), 2.45 + 0.13 * krows, r, ms, n);
    fprintf(f, "npanel = %d\n", np);
    vars_panels(f, "pfile", np);
    vars_panels(f, "ptitle", np);
    for (int p = 0; p < np; p++) {
        char t[96];
        snprintf(t, sizeof t, "trained at L = %ld", Ls[p]);
        fprintf(f, "pfile[%d] = 'training_L%ld.dat'\nptitle[%d] = ", p + 1, Ls[p], p + 1);
        gp_str(f, t);
        fputc('\n', f);
    }
    double pad = (ytop - ylo) * 0.05;
    fprintf(f, "xmin = 0\nxmax = %g\nymin = %g\nymax = %g\nxlab = '%s'\nhasval = %d\n", xmax * 1.02, ylo - pad,
            ytop + pad, xlab, r->have_val);
    char cap[800];
    snprintf(cap, sizeof cap,
             "Training loss (nats per token%s) against training tokens%s: every method saw the same data and "
             "steps, so differences at the right end are differences at the training length, before any "
             "extrapolation (the first steps are cut off at the top).",
             nseeds_max > 1 ? ", mean over seeds" : "",
             r->have_val ? "; dashed with open circles: loss on a fixed held-out slice at L (the convergence check)"
                         : "");
    return fig_finish(pl, &af, "training.gp", "training", cap, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Figure 5: speed and memory.                                               */

static int colour_int(const char *hex) { return (int)strtol(hex + 1, NULL, 16); }

static int fig_speed_train(Plot *pl, char *err, size_t errlen) {
    Run *r = pl->r;
    AtomicFile af;
    if (figdata_open(pl, &af, "speed_train.dat", err, errlen) != 0) return 1;
    fputs("# x tokens_per_s sd peak_rss_mb colour label   (one bar per method and training length)\n", af.fp);
    int bars = 0, have_rss = 0, have_sd = 0;
    size_t longest = 0;   /* the longest method label: a bar is at least that wide */
    double tmax = 0, rmax = 0;
    double x = 0;
    for (int l = 0; l < r->nL; l++) {
        int in_group = 0;
        for (int k = 0; k < r->nmeth; k++) {
            int m = r->order[k];
            Stat s = train_tps(r, m, r->L[l]);
            double rss = meta_train(r, m, r->L[l], "peak_rss_mb");
            if (!s.n && !isfinite(rss)) continue;
            if (!in_group && bars) x += 0.8; /* a gap between training lengths */
            in_group = 1;
            MethodStyle st = method_style(r->meth[m]);
            if (strlen(st.label) > longest) longest = strlen(st.label);
            char label[128];
            if (r->nL > 1) snprintf(label, sizeof label, "%s\\nL=%ld", st.label, r->L[l]);
            else snprintf(label, sizeof label, "%s", st.label);
            fprintf(af.fp, "%g %.6g %.6g %.6g %d \"%s\"\n", x, s.n ? s.mean : NAN, s.n ? s.sd : NAN,
                    isfinite(rss) ? rss : NAN, colour_int(st.colour), label);
            if (s.n) tmax = fmax(tmax, s.mean + s.sd);
            if (s.n > 1 && s.sd > 0) have_sd = 1;
            if (isfinite(rss)) { have_rss = 1; rmax = fmax(rmax, rss); }
            x += 1;
            bars++;
        }
    }
    if (!bars || tmax <= 0) {
        atomic_abort(&af);
        return 0;
    }
    if (atomic_commit(&af, err, errlen) != 0) return 1;
    if (figdata_open(pl, &af, "speed_train.gp", err, errlen) != 0) return 1;
    FILE *f = af.fp;
    fprintf(f, "# variables for plots/speed_train.gp, written by `posbench plot`\n");
    int multi = r->nL > 1; /* two-line tick labels "ALiBi / L=256": wider and taller */
    /* inches per bar: 0.58, or the tick label's width (about 0.07 in a character) and a gap */
    double per_bar = fmax(0.58, 0.07 * (double)longest + 0.12);
    fprintf(f, "W = %.3f\nH = %.3f\ndfile = 'speed_train.dat'\nhave_rss = %d\nnbars = %d\n",
            fmax(3.4, per_bar * bars + 0.8), (have_rss ? 3.3 : 1.9) + (multi ? 0.25 * (1 + have_rss) : 0), have_rss,
            bars);
    fprintf(f, "xmin = -0.7\nxmax = %g\ntmax = %g\nrmax = %g\nmulti_L = %d\nhave_sd = %d\n", x - 0.3, tmax * 1.15,
            rmax > 0 ? rmax * 1.15 : 1, r->nL > 1, have_sd);
    return fig_finish(pl, &af, "speed_train.gp", "speed_train",
                      have_rss ? "Training throughput (tokens/s, median over logged steps, mean over seeds with ±1 std "
                                 "bars) and peak resident memory per method: what each position method costs at the "
                                 "same model size."
                               : "Training throughput (tokens/s, median over logged steps, mean over seeds with ±1 "
                                 "std bars) per method: what each position method costs at the same model size.",
                      err, errlen);
}

static int fig_speed_eval(Plot *pl, int mode, char *err, size_t errlen) {
    Run *r = pl->r;
    int ms[256], n, np;
    long Ls[MAX_L];
    if (!eval_panels(r, mode, 1, ms, &n, Ls, &np)) return 0;
    double tlo = INFINITY, thi = -INFINITY, rhi = 0;
    char fname[160];
    for (int p = 0; p < np; p++) {
        AtomicFile af;
        snprintf(fname, sizeof fname, "speed_eval_L%ld.dat", Ls[p]);
        if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
        long T[MAX_T];
        int nT = run_lengths(r, Ls[p], mode, T);
        for (int i = 0; i < n; i++) {
            fprintf(af.fp, "# %s, L = %ld, %s: eval_len tokens_per_s sd peak_rss_mb sd\n", r->meth[ms[i]], Ls[p],
                    r->mode[mode]);
            int rows = 0;
            for (int t = 0; t < nT; t++) {
                Stat s = eval_stat(r, ms[i], Ls[p], mode, T[t], F_TPS, NULL);
                Stat q = eval_stat(r, ms[i], Ls[p], mode, T[t], F_RSS, NULL);
                if (!s.n && !q.n) continue;
                fprintf(af.fp, "%ld %.6g %.6g %.6g %.6g\n", T[t], s.n ? s.mean : NAN, s.n ? s.sd : NAN,
                        q.n ? q.mean : NAN, q.n ? q.sd : NAN);
                if (s.n && s.mean > 0) { tlo = fmin(tlo, s.mean); thi = fmax(thi, s.mean); }
                if (q.n) rhi = fmax(rhi, q.mean + q.sd);
                rows++;
            }
            if (!rows) fputs("NaN NaN NaN NaN NaN\n", af.fp);
            fputs("\n\n", af.fp);
        }
        if (atomic_commit(&af, err, errlen) != 0) return 1;
    }
    if (!isfinite(tlo)) { tlo = 1; thi = 10; }
    AtomicFile af;
    if (figdata_open(pl, &af, "speed_eval.gp", err, errlen) != 0) return 1;
    FILE *f = af.fp;
    int krows = (n + 2) / 3;
    vars_head(f, "speed_eval.gp", panels_width(np), 3.9 + 0.13 * krows, r, ms, n);
    fprintf(f, "npanel = %d\n", np);
    vars_panels(f, "pfile", np);
    vars_panels(f, "pL", np);
    vars_panels(f, "ptitle", np);
    vars_panel_length_arrays(f, np);
    char mt[96];
    mode_title(r, mode, Ls[0], mt, sizeof mt);
    for (int p = 0; p < np; p++) {
        char t[160];
        long T[MAX_T];
        vars_panel_lengths(f, p, T, run_lengths(r, Ls[p], mode, T));
        snprintf(t, sizeof t, "trained at L = %ld (dashed), %s", Ls[p], r->mode[mode]); /* short: wide y labels */
        fprintf(f, "pfile[%d] = 'speed_eval_L%ld.dat'\npL[%d] = %ld\nptitle[%d] = ", p + 1, Ls[p], p + 1, Ls[p], p + 1);
        gp_str(f, t);
        fputc('\n', f);
    }
    /* throughput in thousands of tokens/s */
    fprintf(f, "tmin = %g\ntmax = %g\nrmax = %g\n", tlo / 1.3e3, thi * 1.3e-3, rhi > 0 ? rhi * 1.1 : 1);
    vars_log_tics(f, "ttics", tlo / 1.3e3, thi * 1.3e-3);
    char cap[800];
    snprintf(cap, sizeof cap,
             "Evaluation throughput (tokens/s, log scale) and peak resident memory of the evaluating process "
             "against evaluation length (%s), with the training length dashed: how the cost of reading longer "
             "sequences grows for each method.",
             mt);
    return fig_finish(pl, &af, "speed_eval.gp", "speed_eval", cap, err, errlen);
}

int figures_draw(Plot *pl, char *err, size_t errlen) {
    Run *r = pl->r;
    int rc = 0;
    for (int mi = 0; mi < r->nmode && !rc; mi++) rc = fig_extrapolation(pl, r->mode_order[mi], err, errlen);
    for (int mi = 0; mi < r->nmode && !rc; mi++)
        for (int l = 0; l < r->nL && !rc; l++) rc = fig_seeds(pl, r->mode_order[mi], r->L[l], err, errlen);
    if (!rc) rc = fig_positions(pl, err, errlen);
    if (!rc) rc = fig_probes(pl, err, errlen);
    if (!rc) rc = fig_training(pl, err, errlen);
    if (!rc) rc = fig_speed_train(pl, err, errlen);
    if (!rc && r->nmode) /* evaluation cost: the first mode, nonoverlapping when present */
        rc = fig_speed_eval(pl, r->mode_order[0], err, errlen);
    return rc;
}
