/* report.c — RUN_DIR/report.md (figures.h): configuration, what is missing,
 * perplexity and bits-per-byte tables, speed and memory, the figures with their
 * captions. One function per section.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/strbuf.h"
#include "../common/util.h"
#include "figures.h"
#include "sections.h"

/* Number formats for tables. */

static int decimals_for(double v) {
    double a = fabs(v);
    return a >= 1000 ? 0 : a >= 100 ? 1 : 2;
}

static void fmt_stat(char *buf, size_t n, Stat s, int dec, int with_sd) {
    if (!s.n) { snprintf(buf, n, "—"); return; }
    if (dec < 0) dec = decimals_for(s.mean);
    if (with_sd && s.n > 1) snprintf(buf, n, "%.*f ± %.*f", dec, s.mean, dec, s.sd);
    else snprintf(buf, n, "%.*f", dec, s.mean);
}

static void fmt_si(char *buf, size_t n, double v) {
    if (!isfinite(v)) snprintf(buf, n, "—");
    else if (v >= 1e6) snprintf(buf, n, "%.2fM", v / 1e6);
    else if (v >= 1e4) snprintf(buf, n, "%.1fk", v / 1e3);
    else snprintf(buf, n, "%.0f", v);
}

/* ------------------------------------------------------------------------ */
/* report.md                                                                  */

static void fmt_duration(char *buf, size_t n, double s) {
    if (!isfinite(s) || s < 0) snprintf(buf, n, "?");
    else if (s < 120) snprintf(buf, n, "%.0f s", s);
    else if (s < 7200) snprintf(buf, n, "%.0f min", s / 60);
    else snprintf(buf, n, "%.1f h", s / 3600);
}

static void report_table(FILE *f, const Run *r, long L, int mode, int field) {
    long T[MAX_T];
    int nT = run_lengths(r, L, mode, T);
    if (!nT) return;
    int dec = field == F_BPB ? 3 : -1, ratio = nT > 1 && T[0] == L;
    fputs("| method |", f);
    for (int t = 0; t < nT; t++) fprintf(f, " %ld |", T[t]);
    if (ratio) fprintf(f, " %ld ÷ %ld |", T[nT - 1], T[0]);
    fputs("\n|---|", f);
    for (int t = 0; t < nT + ratio; t++) fputs("---:|", f);
    fputc('\n', f);
    double best[MAX_T];
    for (int t = 0; t < nT; t++) {
        best[t] = INFINITY;
        for (int k = 0; k < r->nmeth; k++) {
            Stat s = eval_stat(r, r->order[k], L, mode, T[t], field, NULL);
            if (s.n) best[t] = fmin(best[t], s.mean);
        }
    }
    for (int k = 0; k < r->nmeth; k++) {
        int m = r->order[k], any = 0;
        for (int t = 0; t < nT && !any; t++) eval_stat(r, m, L, mode, T[t], field, &any);
        if (!any) continue;
        fprintf(f, "| %s |", plot_method_label(r->meth[m]));
        for (int t = 0; t < nT; t++) {
            Stat s = eval_stat(r, m, L, mode, T[t], field, NULL);
            char cell[160], bcell[96];
            fmt_stat(cell, sizeof cell, s, dec, 1);
            const char *why = NULL;
            int rows = 0;
            eval_stat(r, m, L, mode, T[t], field, &rows);
            if (!s.n && rows) {   /* no value: say why, when results.csv says */
                int st = eval_status(r, m, L, mode, T[t], &why);
                if (st == ST_NA && why) snprintf(cell, sizeof cell, "n/a (%s)", why);
                else if (st == ST_FAILED) snprintf(cell, sizeof cell, "failed");
            }
            /* best = equal to the column minimum as printed */
            fmt_stat(bcell, sizeof bcell, (Stat){1, best[t], 0, NAN}, dec < 0 ? decimals_for(s.mean) : dec, 0);
            char mean_only[96];
            fmt_stat(mean_only, sizeof mean_only, s, dec, 0);
            int is_best = s.n && strcmp(mean_only, bcell) == 0;
            fprintf(f, is_best ? " **%s** |" : " %s |", cell);
        }
        if (ratio) {
            Stat a = eval_stat(r, m, L, mode, T[0], field, NULL), b = eval_stat(r, m, L, mode, T[nT - 1], field, NULL);
            if (a.n && b.n && a.mean > 0) fprintf(f, " ×%.2f |", b.mean / a.mean);
            else fputs(" — |", f);
        }
        fputc('\n', f);
    }
    fputc('\n', f);
}

static void report_speed(FILE *f, const Run *r) {
    int mode = run_main_mode(r);
    fputs("| method |", f);
    if (r->nL > 1) fputs(" L |", f);
    fputs(" parameters | train tokens/s | train peak RSS (MB) | train wall (s) | eval tokens/s at L | eval tokens/s at "
          "longest | eval peak RSS at L (MB) | eval peak RSS at longest (MB) |\n|---|",
          f);
    if (r->nL > 1) fputs("---:|", f);
    fputs("---:|---:|---:|---:|---:|---:|---:|---:|\n", f);
    for (int l = 0; l < r->nL; l++) {
        long L = r->L[l], T[MAX_T];
        int nT = mode >= 0 ? run_lengths(r, L, mode, T) : 0;
        for (int k = 0; k < r->nmeth; k++) {
            int m = r->order[k];
            Stat tps = train_tps(r, m, L);
            double params = meta_train(r, m, L, "params"), rss = meta_train(r, m, L, "peak_rss_mb"),
                   wall = meta_train(r, m, L, "wall_s");
            int any = tps.n || isfinite(rss) || isfinite(wall);
            for (int i = 0; i < r->nev && !any; i++) any = r->ev[i].m == m && r->ev[i].L == L;
            if (!any) continue;
            char c[8][128];
            fmt_si(c[0], sizeof c[0], params);
            if (tps.n > 1 && tps.mean >= 1e4) {
                snprintf(c[1], sizeof c[1], "%.1fk ± %.1fk", tps.mean / 1e3, tps.sd / 1e3);
            } else if (tps.n > 1) {
                snprintf(c[1], sizeof c[1], "%.0f ± %.0f", tps.mean, tps.sd);
            } else {
                fmt_si(c[1], sizeof c[1], tps.n ? tps.mean : NAN);
            }
            snprintf(c[2], sizeof c[2], isfinite(rss) ? "%.0f" : "—", rss);
            snprintf(c[3], sizeof c[3], isfinite(wall) ? "%.0f" : "—", wall);
            Stat e0 = {0, NAN, NAN, NAN}, e1 = e0, r0 = e0, r1 = e0;
            if (nT) {
                e0 = eval_stat(r, m, L, mode, T[0], F_TPS, NULL);
                e1 = eval_stat(r, m, L, mode, T[nT - 1], F_TPS, NULL);
                r0 = eval_stat(r, m, L, mode, T[0], F_RSS, NULL);
                r1 = eval_stat(r, m, L, mode, T[nT - 1], F_RSS, NULL);
            }
            fmt_si(c[4], sizeof c[4], e0.n ? e0.mean : NAN);
            fmt_si(c[5], sizeof c[5], e1.n ? e1.mean : NAN);
            snprintf(c[6], sizeof c[6], r0.n ? "%.0f" : "—", r0.mean);
            snprintf(c[7], sizeof c[7], r1.n ? "%.0f" : "—", r1.mean);
            fprintf(f, "| %s |", plot_method_label(r->meth[m]));
            if (r->nL > 1) fprintf(f, " %ld |", L);
            for (int i = 0; i < 8; i++) fprintf(f, " %s |", c[i]);
            fputc('\n', f);
        }
    }
    fprintf(f, "\nTraining: throughput is the median over the logged steps, mean over seeds; peak RSS and wall time "
               "from meta.json. Evaluation: %s windows at L and at the longest length; peak RSS is the resident "
               "memory high-water mark of the process that evaluated that length.\n\n",
            mode >= 0 ? r->mode[mode] : "no");
}

/* The training precision as the units ran it: "" for fp32 (also runs from before the
 * precision key), the bf16 products, or a bf16 config whose units fell back to fp32. */
static const char *precision_words(const Run *r) {
    char prec[32];
    if (strcmp(meta_str(r, "config.precision", prec, sizeof prec), "bf16")) return "";
    const JsonValue *u = r->have_meta ? jv_path(&r->meta.root, "units") : NULL;
    int n = 0, bf = 0;
    for (size_t i = 0; u && u->type == JSON_ARRAY && i < u->n; i++) {
        const JsonValue *p = json_get(&u->u.items[i], "precision");
        n++;
        bf += p && p->type == JSON_STRING && !strcmp(p->u.str, "bf16");
    }
    if (bf == n) return "; training products in bf16 (fp32 accumulation)";
    if (bf == 0) return "; precision = bf16 asked, but the products ran in fp32 (no AVX-512-BF16: see train.json)";
    return "; precision = bf16 asked: some units ran bf16 products, others fp32 (see each train.json)";
}

/* The first of several meta.json paths that is present (writers differ a little). */
static const char *meta_first(const Run *r, const char *const *paths, int n, char *buf, size_t len) {
    for (int i = 0; i < n; i++) {
        const char *v = meta_str(r, paths[i], buf, len);
        if (strcmp(v, "unknown") != 0) return v;
    }
    return "unknown";
}

/* dataset.splits: {"train": {"documents": 26, "tokens": 1392780, "bytes": ...}, ...}
 * -> "train 26 documents, 1.39M tokens; valid ..."; other shapes as written. */
static void render_splits(const Run *r, Sb *b) {
    const JsonValue *sp = r->have_meta ? jv_path(&r->meta.root, "dataset.splits") : NULL;
    if (!sp) sp = r->have_meta ? jv_path(&r->meta.root, "dataset.split_sizes") : NULL;
    if (!sp) {
        sb_printf(b, "unknown");
        return;
    }
    if (sp->type != JSON_OBJECT) {
        jv_render(sp, b);
        return;
    }
    for (unsigned i = 0; i < sp->n; i++) {
        const JsonValue *v = json_value(sp, i);
        sb_printf(b, "%s%s ", i ? "; " : "", json_key(sp, i));
        if (v->type != JSON_OBJECT) {
            jv_render(v, b);
            continue;
        }
        double docs = jv_num(json_get(v, "documents")), tok = jv_num(json_get(v, "tokens")),
               bytes = jv_num(json_get(v, "bytes"));
        char x[32], y[32];
        if (!isfinite(docs) && !isfinite(tok) && !isfinite(bytes)) { jv_render(v, b); continue; }
        int k = 0;
        if (isfinite(docs)) { sb_printf(b, "%.0f documents", docs); k++; }
        if (isfinite(tok)) { fmt_si(x, sizeof x, tok); sb_printf(b, "%s%s tokens", k++ ? ", " : "", x); }
        if (isfinite(bytes) && bytes != tok) { fmt_si(y, sizeof y, bytes); sb_printf(b, "%s%s bytes", k ? ", " : "", y); }
    }
}

/* "; 2 sweeps, 1 interrupted: 1 h 05 min of wall time" from meta.json's sweeps (sweeps.tsv), into
 * buf; "" for a single sweep or a run without the list (a separate merge, or an older run). */
static const char *sweeps_words(const Run *r, char *buf, size_t n) {
    const JsonValue *sw = r->have_meta ? json_get(&r->meta.root, "sweeps") : NULL;
    buf[0] = 0;
    if (!sw || sw->type != JSON_ARRAY || sw->n < 2) return buf;
    int interrupted = 0;
    for (unsigned i = 0; i < sw->n; i++) {
        const JsonValue *st = json_get(json_at(sw, i), "state");
        interrupted += st && st->type == JSON_STRING && !strcmp(st->u.str, "interrupted");
    }
    char x[48];
    fmt_duration(x, sizeof x, jv_num(json_get(&r->meta.root, "wall_s")));   /* the sweeps' sum (merge.c) */
    if (interrupted) snprintf(buf, n, "; %u sweeps, %d interrupted: %s of wall time in all", sw->n, interrupted, x);
    else snprintf(buf, n, "; %u sweeps: %s of wall time in all", sw->n, x);
    return buf;
}

static void report_config(FILE *f, const Run *r) {
    char a[512], b[512], c[512], d[512];
    fprintf(f, "| | |\n|---|---|\n");
    fprintf(f, "| Preset | %s |\n", meta_str(r, "preset", a, sizeof a));
    static const char *const vocab_keys[] = {"config.vocab", "dataset.vocab"};
    fprintf(f, "| Model | n_layer %s, d_model %s, n_head %s, vocabulary %s; pre-LN GPT-2 style, fp32 weights%s |\n",
            meta_str(r, "config.n_layer", a, sizeof a), meta_str(r, "config.d_model", b, sizeof b),
            meta_str(r, "config.n_head", c, sizeof c), meta_first(r, vocab_keys, 2, d, sizeof d), precision_words(r));
    Sb sp = {0};
    render_splits(r, &sp);
    static const char *const tok_keys[] = {"dataset.tokenizer", "config.tokenizer"};
    fprintf(f, "| Data | %s; tokenizer %s; hash `%s`; splits: %s |\n", meta_str(r, "dataset.name", a, sizeof a),
            meta_first(r, tok_keys, 2, b, sizeof b), meta_str(r, "dataset.hash", c, sizeof c), sb_str(&sp));
    free(sp.s);

    Sb tr = {0};
    for (int l = 0; l < r->nL; l++) sb_printf(&tr, "%s%ld", l ? ", " : "", r->L[l]);
    long bt = atol(meta_str(r, "config.batch_tokens", b, sizeof b));
    if (bt > 0) /* batch_tokens fixes the tokens per step: batch = batch_tokens / L at each L */
        sb_printf(&tr, "; %s steps × %ld tokens per step (batch %ld / L)", meta_str(r, "config.steps", a, sizeof a), bt,
                  bt);
    else
        sb_printf(&tr, "; %s steps × batch %s", meta_str(r, "config.steps", a, sizeof a),
                  meta_str(r, "config.batch", b, sizeof b));
    sb_printf(&tr, "; AdamW, learning rate %s", meta_str(r, "config.lr", a, sizeof a));
    static const struct { const char *path, *what; } extras[] = {
        {"config.warmup", "warm-up %s steps"}, {"config.lr_min", "cosine to %s"},
        {"config.weight_decay", "weight decay %s"}, {"config.clip", "clip %s"}};
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        const char *v = meta_str(r, extras[i].path, a, sizeof a);
        if (strcmp(v, "unknown") != 0) {
            sb_printf(&tr, ", ");
            sb_printf(&tr, extras[i].what, v);
        }
    }
    double mix = atof(meta_str(r, "config.train_copy_mix", a, sizeof a));
    if (mix > 0) sb_printf(&tr, "; copy mixture: a repeated random string in %g%% of the training windows", 100 * mix);
    sb_printf(&tr, "; seeds: %s", meta_str(r, "config.seeds", a, sizeof a));
    fprintf(f, "| Training | L = %s |\n", sb_str(&tr));
    free(tr.s);

    Sb ev = {0};
    for (int l = 0; l < r->nL; l++) {
        long T[MAX_T];
        int nT = run_lengths(r, r->L[l], -1, T);
        if (!nT) continue;
        sb_printf(&ev, "%s", ev.n ? "; " : "lengths ");
        if (r->nL > 1) sb_printf(&ev, "L = %ld: ", r->L[l]);
        for (int t = 0; t < nT; t++) sb_printf(&ev, "%s%ld", t ? ", " : "", T[t]);
        int mult = 1;
        for (int t = 0; t < nT; t++) mult &= T[t] % r->L[l] == 0;
        if (mult && nT > 1) {
            sb_printf(&ev, " (");
            for (int t = 0; t < nT; t++) sb_printf(&ev, "%s%ld", t ? ", " : "", T[t] / r->L[l]);
            sb_printf(&ev, " × L)");
        }
    }
    if (!ev.n) sb_printf(&ev, "none yet");
    for (int i = 0; i < r->nmode; i++) {
        int mode = r->mode_order[i];
        char mt[96];
        mode_title(r, mode, r->nL ? r->L[0] : 0, mt, sizeof mt);
        double tok = NAN;
        for (int e = 0; e < r->nev && !isfinite(tok); e++)
            if (r->ev[e].mode == mode) tok = r->ev[e].tokens;
        sb_printf(&ev, "; %s", mt);
        if (isfinite(tok)) sb_printf(&ev, " (%.0f tokens scored per length)", tok);
    }
    fprintf(f, "| Evaluation | %s; split %s |\n", sb_str(&ev), *r->split ? r->split : "unknown");
    free(ev.s);
    fprintf(f, "| Machine | %s; BLAS %s (core %s); threads per model: %s |\n", meta_str(r, "cpu", a, sizeof a),
            meta_str(r, "blas", b, sizeof b), meta_str(r, "blas_core", c, sizeof c), meta_str(r, "threads", d, sizeof d));
    double t0, t1;
    char dur[64] = "";
    meta_str(r, "start", a, sizeof a);
    meta_str(r, "end", b, sizeof b);
    if (iso_time_parse(a, &t0) == 0 && iso_time_parse(b, &t1) == 0) {
        char x[48];
        fmt_duration(x, sizeof x, t1 - t0);
        snprintf(dur, sizeof dur, " (%s)", x);
    }
    fprintf(f, "| Time | %s → %s%s%s |\n", a, b, dur, sweeps_words(r, c, sizeof c));
    fprintf(f, "| Commit | `%s` |\n", meta_str(r, "commit", a, sizeof a));
    Sb ms = {0};
    for (int k = 0; k < r->nmeth; k++) {
        int m = r->order[k];
        sb_printf(&ms, "%s%s (`%s`)", k ? ", " : "", plot_method_label(r->meth[m]), r->meth[m]);
    }
    fprintf(f, "| Methods | %s |\n\n", ms.n ? ms.s : "none");
    free(ms.s);
}

int write_report(Plot *pl, char *err, size_t errlen) {
    Run *r = pl->r;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/report.md", r->dir);
    AtomicFile af;
    if (atomic_open(&af, path, "w", err, errlen) != 0) return 1;
    FILE *f = af.fp;
    const char *base = strrchr(r->dir, '/');
    base = base && base[1] ? base + 1 : r->dir;
    char pre[128];
    fprintf(f, "# posbench run `%s`%s%s\n\n", base, r->have_meta ? " — preset " : "",
            r->have_meta ? meta_str(r, "preset", pre, sizeof pre) : "");
    fprintf(f, "Position methods trained at a fixed length L and evaluated at longer lengths, as in Press et al., "
               "*Train Short, Test Long* (ICLR 2022). Made by `posbench plot %s`.\n\n",
            r->dir);
    report_config(f, r);
    if (r->notes.n) fprintf(f, "## Missing, failed or incomplete\n\n%s\n", r->notes.s);

    const char *sd_note = r->max_seeds > 1 ? "mean ± std over seeds" : "one seed";
    for (int pass = 0; pass < 2 && r->nev; pass++) {
        int field = pass ? F_BPB : F_PPL;
        if (pass)
            fprintf(f, "## Bits per byte\n\nTotal NLL / ln 2 / bytes covered by the scored tokens; comparable across "
                       "tokenizers. Same layout as above.\n\n");
        else
            fprintf(f, "## Perplexity\n\nPerplexity per token on the %s split, by evaluation length in tokens; %s; "
                       "lower is better; **bold** = best at that length; n/a (reason) = the method cannot run at that "
                       "length; — = no value (the method cannot run there, or failed). The last column divides the longest length's value by the value at L: about "
                       "×1 means the method extrapolates.\n\n",
                    *r->split ? r->split : "evaluation", sd_note);
        for (int mi = 0; mi < r->nmode; mi++) {
            int mode = r->mode_order[mi];
            for (int l = 0; l < r->nL; l++) {
                long T[MAX_T];
                if (!run_lengths(r, r->L[l], mode, T)) continue;
                char mt[96];
                mode_title(r, mode, r->L[l], mt, sizeof mt);
                fprintf(f, "### %s, %s, trained at L = %ld\n\n", pass ? "Bits per byte" : "Perplexity", mt, r->L[l]);
                report_table(f, r, r->L[l], mode, field);
            }
        }
    }
    report_significance(f, r);
    report_headline(f, r);
    report_convergence(f, r);
    report_learned(f, r);
    report_variants(f, r);
    report_probes(f, r);
    fputs("## Speed and memory\n\n", f);
    report_speed(f, r);
    fputs("## Figures\n\n", f);
    if (!pl->nfig)
        fprintf(f, "No figures were rendered%s.\n\n",
                pl->no_gnuplot       ? " (gnuplot is not installed: `apt-get install gnuplot-nox`, then `posbench plot` again)"
                : pl->opt->formats ? ""
                                   : " (report only: `posbench plot RUN_DIR` draws them)");
    for (int i = 0; i < pl->nfig; i++) {
        const Figure *g = &pl->fig[i];
        const char *ext = pl->opt->formats & PLOT_PNG ? "png" : "pdf";
        fprintf(f, "![%s](figures/%s.%s)\n\n%s", g->name, g->name, ext, g->caption);
        if ((pl->opt->formats & PLOT_PDF) && strcmp(ext, "pdf")) fprintf(f, " ([PDF](figures/%s.pdf))", g->name);
        fputs("\n\n", f);
    }
    fprintf(f, "Figure data: `figures/data/` (one `.dat` and one `.gp` variable file per figure; re-render one with "
               "`cd figures/data && gnuplot -e \"plotdir='PLOTS'; fmt='png'; vars='NAME.gp'; out='../NAME.png'\" "
               "PLOTS/SCRIPT.gp`).\n");
    return atomic_commit(&af, err, errlen) != 0 ? 1 : 0;
}
