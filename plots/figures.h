/* figures.h — the plotting context and the figure makers.
 *
 * For every figure a data file (NAME.dat or NAME_L<L>.dat) and a gnuplot
 * variable file (NAME.gp) go to RUN_DIR/figures/data/; the figure's script in
 * plots/ is then run once per output format as
 *     cd RUN_DIR/figures/data && gnuplot -e "plotdir=..; fmt=..; vars=..; out=.." plots/KIND.gp
 * so a figure can be re-rendered or restyled by hand from the data folder.
 * gnuplot.c holds the variable-file helpers and runs gnuplot; figures.c makes
 * the figures themselves (one function per figure kind).
 */
#ifndef POSBENCH_PLOTS_FIGURES_H
#define POSBENCH_PLOTS_FIGURES_H
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include "../common/util.h"
#include "plot.h"
#include "run.h"

typedef struct Figure {
    char name[96];     /* figures/NAME.png */
    char caption[800]; /* one sentence for the report */
} Figure;

#define MAX_FIGS 64

typedef struct Plot {
    Run *r;
    const PlotOptions *opt;
    char figdir[PATH_MAX + 16], datadir[PATH_MAX + 32], scripts[PATH_MAX], gnuplot[PATH_MAX], log[PATH_MAX + 64];
    Figure fig[MAX_FIGS];
    int nfig, nfiles;
    int no_gnuplot; /* figures were asked for but gnuplot is not installed: report only */
} Plot;

/* figures.c: every figure of the run; 0, or 1 with err (a write or gnuplot failed). */
int figures_draw(Plot *pl, char *err, size_t errlen);

/* gnuplot.c: variable files (each writes gnuplot assignments to f) */
void gp_str(FILE *f, const char *s);     /* a gnuplot string literal */
int figdata_open(Plot *pl, AtomicFile *af, const char *name, char *err, size_t errlen);
/* Size and series styles (linetype i = method ms[i-1]). */
void vars_head(FILE *f, const char *script, double W, double H, const Run *r, const int *ms, int n);
/* figures/data/NAME.gp opened and headed (vars_head) for np side-by-side panels of n series. 0, or 1 with err. */
int vars_open_panels(Plot *pl, AtomicFile *af, const char *name, const char *script, int np, const int *ms, int n,
                     char *err, size_t errlen);
void vars_panels(FILE *f, const char *var, int n);           /* "array var[n]" */
void vars_len_tics(FILE *f, const char *var, const long *T, int n, int sparse);
void vars_len_tics_bare(FILE *f, const char *var, const long *T, int n);
void vars_panel_lengths(FILE *f, int p, const long *T, int n);
void vars_panel_length_arrays(FILE *f, int np);
void vars_log_tics(FILE *f, const char *var, double lo, double hi);
double panels_width(int n);              /* inches for n side-by-side panels */
/* Commit a variable file and render it in every format; on success the figure
 * and its caption join the report. */
int fig_finish(Plot *pl, AtomicFile *af, const char *script, const char *name, const char *caption,
               char *err, size_t errlen);
/* gnuplot on PATH / the folder of the .gp scripts (out holds PATH_MAX bytes). */
int find_in_path(const char *prog, char *out, size_t n);
int find_scripts(const PlotOptions *opt, char *out);

/* probes.c: the probe figures (accuracy against D per T; T x D heat maps), when probes.csv has rows. */
int fig_probes(Plot *pl, char *err, size_t errlen);

/* report.c: RUN_DIR/report.md from the run and the figures made. */
int write_report(Plot *pl, char *err, size_t errlen);

#endif
