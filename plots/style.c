/* style.c — the method style table of style.h. */
#include "style.h"
#include <string.h>
#include "plot.h"

static const MethodStyle method_styles[] = {
    {"nope", "NoPE", "#7F7F7F", 6},             /* open circle */
    {"sinusoidal", "Sinusoidal", "#0072B2", 5}, /* filled square */
    {"rotary", "Rotary", "#009E73", 9},         /* filled triangle */
    {"t5", "T5 bias", "#E69F00", 13},           /* filled diamond */
    {"alibi", "ALiBi", "#D55E00", 7},           /* filled circle */
    {"learned", "Learned", "#CC79A7", 11},      /* filled triangle down */
    {"xpos", "xPos", "#56B4E9", 8},             /* open triangle */
    {"kerple", "KERPLE", "#000000", 12},        /* open diamond */
    {"fire", "FIRE", "#8C510A", 15},            /* filled pentagon */
};
/* A method not in the table gets one of these, chosen by a hash of its name, so
 * it keeps its look across figures and runs. */
static const MethodStyle fallback_styles[] = {
    {NULL, NULL, "#882255", 4}, {NULL, NULL, "#44AA99", 10}, {NULL, NULL, "#999933", 14},
    {NULL, NULL, "#332288", 1}, {NULL, NULL, "#AA4499", 2},  {NULL, NULL, "#117733", 3},
};
#define N_STYLES ((int)(sizeof method_styles / sizeof method_styles[0]))
#define N_FALLBACK ((int)(sizeof fallback_styles / sizeof fallback_styles[0]))

int style_rank(const char *name) {
    for (int i = 0; i < N_STYLES; i++)
        if (strcmp(method_styles[i].name, name) == 0) return i;
    return -1;
}

MethodStyle method_style(const char *name) {
    int i = style_rank(name);
    if (i >= 0) return method_styles[i];
    unsigned h = 5381;
    for (const char *p = name; *p; p++) h = h * 33u + (unsigned char)*p;
    MethodStyle s = fallback_styles[h % N_FALLBACK];
    s.name = name;
    s.label = name;
    return s;
}

int style_count(void) { return N_STYLES; }

const char *plot_method_label(const char *method) {
    int i = style_rank(method);
    return i >= 0 ? method_styles[i].label : method;
}
