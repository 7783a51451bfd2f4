/* plot.h — figures and report of a run folder (`posbench plot RUN_DIR`).
 *
 * plot_run() reads RUN_DIR/results.csv (required), train.csv, positions.csv and
 * meta.json (optional; docs/FORMATS.md), writes aggregated data files to
 * RUN_DIR/figures/data/, renders every figure kind with the gnuplot scripts of
 * plots/ into RUN_DIR/figures/ (PNG and PDF by default) and writes
 * RUN_DIR/report.md. The CSVs and meta.json are only read. Every output goes to a
 * temporary name first and is renamed into place.
 *
 * Return value = exit status (docs/DEFINITIONS.md, Command line): 0 done; 2 bad input (RUN_DIR or
 * results.csv missing or unreadable, the gnuplot scripts not found, gnuplot not
 * installed — then report.md is still written, without figures, and err names
 * the package gnuplot-nox); 1 internal failure (gnuplot failed on a script, a
 * write failed). err gets one line.
 * A partial run (a method missing, failed or still running) is not an error: what
 * exists is drawn and the report and the notes on stderr say what is missing.
 */
#ifndef POSBENCH_PLOT_H
#define POSBENCH_PLOT_H
#include <stddef.h>

enum { PLOT_PNG = 1, PLOT_PDF = 2 };

typedef struct PlotOptions {
    int formats;             /* PLOT_PNG | PLOT_PDF; 0 = report only, gnuplot not needed */
    const char *scripts_dir; /* folder of the .gp scripts; NULL = $POSBENCH_HOME/plots, else plots/ beside the binary */
    int quiet;               /* 1: no notes on stderr */
} PlotOptions;

int plot_run(const char *run_dir, char *err, size_t errlen);   /* PNG + PDF, scripts found automatically */
int plot_run_opts(const char *run_dir, const PlotOptions *opt, char *err, size_t errlen);

/* A method's name as the paper writes it ("alibi" -> "ALiBi", "t5" -> "T5 bias");
 * unknown names are returned unchanged. */
const char *plot_method_label(const char *method);

#endif
