/* bench_table.c — the result table of `posbench bench` (bench.h): rows with a
 * target and a result, notes, the printed table, bench.json and bench.csv. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/csv.h"
#include "../common/json.h"
#include "../common/util.h"
#include "bench.h"
#include "runtime.h"

Row *table_add(Table *t, const char *section, const char *item, const char *unit) {
    if (t->n == t->cap) t->rows = xrealloc(t->rows, sizeof(Row) * (t->cap = t->cap ? 2 * t->cap : 64));
    Row *r = &t->rows[t->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->section, sizeof r->section, "%s", section);
    snprintf(r->item, sizeof r->item, "%.127s", item);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    r->pb = r->pt = r->ratio = NAN;
    return r;
}

void table_note(Table *t, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (t->n_notes == t->cap_notes) t->notes = xrealloc(t->notes, sizeof(char *) * (t->cap_notes = t->cap_notes ? 2 * t->cap_notes : 16));
    t->notes[t->n_notes++] = xstrdup(buf);
}

void row_target(Row *r, double ratio, double at_least) {
    r->ratio = ratio;
    snprintf(r->target, sizeof r->target, ">= %gx", at_least);
    r->status = isfinite(ratio) ? (ratio >= at_least ? ST_MET : ST_MISSED) : ST_NA;
}

static void fmt_value(char *buf, size_t n, double v, const char *unit) {
    if (!isfinite(v)) snprintf(buf, n, "-");
    else if (!strcmp(unit, "%")) snprintf(buf, n, "%.1f%%", v);
    else if (fabs(v) >= 100000) snprintf(buf, n, "%.0fk", v / 1000);
    else if (fabs(v) >= 1000) snprintf(buf, n, "%.0f", v);
    else if (fabs(v) >= 100) snprintf(buf, n, "%.1f", v);
    else snprintf(buf, n, "%.2f", v);
}

static const char *status_word(int s) {
    return s == ST_MET ? "met" : s == ST_MISSED ? "MISSED" : s == ST_NA ? "n/a" : "";
}

void table_print(const Table *t, FILE *f) {
    fprintf(f, "%-9s %-48s %10s %10s %7s  %-8s %s\n", "section", "measurement", "posbench", "pytorch", "ratio",
            "target", "result");
    for (int i = 0; i < t->n; i++) {
        const Row *r = &t->rows[i];
        char item[160], a[32], b[32], c[32];
        snprintf(item, sizeof item, "%s%s%s%s", r->item, r->unit[0] ? " [" : "", r->unit, r->unit[0] ? "]" : "");
        fmt_value(a, sizeof a, r->pb, r->unit);
        fmt_value(b, sizeof b, r->pt, r->unit);
        if (isfinite(r->ratio)) snprintf(c, sizeof c, "%.2fx", r->ratio);
        else snprintf(c, sizeof c, "-");
        fprintf(f, "%-9s %-48s %10s %10s %7s  %-8s %s\n", r->section, item, a, b, c, r->target[0] ? r->target : "-",
                status_word(r->status));
    }
    for (int i = 0; i < t->n_notes; i++) fprintf(f, "%s %s\n", i ? "  " : "notes:", t->notes[i]);
}

/* The columns of a row in bench.json and bench.csv, in order. */
static const char *const row_cols[] = {"section", "item", "unit", "posbench", "pytorch", "ratio", "target", "result"};
#define N_COLS ((int)(sizeof row_cols / sizeof row_cols[0]))

/* Column c of a row: a string in *str, or a number returned (*str NULL). */
static double row_cell(const Row *r, int c, const char **str) {
    const char *s[N_COLS] = {r->section, r->item, r->unit, NULL, NULL, NULL, r->target, status_word(r->status)};
    const double v[N_COLS] = {0, 0, 0, r->pb, r->pt, r->ratio, 0, 0};
    *str = s[c];
    return v[c];
}

static void json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fprintf(f, "null");
}

static void json_kv(FILE *f, const char *key, const char *value, int last) {
    fprintf(f, "\"%s\": ", key);
    json_fput_string(f, value);
    fprintf(f, last ? "" : ", ");
}

void table_write_json(const Table *t, FILE *f, const BenchMeta *bm) {
    char ts[32];
    runtime_iso_time(ts, sizeof ts);
    fprintf(f, "{\"config\": {");
    json_kv(f, "cpu", runtime_cpu_name(), 0);
    json_kv(f, "blas", runtime_blas_name(), 0);
    json_kv(f, "blas_core", runtime_blas_core(), 0);
    json_kv(f, "OPENBLAS_CORETYPE", getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "", 0);
    json_kv(f, "OMP_WAIT_POLICY", getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "", 0);
    json_kv(f, "GOMP_SPINCOUNT", getenv("GOMP_SPINCOUNT") ? getenv("GOMP_SPINCOUNT") : "", 0);
    json_kv(f, "commit", runtime_commit(), 0);
    json_kv(f, "time", ts, 0);
    fprintf(f, "\"threads\": %d, \"steps\": %d, \"warmup\": %d, \"repeats\": %d, \"quick\": %s},\n \"rows\": [\n",
            bm->threads, bm->steps, bm->warmup, bm->repeats, bm->quick ? "true" : "false");
    for (int i = 0; i < t->n; i++) {
        fputs("  {", f);
        for (int c = 0; c < N_COLS; c++) {
            const char *str;
            double v = row_cell(&t->rows[i], c, &str);
            fprintf(f, "%s\"%s\": ", c ? ", " : "", row_cols[c]);
            if (str) json_fput_string(f, str);
            else json_num(f, v);
        }
        fprintf(f, "}%s\n", i + 1 < t->n ? "," : "");
    }
    fprintf(f, " ],\n \"notes\": [");
    for (int i = 0; i < t->n_notes; i++) {
        fprintf(f, "%s\n  ", i ? "," : "");
        json_fput_string(f, t->notes[i]);
    }
    fprintf(f, "]}\n");
}

void table_write_csv(const Table *t, FILE *f) {
    for (int c = 0; c < N_COLS; c++) fprintf(f, "%s%s", c ? "," : "", row_cols[c]);
    fputc('\n', f);
    for (int i = 0; i < t->n; i++) {
        for (int c = 0; c < N_COLS; c++) {
            const char *str;
            double v = row_cell(&t->rows[i], c, &str);
            if (c) fputc(',', f);
            if (str) csv_fput_field(f, str);
            else if (isfinite(v)) fprintf(f, "%.6g", v);
        }
        fputc('\n', f);
    }
}

void table_free(Table *t) {
    for (int i = 0; i < t->n_notes; i++) free(t->notes[i]);
    free(t->notes);
    free(t->rows);
    memset(t, 0, sizeof *t);
}
