/* variant.c — evaluation-time variants (variant.h). */
#include "variant.h"
#include <stdio.h>
#include <string.h>
#include "../common/util.h"

/* One ITEM of a variant into v. 0, or -1 with err. */
static int variant_item(Variant *v, const char *item, char *err, size_t errlen) {
    long W;
    if (!strcmp(item, "logn")) v->logn = 1;
    else if (!strcmp(item, "dyntk")) v->dyntk = 1;
    else if (!strncmp(item, "window=", 7)) {
        if (parse_int(item + 7, 1, 1L << 22, &W) != 0) {
            snprintf(err, errlen, "variant '%s': window=W needs a whole number W from 1 to %d", v->name, 1 << 22);
            return -1;
        }
        v->window = W;
    } else if (strchr(item, '=')) {
        size_t len = strlen(v->opts);
        if (len + strlen(item) + 2 > sizeof v->opts) {
            snprintf(err, errlen, "variant '%s': too many options", v->name);
            return -1;
        }
        snprintf(v->opts + len, sizeof v->opts - len, "%s%s", len ? ":" : "", item);
    } else {
        snprintf(err, errlen, "variant '%s': '%s' is not logn, dyntk, window=W or a method option K=V", v->name, item);
        return -1;
    }
    return 0;
}

int variant_parse(const char *spec, Variant *v, char *err, size_t errlen) {
    memset(v, 0, sizeof *v);
    const char *plus = pos_spec_variant(spec);
    if (strlen(spec) >= sizeof v->name || !plus || plus == spec || !plus[1] || (size_t)(plus - spec) >= sizeof v->base) {
        snprintf(err, errlen, "variant '%s' is not BASE+ITEM (e.g. rotary+pi=2, alibi+window=256)", spec);
        return -1;
    }
    snprintf(v->name, sizeof v->name, "%s", spec);
    memcpy(v->base, spec, (size_t)(plus - spec));
    char items[VARIANT_NAME_LEN];
    snprintf(items, sizeof items, "%s", plus + 1);
    char *save = NULL;
    for (char *it = strtok_r(items, "+", &save); it; it = strtok_r(NULL, "+", &save))
        if (variant_item(v, it, err, errlen) != 0) return -1;
    const PosMethod *pm;
    PosConfig pc = {.n_head = 1, .head_dim = 2, .d_model = 2, .train_len = 1, .n_layer = 0};   /* 0: any composition */
    char why[ERRLEN];
    if (pos_spec_parse(v->base, &pm, &pc, why, sizeof why) != 0 ||
        (v->opts[0] && pos_apply_options(pm, &pc, v->opts, 1, why, sizeof why) != 0)) {
        snprintf(err, errlen, "variant '%s': %s", spec, why);
        return -1;
    }
    if (v->dyntk && pos_apply_options(pm, &pc, "ntk=2", 1, why, sizeof why) != 0) {
        snprintf(err, errlen, "variant '%s': dyntk needs a method with an ntk option (rotary): %s", spec, why);
        return -1;
    }
    if (v->dyntk && v->opts[0]) {
        snprintf(err, errlen, "variant '%s': dyntk sets ntk itself and takes no other method option", spec);
        return -1;
    }
    return 0;
}

int variant_parse_for(const char *spec, const char *method, Variant *v, char *err, size_t errlen) {
    if (variant_parse(spec, v, err, errlen) != 0) return -1;
    if (!strcmp(v->base, method)) return 0;
    snprintf(err, errlen, "'%s' is a variant of %s, but the checkpoint was trained as %s", spec, v->base, method);
    return -1;
}

int variant_apply(Model *m, const Variant *v, long T, char *err, size_t errlen) {
    char opts[VARIANT_NAME_LEN + 32] = "";
    m->eval_window = v ? (int)v->window : 0;
    m->eval_logn = v ? v->logn : 0;
    if (v && v->dyntk && T > m->cfg.train_len) snprintf(opts, sizeof opts, "ntk=%.9g", (double)T / m->cfg.train_len);
    else if (v) snprintf(opts, sizeof opts, "%s", v->opts);
    return model_set_pos_options(m, opts, err, errlen);
}
