/* probes.c — the retrieval probes of a run (probes.csv; docs/DEFINITIONS.md, Probes) as figures
 * and report sections, and the report's table of evaluation-time variants:
 *   fig_probes         accuracy against distance D per method (and variant), one panel per window
 *                      length T, the training length L dashed, chance dotted; per kind and L;
 *   fig_probes_heat    accuracy over T x D for the methods with the best and the worst mean accuracy
 *                      (two of them, titled as a tie, when every method has the same mean);
 *   report_probes      the positive control (accuracy at D <= L/4) and the effective context (the
 *                      largest D with accuracy >= PROBE_THRESHOLD) per method;
 *   report_variants    the best of a method and its variants at each evaluation length.
 * Accuracy over seeds: the mean of the seeds' accuracies; intervals pool the seeds' trials.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../methods/method.h"
#include "../common/csv.h"
#include "../common/runfiles.h"
#include "figures.h"
#include "sections.h"
#include "style.h"

#define MAX_CELLS 65536

typedef struct ProbeCell {   /* one (method, L, kind, T, D) over seeds */
    int m, kind;             /* kind: index into probe_kinds */
    long L, T, D;
    int seeds;
    double acc_sum, hits, n, chance;
} ProbeCell;

typedef struct Probes {
    ProbeCell *c;
    int nc;
} Probes;

static const char *const probe_kinds[] = {"copy", "passkey", "passkey_digit"};
enum { N_KINDS = 3 };

static int kind_id(const char *s) {
    for (int k = 0; k < N_KINDS; k++)
        if (!strcmp(s, probe_kinds[k])) return k;
    return -1;
}

static int method_id(const Run *r, const char *name) {
    for (int m = 0; m < r->nmeth; m++)
        if (!strcmp(r->meth[m], name)) return m;
    return -1;
}

/* RUN/probes.csv aggregated over seeds into ps (empty when absent). */
static void probes_load(const Run *r, Probes *ps) {
    memset(ps, 0, sizeof *ps);
    char path[PATH_MAX + 32], err[ERRLEN];
    snprintf(path, sizeof path, "%s/probes.csv", r->dir);
    Csv c;
    if (!path_exists(path) || csv_load(&c, path, err, sizeof err) != 0) return;
    int col[PR_N_COLS];
    for (int k = 0; k < PR_N_COLS; k++) col[k] = csv_col(&c, probes_cols[k]);
    ps->c = xcalloc(c.nrow ? (size_t)c.nrow : 1, sizeof(ProbeCell));
    for (int i = 0; i < c.nrow; i++) {
        int m = method_id(r, csv_get(&c, i, col[PR_METHOD])), kind = kind_id(csv_get(&c, i, col[PR_KIND]));
        long L = csv_long(csv_get(&c, i, col[PR_TRAIN_LEN]), -1), T = csv_long(csv_get(&c, i, col[PR_T]), -1),
             D = csv_long(csv_get(&c, i, col[PR_D]), -1);
        double acc = csv_num(csv_get(&c, i, col[PR_ACC])), n = csv_num(csv_get(&c, i, col[PR_N]));
        if (m < 0 || kind < 0 || L < 0 || T < 0 || D < 0 || !isfinite(acc) || !(n > 0)) continue;
        int j = 0;
        while (j < ps->nc && !(ps->c[j].m == m && ps->c[j].kind == kind && ps->c[j].L == L && ps->c[j].T == T &&
                               ps->c[j].D == D))
            j++;
        if (j == ps->nc) ps->c[ps->nc++] = (ProbeCell){.m = m, .kind = kind, .L = L, .T = T, .D = D,
                                                        .chance = csv_num(csv_get(&c, i, col[PR_CHANCE]))};
        ProbeCell *pc = &ps->c[j];
        pc->seeds++, pc->acc_sum += acc, pc->hits += acc * n, pc->n += n;
    }
    csv_free(&c);
}

static double cell_acc(const ProbeCell *c) { return c->acc_sum / c->seeds; }

/* Sorted unique T (which 1) or D (which 0) of (kind, L) into out. */
static int probe_axis(const Probes *ps, int kind, long L, int which, long *out, int max) {
    int n = 0;
    for (int i = 0; i < ps->nc; i++)
        if (ps->c[i].kind == kind && ps->c[i].L == L) n = add_unique(out, n, max, which ? ps->c[i].T : ps->c[i].D);
    for (int i = 1; i < n; i++)   /* insertion sort: a few dozen values */
        for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
            long t = out[j];
            out[j] = out[j - 1], out[j - 1] = t;
        }
    return n;
}

static const ProbeCell *cell_at(const Probes *ps, int m, int kind, long L, long T, long D) {
    for (int i = 0; i < ps->nc; i++)
        if (ps->c[i].m == m && ps->c[i].kind == kind && ps->c[i].L == L && ps->c[i].T == T && ps->c[i].D == D)
            return &ps->c[i];
    return NULL;
}

/* Methods (display order) with cells of (kind, L) into ms. */
static int probe_methods(const Run *r, const Probes *ps, int kind, long L, int *ms) {
    int n = 0;
    for (int k = 0; k < r->nmeth; k++) {
        int m = r->order[k], any = 0;
        for (int i = 0; i < ps->nc && !any; i++) any = ps->c[i].m == m && ps->c[i].kind == kind && ps->c[i].L == L;
        if (any) ms[n++] = m;
    }
    return n;
}

/* Accuracy against D, one panel per T, for (kind, L). */
static int fig_probe_acc(Plot *pl, const Probes *ps, int kind, long L, char *err, size_t errlen) {
    Run *r = pl->r;
    int ms[256], n = probe_methods(r, ps, kind, L, ms);
    long Ts[MAX_T], Ds[MAX_T];
    int nT = probe_axis(ps, kind, L, 1, Ts, MAX_T), nD = probe_axis(ps, kind, L, 0, Ds, MAX_T);
    if (!n || !nT || !nD) return 0;
    char name[96], fname[160];
    snprintf(name, sizeof name, "probes_%s_L%ld", probe_kinds[kind], L);
    double chance = 0;
    for (int p = 0; p < nT; p++) {
        AtomicFile af;
        snprintf(fname, sizeof fname, "%s_T%ld.dat", name, Ts[p]);
        if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
        for (int i = 0; i < n; i++) {
            fprintf(af.fp, "# %s, %s, L = %ld, T = %ld: D mean_acc seeds\n", r->meth[ms[i]], probe_kinds[kind], L, Ts[p]);
            int rows = 0;
            for (int d = 0; d < nD; d++) {
                const ProbeCell *c = cell_at(ps, ms[i], kind, L, Ts[p], Ds[d]);
                if (!c) continue;
                fprintf(af.fp, "%ld %.5f %d\n", Ds[d], cell_acc(c), c->seeds);
                chance = c->chance, rows++;
            }
            if (!rows) fputs("NaN NaN 0\n", af.fp);
            fputs("\n\n", af.fp);
        }
        if (atomic_commit(&af, err, errlen) != 0) return 1;
    }
    AtomicFile af;
    if (vars_open_panels(pl, &af, name, "probes.gp", nT, ms, n, err, errlen) != 0) return 1;
    FILE *f = af.fp;
    fprintf(f, "npanel = %d\npL = %ld\nchance = %g\nxmin = %g\nxmax = %g\n", nT, L, chance, Ds[0] / 1.4,
            Ds[nD - 1] * 1.4);
    vars_len_tics(f, "xtics", Ds, nD, nD > 6);
    vars_panels(f, "pfile", nT);
    vars_panels(f, "ptitle", nT);
    for (int p = 0; p < nT; p++) {
        char t[96];
        snprintf(t, sizeof t, "T = %ld", Ts[p]);
        fprintf(f, "pfile[%d] = '%s_T%ld.dat'\nptitle[%d] = ", p + 1, name, Ts[p], p + 1);
        gp_str(f, t);
        fputc('\n', f);
    }
    char cap[800];
    snprintf(cap, sizeof cap,
             "%s probe, models trained at L = %ld: top-1 accuracy%s against the distance D between the two "
             "strings (log₂ axis), one panel per window length T; the dashed line marks D = L, the dotted one "
             "chance (%g). A method that reads its whole context keeps its accuracy to the right of the line.",
             kind == 0 ? "Copy" : kind == 1 ? "Passkey" : "Passkey (per digit)", L,
             kind == 1 ? " (exact match of the key)" : "", chance);
    return fig_finish(pl, &af, "probes.gp", name, cap, err, errlen);
}

/* Mean accuracy of m over every (T, D) of (kind, L); NaN when none. */
static double mean_acc(const Probes *ps, int m, int kind, long L) {
    double s = 0;
    int n = 0;
    for (int i = 0; i < ps->nc; i++)
        if (ps->c[i].m == m && ps->c[i].kind == kind && ps->c[i].L == L) s += cell_acc(&ps->c[i]), n++;
    return n ? s / n : NAN;
}

/* T x D accuracy of the best and the worst method (mean accuracy over the cells) for (kind, L). */
static int fig_probe_heat(Plot *pl, const Probes *ps, int kind, long L, char *err, size_t errlen) {
    Run *r = pl->r;
    int ms[256], n = probe_methods(r, ps, kind, L, ms), best = -1, worst = -1;
    long Ts[MAX_T], Ds[MAX_T];
    int nT = probe_axis(ps, kind, L, 1, Ts, MAX_T), nD = probe_axis(ps, kind, L, 0, Ds, MAX_T);
    if (n < 2 || !nT || !nD) return 0;
    for (int i = 0; i < n; i++) {
        double a = mean_acc(ps, ms[i], kind, L);
        if (best < 0 || a > mean_acc(ps, best, kind, L)) best = ms[i];
        if (worst < 0 || a < mean_acc(ps, worst, kind, L)) worst = ms[i];
    }
    if (best == worst) worst = ms[0] == best ? ms[1] : ms[0];
    char name[96], fname[160];
    snprintf(name, sizeof name, "probes_heat_%s_L%ld", probe_kinds[kind], L);
    snprintf(fname, sizeof fname, "%s.dat", name);
    AtomicFile af;
    if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
    int pick[2] = {best, worst};
    for (int q = 0; q < 2; q++) {
        fprintf(af.fp, "# %s: D_index T_index mean_acc (NaN: D does not fit T)\n", r->meth[pick[q]]);
        for (int t = 0; t < nT; t++) {
            for (int d = 0; d < nD; d++) {
                const ProbeCell *c = cell_at(ps, pick[q], kind, L, Ts[t], Ds[d]);
                if (c) fprintf(af.fp, "%d %d %.5f\n", d, t, cell_acc(c));
                else fprintf(af.fp, "%d %d NaN\n", d, t);
            }
            fputc('\n', af.fp);
        }
        fputs("\n", af.fp);
    }
    if (atomic_commit(&af, err, errlen) != 0) return 1;
    snprintf(fname, sizeof fname, "%s.gp", name);
    if (figdata_open(pl, &af, fname, err, errlen) != 0) return 1;
    FILE *f = af.fp;
    fprintf(f, "# variables for plots/probes_heat.gp, written by `posbench plot`\nW = %.3f\nH = 2.3\ndfile = '%s.dat'\n",
            panels_width(2), name);
    fprintf(f, "nD = %d\nnT = %d\nxtics = \"(", nD, nT);
    for (int d = 0; d < nD; d++) fprintf(f, "%s'%ld' %d", d ? ", " : "", Ds[d], d);
    fprintf(f, ")\"\nytics = \"(");
    for (int t = 0; t < nT; t++) fprintf(f, "%s'%ld' %d", t ? ", " : "", Ts[t], t);
    fprintf(f, ")\"\narray ptitle[2]\nptitle[1] = ");
    /* every method with the same mean (all at 0, say) has no best or worst: the panels say so */
    double a_best = mean_acc(ps, best, kind, L), a_worst = mean_acc(ps, worst, kind, L);
    int tie = a_best == a_worst;
    char t[200];
    snprintf(t, sizeof t, tie ? "%s (mean %.2f, as every method)" : "best: %s (mean %.2f)",
             plot_method_label(r->meth[best]), a_best);
    gp_str(f, t);
    snprintf(t, sizeof t, tie ? "%s (mean %.2f, as every method)" : "worst: %s (mean %.2f)",
             plot_method_label(r->meth[worst]), a_worst);
    fputs("\nptitle[2] = ", f);
    gp_str(f, t);
    fputc('\n', f);
    char cap[800], which[200];
    if (tie)
        snprintf(which, sizeof which, "two of the methods; all %d have the same mean accuracy over these cells (%.2f), "
                 "so none is best or worst", n, a_best);
    else
        snprintf(which, sizeof which, "the method with the highest mean accuracy over these cells and the one with the "
                 "lowest");
    snprintf(cap, sizeof cap,
             "%s probe, trained at L = %ld: top-1 accuracy (colour, 0 to 1) over window length T and distance D for %s; "
             "blank cells: D does not fit T.", kind == 0 ? "Copy" : kind == 1 ? "Passkey (exact match)" : "Passkey (per digit)",
             L, which);
    return fig_finish(pl, &af, "probes_heat.gp", name, cap, err, errlen);
}

int fig_probes(Plot *pl, char *err, size_t errlen) {
    Probes ps;
    probes_load(pl->r, &ps);
    int rc = 0;
    for (int l = 0; l < pl->r->nL && !rc; l++)
        for (int kind = 0; kind < 2 && !rc; kind++) {   /* copy, passkey exact match */
            rc = fig_probe_acc(pl, &ps, kind, pl->r->L[l], err, errlen);
            if (!rc) rc = fig_probe_heat(pl, &ps, kind, pl->r->L[l], err, errlen);
        }
    free(ps.c);
    return rc;
}

/* Pooled over the cells of (m, kind, L) with D <= Dmax (Dmax < 0: every D): hits and trials. */
static void pooled(const Probes *ps, int m, int kind, long L, long Dmax, double *hits, double *n) {
    *hits = *n = 0;
    for (int i = 0; i < ps->nc; i++) {
        const ProbeCell *c = &ps->c[i];
        if (c->m == m && c->kind == kind && c->L == L && (Dmax < 0 || c->D <= Dmax)) *hits += c->hits, *n += c->n;
    }
}

/* The largest D with accuracy >= PROBE_THRESHOLD at some T (and that T), or -1. */
static long effective_context(const Probes *ps, int m, int kind, long L, long *T) {
    long best = -1;
    for (int i = 0; i < ps->nc; i++) {
        const ProbeCell *c = &ps->c[i];
        if (c->m == m && c->kind == kind && c->L == L && cell_acc(c) >= PROBE_THRESHOLD && c->D > best)
            best = c->D, *T = c->T;
    }
    return best;
}

/* "0.42 (0.37–0.47)" of hits / n with the Wilson interval, or "—". */
static void fmt_rate(char *buf, size_t len, double hits, double n) {
    if (!(n > 0)) {
        snprintf(buf, len, "—");
        return;
    }
    double p = hits / n, z = 1.959964, z2n = z * z / n;
    double centre = (p + z2n / 2) / (1 + z2n), half = z * sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n);
    snprintf(buf, len, "%.2f (%.2f–%.2f)", p, fmax(0, centre - half), fmin(1, centre + half));
}

/* One table row per method of L: positive control and effective context of each kind.
 * Returns the methods whose control stayed below the threshold in every kind. */
static int probe_rows(FILE *f, const Run *r, const Probes *ps, long L, int *ms, int n) {
    int failing = 0;
    for (int i = 0; i < n; i++) {
        int m = ms[i], retrieves = 0;
        fprintf(f, "| %s |", plot_method_label(r->meth[m]));
        for (int kind = 0; kind < N_KINDS; kind++) {
            double hits, trials;
            char rate[64], eff[64] = "—";
            pooled(ps, m, kind, L, L / 4, &hits, &trials);
            fmt_rate(rate, sizeof rate, hits, trials);
            retrieves |= trials > 0 && hits / trials >= PROBE_THRESHOLD;
            long T = 0, D = effective_context(ps, m, kind, L, &T);
            pooled(ps, m, kind, L, -1, &hits, &trials);
            if (D >= 0) snprintf(eff, sizeof eff, "%ld (T = %ld)", D, T);
            else if (trials > 0) snprintf(eff, sizeof eff, "none");
            fprintf(f, " %s | %s |", rate, eff);
        }
        fputc('\n', f);
        failing += !retrieves;
    }
    return failing;
}

void report_probes(FILE *f, const Run *r) {
    Probes ps;
    probes_load(r, &ps);
    if (!ps.nc) {
        free(ps.c);
        return;
    }
    char mixs[64];
    double mix = atof(meta_str(r, "config.train_copy_mix", mixs, sizeof mixs));
    fprintf(f, "## Retrieval probes\n\nDoes a model *use* its context? Copy: a random 16-token string from 36 "
               "letters and digits, D tokens of held-out text, the string again; scored on the second copy's tokens "
               "but its first (chance 1/36). Passkey: \"the pass key is NNNNN. \", D tokens of text, \"the pass key "
               "is \" again; scored on the five digits, exact match per key (chance 1e-5) and per digit (chance 1/10); "
               "definitions in docs/DEFINITIONS.md (Probes). **Control**: accuracy pooled over every window length "
               "and every D ≤ L/4, with its Wilson 95%% interval; a model that fails here cannot retrieve at all, and "
               "its accuracy at longer D says nothing about extrapolation. **Effective context**: the largest D "
               "with mean accuracy ≥ %.2f at some window length T (none: never).\n\n", PROBE_THRESHOLD);
    for (int l = 0; l < r->nL; l++) {
        long L = r->L[l];
        int ms[256], n = 0;
        for (int kind = 0; kind < N_KINDS; kind++) {
            int km[256], kn = probe_methods(r, &ps, kind, L, km);
            for (int i = 0; i < kn; i++) {
                int seen = 0;
                for (int j = 0; j < n; j++) seen |= ms[j] == km[i];
                if (!seen) ms[n++] = km[i];
            }
        }
        if (!n) continue;
        fprintf(f, "### Trained at L = %ld (control: D ≤ %ld)\n\n| method | copy: control | copy: effective context "
                   "| passkey: control | passkey: effective context | per digit: control | per digit: effective context |\n"
                   "|---|---|---|---|---|---|---|\n", L, L / 4);
        int failing = probe_rows(f, r, &ps, L, ms, n);
        if (failing == n) {
            fprintf(f, "\n**No model passes the positive control**: none reaches accuracy %.2f in any probe even at "
                       "D ≤ %ld (the controls above), so these models do not retrieve a planted string at all and "
                       "the probes cannot tell the methods' long-context use apart. ", PROBE_THRESHOLD, L / 4);
            if (mix > 0)
                fprintf(f, "That holds even with the training mixture on (a repeated random string in %g%% of the "
                           "training windows, the same for every method): within this budget the models did not "
                           "learn to copy.\n", 100 * mix);
            else
                fprintf(f, "Models this small and briefly trained on plain text rarely form a copying mechanism. The "
                           "opt-in training mixture `train_copy_mix = F` (the same for every method; recorded in "
                           "meta.json) plants a repeated random string in a fraction F of the training windows, "
                           "which gives the probes something to measure.\n");
        }
        else if (failing)
            fprintf(f, "\n%d of %d models stay below %.2f at D ≤ %ld in every probe (no retrieval at all).\n", failing,
                    n, PROBE_THRESHOLD, L / 4);
        fputc('\n', f);
    }
    free(ps.c);
}

/* Variants: the best (lowest perplexity) of each method and its variants at each length. */
void report_variants(FILE *f, const Run *r) {
    int mode = run_mode_id(r, "nonoverlapping"), any = 0;
    for (int m = 0; m < r->nmeth; m++) any |= pos_spec_variant(r->meth[m]) != NULL;
    if (!any || mode < 0) return;
    fprintf(f, "## Evaluation-time variants\n\nEach variant is its base method's checkpoint evaluated with something "
               "changed (docs/DEFINITIONS.md, Evaluation-time variants). Best of a method and its variants at each "
               "length: the lowest mean perplexity (nonoverlapping windows), with that perplexity; the base method's "
               "own is in the perplexity tables above.\n\n");
    for (int l = 0; l < r->nL; l++) {
        long T[MAX_T], L = r->L[l];
        int nT = run_lengths(r, L, mode, T);
        fprintf(f, "### Best variant per method, trained at L = %ld\n\n| method |", L);
        for (int t = 0; t < nT; t++) fprintf(f, " %ld |", T[t]);
        fprintf(f, "\n|---|");
        for (int t = 0; t < nT; t++) fprintf(f, "---|");
        fputc('\n', f);
        for (int k = 0; k < r->nmeth; k++) {
            int b = r->order[k];
            size_t nb = strlen(r->meth[b]);
            if (pos_spec_variant(r->meth[b])) continue;
            int has = 0;
            for (int v = 0; v < r->nmeth; v++) has |= !strncmp(r->meth[v], r->meth[b], nb) && r->meth[v][nb] == '+';
            if (!has) continue;
            fprintf(f, "| %s |", plot_method_label(r->meth[b]));
            for (int t = 0; t < nT; t++) {
                int best = -1;
                double bp = INFINITY;
                for (int v = 0; v < r->nmeth; v++) {
                    if (v != b && !(!strncmp(r->meth[v], r->meth[b], nb) && r->meth[v][nb] == '+')) continue;
                    Stat s = eval_stat(r, v, L, mode, T[t], F_PPL, NULL);
                    if (s.n && s.mean < bp) bp = s.mean, best = v;
                }
                if (best < 0) fprintf(f, " — |");
                else fprintf(f, " %s %.2f |", best == b ? "(base)" : r->meth[best] + nb, bp);
            }
            fputc('\n', f);
        }
        fputc('\n', f);
    }
}
