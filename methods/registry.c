/* registry.c — the table of position methods (the only list of them: the
 * harness, plots, report, presets' `methods = all`, bench and tests all loop
 * over pos_methods[]) and the helpers every caller shares: lookup, tensor
 * layout, hook summary, options and method specs. The methods themselves live
 * one per file; adding one is a line here (see methods/README.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "method.h"

extern const PosMethod pos_nope, pos_sinusoidal, pos_rotary, pos_t5, pos_alibi, pos_learned, pos_xpos, pos_kerple_log,
    pos_kerple_power, pos_fire, pos_fox;

const PosMethod *const pos_methods[] = {
    &pos_nope,
    &pos_sinusoidal,
    &pos_rotary,
    &pos_t5,
    &pos_alibi,
    &pos_learned,
    &pos_xpos,
    &pos_kerple_log,
    &pos_kerple_power,
    &pos_fire,
    &pos_fox,
};
const int pos_method_count = (int)(sizeof pos_methods / sizeof pos_methods[0]);

const PosMethod *pos_method_find(const char *name) {
    if (!name) return NULL;
    for (int k = 0; k < pos_method_count; k++)
        if (strcmp(pos_methods[k]->name, name) == 0) return pos_methods[k];
    return NULL;
}

const char *pos_method_names(void) {
    static char names[64 * (POS_NAME_LEN + 2)];
    if (!names[0]) {
        size_t len = 0;
        for (int k = 0; k < pos_method_count && len < sizeof names; k++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", k ? ", " : "", pos_methods[k]->name);
    }
    return names;
}

const char *pos_family_name(PosFamily f) {
    switch (f) {
    case POS_FAMILY_ABSOLUTE: return "absolute";
    case POS_FAMILY_QK: return "qk";
    case POS_FAMILY_BIAS: return "bias";
    case POS_FAMILY_DATA: return "data-dependent";
    default: return "none";
    }
}

/* ---- tensors ------------------------------------------------------------------ */

int pos_tensor_count(const PosMethod *m, const PosConfig *cfg) { return m->tensors ? m->tensors(NULL, cfg) : 0; }

PosTensor *pos_tensor_list(const PosMethod *m, const PosConfig *cfg, int *n) {
    *n = pos_tensor_count(m, cfg);
    if (*n <= 0) return NULL;
    PosTensor *t = xcalloc((size_t)*n, sizeof(PosTensor));
    m->tensors(t, cfg);
    return t;
}

size_t pos_tensor_numel(const PosTensor *t) {
    return (size_t)t->shape[0] * (size_t)(t->ndim > 1 ? t->shape[1] : 1);
}

static size_t param_count(const PosMethod *m, const PosConfig *cfg, int whole_model) {
    int n;
    PosTensor *t = pos_tensor_list(m, cfg, &n);
    size_t total = 0;
    for (int k = 0; k < n; k++)
        total += pos_tensor_numel(&t[k]) * (size_t)(whole_model && t[k].per_layer ? cfg->n_layer : 1);
    free(t);
    return total;
}

size_t pos_param_count(const PosMethod *m, const PosConfig *cfg) { return param_count(m, cfg, 1); }
size_t pos_layer_param_count(const PosMethod *m, const PosConfig *cfg) { return param_count(m, cfg, 0); }

void pos_bind_flat(const PosMethod *m, const PosConfig *cfg, const float *params, float *grads, const float **p,
                   float **dp) {
    int n;
    PosTensor *t = pos_tensor_list(m, cfg, &n);
    size_t off = 0;
    for (int k = 0; k < n; k++) {
        if (p) p[k] = params ? params + off : NULL;
        if (dp) dp[k] = grads ? grads + off : NULL;
        off += pos_tensor_numel(&t[k]);
    }
    free(t);
}

float *pos_data_at_zero_input(const PosMethod *m, PosCtx *ctx, int T) {
    if (!m->data_forward) return NULL;
    float *x = xmalloc_floats((size_t)T * ctx->cfg.d_model);   /* (T, C) zeros */
    float *vals = xmalloc_floats((size_t)ctx->cfg.n_head * T);   /* (NH, T) */
    m->data_forward(vals, x, T, ctx);
    free(x);
    ctx->data = vals;
    ctx->data_len = T;
    return vals;
}

const PosMethod *pos_spec_method(const char *spec) {
    char name[POS_SPEC_LEN];
    if (!spec) return NULL;
    if (pos_is_layers_spec(spec)) return &pos_layers;
    snprintf(name, sizeof name, "%.*s", (int)strcspn(spec, ":"), spec);
    return pos_method_find(name);
}

/* Returns the length of the full string, as snprintf does (truncated to fit n). */
int pos_hooks_string(const PosMethod *m, char *buf, size_t n) {
    const char *hooks[4];
    int nh = 0;
    if (m->embed_forward) hooks[nh++] = "embed";
    if (m->qk_forward) hooks[nh++] = "qk";
    if (m->data_forward) hooks[nh++] = "data";
    if (m->bias_add) hooks[nh++] = "bias";
    if (nh == 0) return snprintf(buf, n, "-");
    int len = 0;
    for (int k = 0; k < nh; k++) {
        int room = n > (size_t)len;   /* past the end, only count what would be written */
        len += snprintf(room ? buf + len : NULL, room ? n - (size_t)len : 0, "%s%s", k ? "+" : "", hooks[k]);
    }
    return len;
}

void pos_rotate_half(float *x, int T, int hs, const float *tab, size_t ld, int transpose) {
    const int half = hs / 2;
    const float sign = transpose ? -1.0f : 1.0f;
    for (int p = 0; p < T; p++) {
        float *v = x + (size_t)p * hs;                 /* (hs) */
        const float *c = tab + (size_t)p * ld;         /* (hs/2) */
        const float *s = c + half;                     /* (hs/2) */
        for (int i = 0; i < half; i++) {
            float a = v[i], b = v[i + half], sn = sign * s[i];
            v[i] = a * c[i] - b * sn;
            v[i + half] = b * c[i] + a * sn;
        }
    }
}

/* ---- options -------------------------------------------------------------------- */

int pos_option_count(const PosMethod *m) {
    int n = 0;
    while (m->options && m->options[n].key) n++;
    return n;
}

void pos_options_default(const PosMethod *m, PosConfig *cfg) {
    int n = pos_option_count(m);
    for (int k = 0; k < POS_MAX_OPTIONS; k++) cfg->opt[k] = k < n ? m->options[k].def : 0.0;
}

static int option_index(const PosMethod *m, const char *key) {
    for (int k = 0; m->options && m->options[k].key; k++)
        if (strcmp(m->options[k].key, key) == 0) return k;
    return -1;
}

/* "a, b, c" of the method's option keys (or "none") */
static const char *option_keys(const PosMethod *m, char *buf, size_t n) {
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; m->options && m->options[k].key && len < n; k++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", k ? ", " : "", m->options[k].key);
    return buf[0] ? buf : "none";
}

/* One "key=value" item into cfg.opt; 0 or -1 + err (without the method's name). */
static int apply_item(const PosMethod *m, PosConfig *cfg, char *item, int at_eval, char *err, size_t errlen) {
    char keys[256];
    char *eq = strchr(item, '=');
    if (!eq || eq == item) {
        snprintf(err, errlen, "option '%s' is not key=value (options: %s)", item, option_keys(m, keys, sizeof keys));
        return -1;
    }
    *eq = '\0';
    int k = option_index(m, item);
    if (k < 0) {
        snprintf(err, errlen, "unknown option '%s' (options: %s)", item, option_keys(m, keys, sizeof keys));
        return -1;
    }
    const PosOption *o = &m->options[k];
    if (at_eval && !o->at_eval) {
        snprintf(err, errlen, "option '%.64s' is fixed at training; give it in the method spec (%.32s:%.64s=...)",
                 item, m->name, item);
        return -1;
    }
    double v;
    if (parse_float(eq + 1, o->lo, o->hi, &v) != 0 || (o->type == 'i' && v != floor(v))) {
        snprintf(err, errlen, "%s: '%s' is not %s from %g to %g", item, eq + 1, o->type == 'i' ? "a whole number" : "a number",
                 o->lo, o->hi);
        return -1;
    }
    cfg->opt[k] = v;
    return 0;
}

int pos_apply_options(const PosMethod *m, PosConfig *cfg, const char *opts, int at_eval, char *err, size_t errlen) {
    if (!opts || !*opts) return 0;
    if (!m->options) {
        snprintf(err, errlen, "method '%s' takes no options (got '%s')", m->name, opts);
        return -1;
    }
    PosConfig trial = *cfg;
    const char *s = opts;
    char why[ERRLEN];
    for (;;) {
        size_t len = strcspn(s, ",:");
        char item[256];
        if (len == 0) {
            snprintf(err, errlen, "method '%s': empty option in '%s'", m->name, opts);
            return -1;
        }
        if (len >= sizeof item) {
            snprintf(err, errlen, "method '%s': option '%.40s...' is too long", m->name, s);
            return -1;
        }
        memcpy(item, s, len);
        item[len] = '\0';
        if (apply_item(m, &trial, item, at_eval, why, sizeof why) != 0) {
            snprintf(err, errlen, "method '%s': %s", m->name, why);
            return -1;
        }
        if (!s[len]) break;
        s += len + 1;
    }
    if (m->check_options && m->check_options(&trial, why, sizeof why) != 0) {
        snprintf(err, errlen, "method '%s': %s", m->name, why);
        return -1;
    }
    *cfg = trial;
    return 0;
}

int pos_options_string(const PosMethod *m, const PosConfig *cfg, int all, char *buf, size_t n) {
    int len = 0;
    if (n) buf[0] = '\0';
    for (int k = 0; m->options && m->options[k].key; k++) {
        if (!all && cfg->opt[k] == m->options[k].def) continue;
        int room = n > (size_t)len;
        len += snprintf(room ? buf + len : NULL, room ? n - (size_t)len : 0, "%s%s=%.9g", len ? "," : "",
                        m->options[k].key, cfg->opt[k]);
    }
    return len;
}

/* ---- method specs ------------------------------------------------------------------ */

int pos_spec_parse(const char *spec, const PosMethod **mp, PosConfig *cfg, char *err, size_t errlen) {
    char name[POS_SPEC_LEN];
    if (!spec || strlen(spec) >= sizeof name) {
        snprintf(err, errlen, "method spec '%.40s' is missing or too long", spec ? spec : "");
        return -1;
    }
    cfg->layers = NULL;
    if (pos_is_layers_spec(spec)) {   /* per-layer composition: its items are specs */
        if (pos_layers_parse(spec, cfg, err, errlen) != 0) return -1;
        if (mp) *mp = &pos_layers;
        return 0;
    }
    size_t len = strcspn(spec, ":");
    memcpy(name, spec, len);
    name[len] = '\0';
    const PosMethod *m = pos_method_find(name);
    if (!m) {
        snprintf(err, errlen, "unknown method '%s' (valid: %s)", name, pos_method_names());
        return -1;
    }
    pos_options_default(m, cfg);
    if (spec[len] == ':' && !spec[len + 1]) {
        snprintf(err, errlen, "method spec '%s': no options after ':'", spec);
        return -1;
    }
    if (spec[len] == ':' && pos_apply_options(m, cfg, spec + len + 1, 0, err, errlen) != 0) return -1;
    if (spec[len] != ':' && m->check_options && m->check_options(cfg, err, errlen) != 0) return -1;
    if (mp) *mp = m;
    return 0;
}

int pos_spec_check_layers(const char *spec, int n_layer, char *err, size_t errlen) {
    PosConfig cfg = {.n_head = 4, .head_dim = 16, .d_model = 64, .train_len = 128, .n_layer = n_layer};
    return pos_spec_parse(spec, NULL, &cfg, err, errlen);
}

int pos_spec_check(const char *spec, char *err, size_t errlen) { return pos_spec_check_layers(spec, 0, err, errlen); }

const char *pos_spec_label(const char *spec) {
    if (!pos_is_layers_spec(spec)) return NULL;
    PosConfig cfg = {.n_head = 4, .head_dim = 16, .d_model = 64, .train_len = 128, .n_layer = 0};
    char err[ERRLEN];
    return pos_spec_parse(spec, NULL, &cfg, err, sizeof err) == 0 ? pos_layers_label(&cfg) : NULL;
}

const char *pos_spec_variant(const char *spec) {
    const char *plus = strchr(spec, '+');
    if (strncmp(spec, "layers=", 7) != 0) return plus;
    while (plus) {
        char item[64];
        size_t n = strcspn(plus + 1, "+:");
        if (n >= sizeof item) return plus;
        memcpy(item, plus + 1, n);
        item[n] = 0;
        if (!pos_method_find(item)) return plus;   /* a variant item: logn, window=W, K=V */
        plus = strchr(plus + 1, '+');
    }
    return NULL;
}
