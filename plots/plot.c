/* plot.c — `posbench plot RUN_DIR` as a library call (plot.h): find gnuplot and
 * the scripts, load the run, draw the figures, write the report, tell what is
 * missing.
 */
#include "plot.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../common/util.h"
#include "figures.h"
#include "run.h"

/* 0 if a file can be created in dir, else -1 with "DIR: not writable (reason)". */
static int writable_check(const char *dir, char *err, size_t errlen) {
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof probe, "%s/.write-test.%ld", dir, (long)getpid());
    FILE *f = fopen(probe, "w");
    if (!f) {
        snprintf(err, errlen, "%s: not writable (%s); plot writes figures/ and report.md there", dir, strerror(errno));
        return -1;
    }
    fclose(f);
    unlink(probe);
    return 0;
}

int plot_run_opts(const char *run_dir, const PlotOptions *opt, char *err, size_t errlen) {
    struct stat st;
    if (stat(run_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: no such run folder", run_dir);
        return 2;
    }
    char res[PATH_MAX + 32];
    snprintf(res, sizeof res, "%s/results.csv", run_dir);
    if (!path_exists(res)) {
        snprintf(err, errlen, "%s: no results.csv (not a posbench run folder, or its sweep has not evaluated anything yet)",
                 run_dir);
        return 2;
    }
    Plot *pl = xcalloc(1, sizeof(Plot));
    PlotOptions o = *opt;
    pl->opt = &o;
    if (o.formats && find_in_path("gnuplot", pl->gnuplot, sizeof pl->gnuplot) != 0) {
        pl->no_gnuplot = 1; /* the report needs no gnuplot: write it, then fail with exit 2 */
        o.formats = 0;
    }
    if (o.formats) {
        if (find_scripts(opt, pl->scripts) != 0) {
            snprintf(err, errlen, "%s: the gnuplot scripts (extrapolation.gp, ...) are not there; set POSBENCH_HOME "
                                  "to the posbench folder or pass --scripts DIR",
                     opt->scripts_dir ? opt->scripts_dir : "plots/");
            free(pl);
            return 2;
        }
    }
    Run *r = xcalloc(1, sizeof(Run));
    pl->r = r;
    int rc = 0;
    if (run_load(r, run_dir, err, errlen) != 0) { rc = 2; goto done; }
    find_missing(r);
    if (!r->nev) run_note(r, "results.csv has no rows yet: no perplexity figures or tables");

    snprintf(pl->figdir, sizeof pl->figdir, "%s/figures", r->dir);
    snprintf(pl->datadir, sizeof pl->datadir, "%s/data", pl->figdir);
    if (mkdir_p(pl->datadir, err, errlen) != 0 || writable_check(r->dir, err, errlen) != 0 ||
        writable_check(pl->figdir, err, errlen) != 0) { rc = 2; goto done; }   /* e.g. a read-only folder */
    char abs[PATH_MAX];
    if (realpath(pl->datadir, abs)) snprintf(pl->datadir, sizeof pl->datadir, "%s", abs);
    if (realpath(pl->figdir, abs)) snprintf(pl->figdir, sizeof pl->figdir, "%s", abs);
    snprintf(pl->log, sizeof pl->log, "%s/gnuplot.log", pl->datadir);
    if (o.formats) {
        FILE *lf = fopen(pl->log, "w"); /* fresh log for this plotting */
        if (lf) fclose(lf);
        rc = figures_draw(pl, err, errlen);
        if (rc) goto done;
    }
    rc = write_report(pl, err, errlen);
    if (!rc && !opt->quiet && r->notes.n) {
        fprintf(stderr, "posbench plot: %s is incomplete:\n", r->dir);
        for (const char *p = r->notes.s; *p;) {
            size_t n = strcspn(p, "\n");
            char line[1100];
            snprintf(line, sizeof line, "%.*s", (int)n, p);
            /* strip the markdown bold for the terminal */
            char clean[1100], *w = clean;
            for (const char *q = line + 2; *q; q++)
                if (*q != '*') *w++ = *q;
            *w = 0;
            fprintf(stderr, "  %s\n", clean);
            p += n + (p[n] == '\n');
        }
    }
    if (!rc && pl->no_gnuplot) {
        snprintf(err, errlen, "gnuplot not found on PATH (install it: apt-get install gnuplot-nox); wrote %s/report.md "
                              "without figures", r->dir);
        rc = 2;
    } else if (!rc && !opt->quiet) {
        printf("posbench plot: %d figure file%s in %s/figures, report %s/report.md\n", pl->nfiles,
               pl->nfiles == 1 ? "" : "s", r->dir, r->dir);
    }
done:
    run_free(r);
    free(r);
    free(pl);
    return rc;
}

int plot_run(const char *run_dir, char *err, size_t errlen) {
    PlotOptions opt = {PLOT_PNG | PLOT_PDF, NULL, 0};
    return plot_run_opts(run_dir, &opt, err, errlen);
}
