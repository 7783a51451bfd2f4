/* style.c — how each method looks (style.h), derived from the registry: the
 * label is the method's own (PosMethod.label), the order is the registry's, and
 * the colour and point type come from a fixed palette by registry position, so
 * a new method gets a look without an edit here. A method spec with options
 * ("xpos:gamma=256") is labelled "xPos (gamma=256)" and gets a look chosen by a
 * hash of the spec, so it keeps it across figures and runs; a variant
 * ("rotary+yarn=4") takes its base's colour. */
#include "style.h"
#include <stdlib.h>
#include <string.h>
#include "plot.h"
#include "../methods/method.h"

/* By registry position: Okabe–Ito colour-blind-safe colours first. */
static const struct { const char *colour; int point; } palette[] = {
    {"#7F7F7F", 6},  /* open circle */       {"#0072B2", 5},  /* filled square */
    {"#009E73", 9},  /* filled triangle */   {"#E69F00", 13}, /* filled diamond */
    {"#D55E00", 7},  /* filled circle */     {"#CC79A7", 11}, /* filled triangle down */
    {"#56B4E9", 8},  /* open triangle */     {"#000000", 12}, /* open diamond */
    {"#8C510A", 15}, /* filled pentagon */   {"#882255", 4},  /* open square */
    {"#44AA99", 10}, /* open triangle down */ {"#999933", 14}, /* open pentagon */
    {"#332288", 1},  {"#AA4499", 2},  {"#117733", 3},
};
#define N_PALETTE ((int)(sizeof palette / sizeof palette[0]))

int style_rank(const char *name) {
    for (int i = 0; i < pos_method_count; i++)
        if (strcmp(pos_methods[i]->name, name) == 0) return i;
    return -1;
}

/* "<label> (<options>)" for a spec "name:options" of a registered method, kept
 * for the life of the process; NULL otherwise. */
static const char *spec_label(const char *spec) {
    static char *made[64];   /* the labels made so far */
    static int n_made;
    const char *colon = strchr(spec, ':');
    if (!colon) return NULL;
    char name[POS_SPEC_LEN], label[256];
    snprintf(name, sizeof name, "%.*s", (int)(colon - spec), spec);
    int r = style_rank(name);
    if (r < 0) return NULL;
    snprintf(label, sizeof label, "%s (%s)", pos_methods[r]->label, colon + 1);
    for (int i = 0; i < n_made; i++)
        if (!strcmp(made[i], label)) return made[i];
    return n_made < 64 ? (made[n_made++] = xstrdup(label)) : NULL;
}

/* An evaluation-time variant ("rotary+yarn=4") takes its base method's colour
 * (drawn dashed by the figures) and its own point type, so it reads as a
 * variant of that base and never as another method. */
static MethodStyle variant_style(const char *name, const char *plus, unsigned h) {
    char base[POS_SPEC_LEN];
    snprintf(base, sizeof base, "%.*s", (int)(plus - name), name);
    MethodStyle st = method_style(base);
    int k = (int)(h % N_PALETTE);
    if (palette[k].point == st.point) k = (k + 1) % N_PALETTE;
    return (MethodStyle){name, name, st.colour, palette[k].point};
}

MethodStyle method_style(const char *name) {
    int i = style_rank(name);
    if (i >= 0) return (MethodStyle){name, pos_methods[i]->label, palette[i % N_PALETTE].colour, palette[i % N_PALETTE].point};
    unsigned h = 5381;
    for (const char *p = name; *p; p++) h = h * 33u + (unsigned char)*p;
    const char *plus = pos_spec_variant(name);
    if (plus && (size_t)(plus - name) < POS_SPEC_LEN) return variant_style(name, plus, h);
    int k = (int)(h % N_PALETTE);
    const char *label = pos_is_layers_spec(name) ? pos_spec_label(name) : spec_label(name);
    return (MethodStyle){name, label ? label : name, palette[k].colour, palette[k].point};
}

int style_count(void) { return pos_method_count; }

const char *plot_method_label(const char *method) { return method_style(method).label; }
