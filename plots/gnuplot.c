/* gnuplot.c — variable files for the plots/ scripts and running gnuplot on them
 * (figures.h). gnuplot's output goes to figures/data/gnuplot.log; a figure is
 * rendered to a temporary name and renamed into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../methods/method.h"
#include "../common/spawn.h"
#include "../common/strbuf.h"
#include "figures.h"
#include "style.h"

/* gnuplot string literal: single quotes, a quote doubled. */
void gp_str(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

int figdata_open(Plot *pl, AtomicFile *af, const char *name, char *err, size_t errlen) {
    char path[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/%s", pl->datadir, name);
    return atomic_open(af, path, "w", err, errlen);
}

/* Common head of a variable file: size and the series styles (linetype i = series i). */
void vars_head(FILE *f, const char *script, double W, double H, const Run *r, const int *ms, int n) {
    fprintf(f, "# variables for plots/%s, written by `posbench plot` — edit and re-run gnuplot by hand if you like\n",
            script);
    fprintf(f, "W = %.3f\nH = %.3f\nnser = %d\narray slabel[%d] = [", W, H, n, n > 0 ? n : 1);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        gp_str(f, method_style(r->meth[ms[i]]).label);
    }
    fputs(n ? "]\n" : "'']\n", f);
    for (int i = 0; i < n; i++) {
        MethodStyle s = method_style(r->meth[ms[i]]);
        fprintf(f, "set linetype %d lc rgb '%s' lw 1.5 pt %d ps 0.75 dt %s  # %s\n", i + 1, s.colour, s.point,
                pos_spec_variant(r->meth[ms[i]]) ? "(10,7)" : "solid", r->meth[ms[i]]);   /* variants dashed */
    }
}

int vars_open_panels(Plot *pl, AtomicFile *af, const char *name, const char *script, int np, const int *ms, int n,
                     char *err, size_t errlen) {
    char fname[200];
    snprintf(fname, sizeof fname, "%s.gp", name);
    if (figdata_open(pl, af, fname, err, errlen) != 0) return 1;
    vars_head(af->fp, script, panels_width(np), 2.45 + 0.13 * ((n + 2) / 3), pl->r, ms, n);
    return 0;
}

void vars_panels(FILE *f, const char *var, int n) { fprintf(f, "array %s[%d]\n", var, n > 0 ? n : 1); }

/* '("128" 128, "256" 256)' — every length labelled, or (sparse) every other one
 * with the longest kept, the rest as unlabelled minor tics. */
void vars_len_tics(FILE *f, const char *var, const long *T, int n, int sparse) {
    fprintf(f, "%s = '(", var);
    int step = sparse && n > 4 ? 2 : 1;
    for (int i = 0; i < n; i++) {
        if ((n - 1 - i) % step == 0 && sparse && T[i] >= 1024 && T[i] % 1024 == 0)
            fprintf(f, "%s\"%ldk\" %ld", i ? ", " : "", T[i] / 1024, T[i]); /* narrow panels: 1k, 4k */
        else if ((n - 1 - i) % step == 0) fprintf(f, "%s\"%ld\" %ld", i ? ", " : "", T[i], T[i]);
        else fprintf(f, "%s\"\" %ld 1", i ? ", " : "", T[i]);
    }
    fputs(")'\n", f);
}

/* The same positions without labels (panels whose x axis is labelled below them). */
void vars_len_tics_bare(FILE *f, const char *var, const long *T, int n) {
    fprintf(f, "%s = '(", var);
    for (int i = 0; i < n; i++) fprintf(f, "%s\"\" %ld", i ? ", " : "", T[i]);
    fputs(")'\n", f);
}

/* Panel p's own evaluation lengths: x range and tics (labelled and bare). */
void vars_panel_lengths(FILE *f, int p, const long *T, int n) {
    char v[32];
    fprintf(f, "pxmin[%d] = %g\npxmax[%d] = %g\n", p + 1, T[0] / 1.25, p + 1, T[n - 1] * 1.25);
    snprintf(v, sizeof v, "pxtics[%d]", p + 1);
    vars_len_tics(f, v, T, n, 0);
    snprintf(v, sizeof v, "pxticsnl[%d]", p + 1);
    vars_len_tics_bare(f, v, T, n);
}

void vars_panel_length_arrays(FILE *f, int np) {
    vars_panels(f, "pxmin", np);
    vars_panels(f, "pxmax", np);
    vars_panels(f, "pxtics", np);
    vars_panels(f, "pxticsnl", np);
}

/* Log-axis tics: 1-2-5 steps, denser when the range is narrow. */
void vars_log_tics(FILE *f, const char *var, double lo, double hi) {
    static const double sets[3][11] = {{1, 2, 5}, {1, 2, 3, 5, 7}, {1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9}};
    static const int sizes[3] = {3, 5, 11};
    double ticks[64];
    int n = 0;
    for (int s = 0; s < 3 && n < 4; s++) {
        n = 0;
        for (int e = (int)floor(log10(lo)) - 1; e <= (int)ceil(log10(hi)) && n < 64; e++)
            for (int k = 0; k < sizes[s] && n < 64; k++) {
                double t = sets[s][k] * pow(10, e);
                if (t >= lo * 0.9999 && t <= hi * 1.0001) ticks[n++] = t;
            }
    }
    if (n < 3) { /* a narrow range: evenly spaced tics, 1-2-2.5-5 steps */
        double raw = (hi - lo) / 4, mag = pow(10, floor(log10(raw))), step = mag;
        static const double nice[] = {1, 2, 2.5, 5, 10};
        for (int k = 0; k < 5 && step < raw; k++) step = nice[k] * mag;
        n = 0;
        for (double t = ceil(lo / step) * step; t <= hi * 1.0001 && n < 64; t += step) ticks[n++] = t;
    }
    fprintf(f, "%s = '(", var);
    for (int i = 0; i < n; i++) fprintf(f, "%s%g", i ? ", " : "", ticks[i]);
    fputs(")'\n", f);
}


/* 0 if path is a readable image of its kind: a PNG's signature and IHDR chunk, a PDF's "%PDF-"
 * header and "%%EOF" trailer (a gnuplot that exits 0 but writes a stub or junk is caught here). */
static int image_check(const char *path, const char *ext, char *why, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(why, n, "cannot read it back: %s", strerror(errno)); return -1; }
    unsigned char head[24] = {0}, tail[64] = {0};
    size_t got = fread(head, 1, sizeof head, f), tl = 0;
    if (fseek(f, -(long)sizeof tail, SEEK_END) == 0) tl = fread(tail, 1, sizeof tail, f);
    fclose(f);
    int ok;
    if (!strcmp(ext, "png")) {
        ok = got == sizeof head && !memcmp(head, "\x89PNG\r\n\x1a\n", 8) && !memcmp(head + 12, "IHDR", 4) &&
             (head[16] | head[17] | head[18] | head[19]) && (head[20] | head[21] | head[22] | head[23]);
        if (!ok) snprintf(why, n, "no PNG signature and image header");
    } else {
        ok = got >= 5 && !memcmp(head, "%PDF-", 5) && memmem(tail, tl, "%%EOF", 5) != NULL;
        if (!ok) snprintf(why, n, "no %%PDF- header and %%%%EOF trailer");
    }
    return ok ? 0 : -1;
}

/* Runs one script for one format: gnuplot's stdout and stderr go to the log. */
static int gnuplot_render(Plot *pl, const char *script, const char *vars, const char *name, const char *ext,
                          char *err, size_t errlen) {
    char out_tmp[PATH_MAX], out[PATH_MAX + 256], script_path[PATH_MAX + 64], tmp_abs[PATH_MAX + 256];
    snprintf(out_tmp, sizeof out_tmp, "../%s.%s.tmp.%ld", name, ext, (long)getpid());
    snprintf(out, sizeof out, "%s/%s.%s", pl->figdir, name, ext);
    snprintf(tmp_abs, sizeof tmp_abs, "%s/%s.%s.tmp.%ld", pl->figdir, name, ext, (long)getpid());
    snprintf(script_path, sizeof script_path, "%s/%s", pl->scripts, script);

    /* -e text: the four variables every script reads */
    Sb e = {0};
    const char *sv[4] = {pl->scripts, ext, vars, out_tmp};
    const char *names[4] = {"plotdir", "fmt", "vars", "out"};
    for (int i = 0; i < 4; i++) {
        sb_printf(&e, "%s%s='", i ? "; " : "", names[i]);
        for (const char *p = sv[i]; *p; p++) sb_printf(&e, *p == '\'' ? "''" : "%c", *p);
        sb_printf(&e, "'");
    }
    char *argv[] = {"gnuplot", "-e", e.s, script_path, NULL};
    SpawnOpts so = {.dir = pl->datadir, .log = pl->log};
    int rc = spawn_wait(pl->gnuplot, argv, &so);
    free(e.s);
    struct stat st;
    int ok = rc == 0 && stat(tmp_abs, &st) == 0 && st.st_size > 0;
    if (!ok) {
        unlink(tmp_abs);
        char last[300] = "no message";
        FILE *lf = fopen(pl->log, "r");
        if (lf) { /* the last non-empty line says why */
            char line[300];
            while (fgets(line, sizeof line, lf))
                if (line[0] != '\n') { snprintf(last, sizeof last, "%s", line); }
            fclose(lf);
            last[strcspn(last, "\n")] = 0;
        }
        snprintf(err, errlen, "gnuplot failed on plots/%s for %s.%s (%s); see %s", script, name, ext, last, pl->log);
        return 1;
    }
    char why[160];
    if (image_check(tmp_abs, ext, why, sizeof why) != 0) {
        unlink(tmp_abs);
        snprintf(err, errlen, "gnuplot wrote no valid %s for %s.%s with plots/%s (%s); nothing was replaced; see %s", ext,
                 name, ext, script, why, pl->log);
        return 1;
    }
    if (rename(tmp_abs, out) != 0) {
        snprintf(err, errlen, "%s: cannot rename into place (%s)", out, strerror(errno));
        unlink(tmp_abs);
        return 1;
    }
    pl->nfiles++;
    return 0;
}

static int render_all(Plot *pl, const char *script, const char *vars, const char *name, char *err, size_t errlen) {
    static const struct { int flag; const char *ext; } fmts[] = {{PLOT_PNG, "png"}, {PLOT_PDF, "pdf"}};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
        if (pl->opt->formats & fmts[i].flag) {
            int rc = gnuplot_render(pl, script, vars, name, fmts[i].ext, err, errlen);
            if (rc) return rc;
        }
    return 0;
}

static Figure *fig_add(Plot *pl, const char *name) {
    if (pl->nfig >= MAX_FIGS) return NULL;
    Figure *f = &pl->fig[pl->nfig++];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->caption[0] = 0;
    return f;
}

/* Commit a variable file and render it; on success the figure joins the report. */
int fig_finish(Plot *pl, AtomicFile *af, const char *script, const char *name, const char *caption,
                      char *err, size_t errlen) {
    if (atomic_commit(af, err, errlen) != 0) return 1;
    char vars[160];
    snprintf(vars, sizeof vars, "%s.gp", name);
    int rc = render_all(pl, script, vars, name, err, errlen);
    if (rc) return rc;
    Figure *f = fig_add(pl, name);
    if (f) snprintf(f->caption, sizeof f->caption, "%s", caption);
    return 0;
}

/* Figure width for n side-by-side panels: one paper column for one panel. */
double panels_width(int n) { return 3.4 + 2.5 * (n > 1 ? n - 1 : 0); }

/* ------------------------------------------------------------------------ */
/* Finding gnuplot and the scripts.                                          */

int find_in_path(const char *prog, char *out, size_t n) {
    const char *path = getenv("PATH");
    if (!path) return -1;
    while (*path) {
        size_t len = strcspn(path, ":");
        snprintf(out, n, "%.*s/%s", (int)(len ? len : 1), len ? path : ".", prog);
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return 0;
        path += len;
        if (*path == ':') path++;
    }
    return -1;
}

static int scripts_ok(const char *dir) {
    char p[PATH_MAX + 256];
    snprintf(p, sizeof p, "%s/extrapolation.gp", dir);
    return path_exists(p);
}

int find_scripts(const PlotOptions *opt, char *out) {
    char cand[PATH_MAX + 16];
    if (opt->scripts_dir) {
        snprintf(cand, sizeof cand, "%s", opt->scripts_dir);
        if (scripts_ok(cand) && realpath(cand, out)) return 0;
        return -1;
    }
    const char *home = getenv("POSBENCH_HOME");
    if (home && *home) {
        snprintf(cand, sizeof cand, "%s/plots", home);
        if (scripts_ok(cand) && realpath(cand, out)) return 0;
    }
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        static const char *rel[] = {"plots", "../plots"}; /* ./posbench, build/posbench-asan */
        for (int i = 0; i < 2; i++) {
            snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
            if (scripts_ok(cand) && realpath(cand, out)) return 0;
        }
    }
    if (scripts_ok("plots") && realpath("plots", out)) return 0;
    return -1;
}
