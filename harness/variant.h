/* variant.h — evaluation-time variants: a trained method evaluated with something changed,
 * named "BASE+ITEM[+ITEM...]" (docs/DEFINITIONS.md, Evaluation-time variants). BASE is the
 * method spec the checkpoint was trained with; each ITEM is one of
 *   logn        the query at position p scaled by max(1, log p / log L)
 *   window=W    attention to the last W keys only
 *   dyntk       dynamic NTK (rotary): ntk = max(1, T / L) for a window of length T
 *   K=V[:K=V]   the method's evaluation-time options (rotary pi=F, ntk=F, yarn=F, yarn_alpha, yarn_beta)
 * A variant is a curve of its own in results.csv, probes.csv, every figure and table.
 */
#ifndef POSBENCH_VARIANT_H
#define POSBENCH_VARIANT_H
#include "../model/model.h"

#define VARIANT_NAME_LEN 160

typedef struct Variant {
    char name[VARIANT_NAME_LEN];   /* "rotary+yarn=4" */
    char base[POS_SPEC_LEN];       /* "rotary" */
    char opts[VARIANT_NAME_LEN];   /* method options "yarn=4:yarn_beta=16" ("" none) */
    int logn, dyntk;
    long window;                   /* 0: none */
} Variant;

/* Parse and check spec against its base method (known, options allowed at evaluation,
 * dyntk only for a method with an ntk option). 0, or -1 with err. */
int variant_parse(const char *spec, Variant *v, char *err, size_t errlen);
/* variant_parse, and the variant's base must be `method` (the checkpoint's spec). 0, or -1 with err. */
int variant_parse_for(const char *spec, const char *method, Variant *v, char *err, size_t errlen);
/* Set up m (trained as v->base) to evaluate windows of length T under v: its options (and
 * dyntk's factor for T), window, logn. v NULL: the plain method. 0, or -1 with err. */
int variant_apply(Model *m, const Variant *v, long T, char *err, size_t errlen);

#endif
