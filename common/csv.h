/* csv.h — reading (and quoting fields for writing) the comma-separated files
 * of a run folder.
 *
 * A file is a header line naming the columns, then rows. Fields may be quoted
 * ("a,b", "say ""hi"""); blank lines and a trailing '\r' are ignored; a row
 * shorter than the header reads "" in its missing cells, extra fields are
 * dropped. The whole file is held in memory and the cells point into it.
 * Nothing here exits; errors name the file.
 */
#ifndef POSBENCH_CSV_H
#define POSBENCH_CSV_H
#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_COLS 64

typedef struct Csv {
    char *text;  /* the whole file; fields are cut out of it in place */
    int ncol, nrow;
    char **head; /* ncol */
    char **cell; /* nrow × ncol; "" where a row is short */
} Csv;

/* 0, or -1 with err set (unreadable, or no header line). */
int csv_load(Csv *c, const char *path, char *err, size_t errlen);
void csv_free(Csv *c);
/* Splits one line in place into at most max fields; returns the count. */
int csv_split(char *line, char **out, int max);
/* Column index of a header name, or -1. */
int csv_col(const Csv *c, const char *name);
/* Cell (row, col); "" when col < 0. */
const char *csv_get(const Csv *c, int row, int col);
/* A cell as a number: empty, "nan" or text that is not a number -> NaN. */
double csv_num(const char *s);
/* A cell as a whole number; def when it is not a finite number. */
long csv_long(const char *s, long def);

/* Writing: a field as is, or quoted (quotes doubled) when it holds a comma,
 * a quote or a newline. */
void csv_fput_field(FILE *f, const char *s);

#endif
