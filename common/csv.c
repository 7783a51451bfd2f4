/* csv.c — the CSV reader of csv.h. */
#include "csv.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

int csv_split(char *line, char **out, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        char *start = p, *w;
        if (*p == '"') {
            start = w = ++p;
            while (*p) {
                if (*p == '"') {
                    if (p[1] == '"') { *w++ = '"'; p += 2; continue; }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            while (*p && *p != ',') p++;
        } else {
            while (*p && *p != ',') p++;
            w = p;
        }
        char sep = *p;
        *w = 0;
        if (n < max) out[n++] = start;
        if (sep != ',') break;
        p++;
    }
    return n;
}

void csv_free(Csv *c) {
    free(c->text);
    free(c->head);
    free(c->cell);
    memset(c, 0, sizeof *c);
}

int csv_load(Csv *c, const char *path, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    size_t len;
    c->text = read_file(path, &len, err, errlen);
    if (!c->text) return -1;
    char *f[CSV_MAX_COLS];
    size_t cap = 0;
    static char empty[] = "";
    for (char *line = c->text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r') line[--n] = 0;
        if (n) {
            int k = csv_split(line, f, CSV_MAX_COLS);
            if (!c->head) {
                c->ncol = k;
                c->head = xmalloc(sizeof(char *) * (size_t)k);
                memcpy(c->head, f, sizeof(char *) * (size_t)k);
            } else {
                if ((size_t)(c->nrow + 1) * (size_t)c->ncol > cap) {
                    cap = cap ? cap * 2 : (size_t)c->ncol * 256;
                    c->cell = xrealloc(c->cell, sizeof(char *) * cap);
                }
                char **row = c->cell + (size_t)c->nrow * (size_t)c->ncol;
                for (int i = 0; i < c->ncol; i++) row[i] = i < k ? f[i] : empty;
                c->nrow++;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!c->head) {
        snprintf(err, errlen, "%s: empty file (expected a header line)", path);
        csv_free(c);
        return -1;
    }
    return 0;
}

int csv_col(const Csv *c, const char *name) {
    for (int i = 0; i < c->ncol; i++)
        if (strcmp(c->head[i], name) == 0) return i;
    return -1;
}

const char *csv_get(const Csv *c, int row, int col) {
    return col < 0 ? "" : c->cell[(size_t)row * (size_t)c->ncol + (size_t)col];
}

double csv_num(const char *s) {
    if (!s || !*s) return NAN;
    char *end;
    double v = strtod(s, &end);
    if (end == s) return NAN;
    while (*end == ' ') end++;
    return *end ? NAN : v;
}

long csv_long(const char *s, long def) {
    double v = csv_num(s);
    return isfinite(v) ? (long)v : def;
}


void csv_fput_field(FILE *f, const char *s) {
    if (strpbrk(s, ",\"\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}
