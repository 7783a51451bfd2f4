/* style.h — how a method looks in every figure and table: the name papers use,
 * a colour and a point type. One table (style.c) decides it; the gnuplot
 * scripts get it through the variable files that figures.c writes.
 */
#ifndef POSBENCH_PLOTS_STYLE_H
#define POSBENCH_PLOTS_STYLE_H

typedef struct MethodStyle {
    const char *name;   /* registry name, as in results.csv */
    const char *label;  /* as the papers write it: legends and tables */
    const char *colour; /* "#RRGGBB"; Okabe–Ito colour-blind-safe palette first */
    int point;          /* gnuplot point type of the cairo terminals */
} MethodStyle;

/* Position of a method in the style table (the default display order), or -1. */
int style_rank(const char *name);
/* Number of entries in the style table: the rank given to methods not in it. */
int style_count(void);
/* The style of a method; one not in the table gets a fallback chosen by a hash
 * of its name, so it keeps its look across figures and runs. */
MethodStyle method_style(const char *name);

#endif
