/* registry.c — the table of position methods and the helpers every caller
 * shares (lookup, parameter count, hook summary, option parsing). The methods
 * themselves live one per file; adding one is a line here and a line in
 * tests/methods_table.h (see methods/README.md).
 */
#include <stdio.h>
#include <string.h>
#include "method.h"

extern const PosMethod pos_nope, pos_sinusoidal, pos_rotary, pos_t5, pos_alibi;

#define POS_METHOD_COUNT 5

const PosMethod *const pos_methods[] = {
    &pos_nope,
    &pos_sinusoidal,
    &pos_rotary,
    &pos_t5,
    &pos_alibi,
};
_Static_assert(sizeof pos_methods / sizeof pos_methods[0] == POS_METHOD_COUNT,
               "update POS_METHOD_COUNT (and tests/methods_table.h) with the registry");
const int pos_method_count = POS_METHOD_COUNT;

const PosMethod *pos_method_find(const char *name) {
    if (!name) return NULL;
    for (int k = 0; k < pos_method_count; k++)
        if (strcmp(pos_methods[k]->name, name) == 0) return pos_methods[k];
    return NULL;
}

const char *pos_method_names(void) {
    static char names[POS_METHOD_COUNT * (POS_NAME_LEN + 2)];
    if (!names[0]) {
        size_t len = 0;
        for (int k = 0; k < pos_method_count; k++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", k ? ", " : "", pos_methods[k]->name);
    }
    return names;
}

size_t pos_param_count(const PosMethod *m, const PosConfig *cfg) {
    if (!m->tensors) return 0;
    PosTensor t[POS_MAX_TENSORS];
    int n = m->tensors(t, cfg);
    size_t total = 0;
    for (int k = 0; k < n; k++) total += (size_t)t[k].shape[0] * (size_t)(t[k].ndim > 1 ? t[k].shape[1] : 1);
    return total;
}

/* Returns the length of the full string, as snprintf does (truncated to fit n). */
int pos_hooks_string(const PosMethod *m, char *buf, size_t n) {
    const char *hooks[3];
    int nh = 0;
    if (m->embed_forward) hooks[nh++] = "embed";
    if (m->qk_forward) hooks[nh++] = "qk";
    if (m->bias_add) hooks[nh++] = "bias";
    if (nh == 0) return snprintf(buf, n, "-");
    int len = 0;
    for (int k = 0; k < nh; k++) {
        int room = n > (size_t)len;   /* past the end, only count what would be written */
        len += snprintf(room ? buf + len : NULL, room ? n - (size_t)len : 0, "%s%s", k ? "+" : "", hooks[k]);
    }
    return len;
}

/* Each "key=value" item in turn through m->parse_option, on a copy of cfg that
 * replaces *cfg only if every item is accepted. */
int pos_apply_options(const PosMethod *m, PosConfig *cfg, const char *opts, char *err, size_t errlen) {
    if (!opts || !*opts) return 0;
    if (!m->parse_option) {
        snprintf(err, errlen, "method '%s' takes no options (got '%s')", m->name, opts);
        return -1;
    }
    PosConfig trial = *cfg;
    const char *s = opts;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        char item[256], why[ERRLEN];
        if (len >= sizeof item) {
            snprintf(err, errlen, "method '%s': option '%.40s...' is too long", m->name, s);
            return -1;
        }
        memcpy(item, s, len);
        item[len] = '\0';
        char *eq = strchr(item, '=');
        if (!eq || eq == item) {
            snprintf(err, errlen, "method '%s': option '%s' is not key=value (options: %s)", m->name, item,
                     m->options_help ? m->options_help : "none");
            return -1;
        }
        *eq = '\0';
        why[0] = '\0';
        if (m->parse_option(&trial, item, eq + 1, why, sizeof why) != 0) {
            snprintf(err, errlen, "method '%s': %s (options: %s)", m->name, why[0] ? why : "bad option",
                     m->options_help ? m->options_help : "none");
            return -1;
        }
        if (!comma) break;
        s = comma + 1;
        if (!*s) {
            snprintf(err, errlen, "method '%s': empty option after ',' in '%s'", m->name, opts);
            return -1;
        }
    }
    *cfg = trial;
    return 0;
}
