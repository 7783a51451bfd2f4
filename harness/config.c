/* config.c — see config.h. One table lists every key with its type, range and
 * help, so parsing, --help text, range checks and serialisation cannot drift. */
#include "config.h"
#include "../methods/method.h"
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../common/util.h"

typedef enum { K_INT, K_LONGLIST, K_DOUBLE, K_STR } KeyType;

typedef struct Key {
    const char *name;
    KeyType type;
    size_t off, count_off, size;   /* offset of the field; of its count (lists); string capacity */
    double lo, hi;
    const char *help;
    const char *dflt;   /* the value when a preset leaves the key out; NULL: every preset must set it */
} Key;

#define F(field) offsetof(RunConfig, field)
static const Key keys[] = {
    {"data", K_STR, F(data), 0, sizeof(((RunConfig *)0)->data), 0, 0, "corpus name, prepared folder or text file", NULL},
    {"tokenizer", K_STR, F(tokenizer), 0, 8, 0, 0, "byte | bpe", NULL},
    {"bpe_vocab", K_INT, F(bpe_vocab), 0, 0, 257, 65535, "BPE vocabulary size", "4096"},
    {"n_layer", K_INT, F(n_layer), 0, 0, 1, 64, "transformer layers", NULL},
    {"d_model", K_INT, F(d_model), 0, 0, 8, 8192, "model width", NULL},
    {"n_head", K_INT, F(n_head), 0, 0, 1, 64, "attention heads", NULL},
    {"methods", K_STR, F(methods), 0, 256, 0, 0, "comma-separated position method specs (name or name:key=value:...), or all", NULL},
    {"train_lens", K_LONGLIST, F(train_lens), F(n_train_lens), 0, 2, 1 << 20, "training lengths L", NULL},
    {"seeds", K_INT, F(seeds), 0, 0, 1, 100, "seeds per (method, L): 1..seeds", NULL},
    {"eval_mults", K_LONGLIST, F(eval_mults), F(n_eval_mults), 0, 1, 4096, "evaluation lengths as multiples of L", NULL},
    {"lengths", K_LONGLIST, F(lengths), F(n_lengths), 0, 1, 1 << 22, "explicit evaluation lengths (override eval_mults)", ""},
    {"batch", K_INT, F(batch), 0, 0, 0, 4096, "sequences per training step", NULL},
    {"batch_tokens", K_LONGLIST, F(batch_tokens), 0, 0, 0, 1L << 30, "tokens per step; > 0 sets batch = batch_tokens / L", "0"},
    {"steps", K_INT, F(steps), 0, 0, 1, 10000000, "training steps", NULL},
    {"warmup", K_INT, F(warmup), 0, 0, 0, 10000000, "linear warm-up steps", NULL},
    {"lr", K_DOUBLE, F(lr), 0, 0, 1e-7, 1.0, "peak learning rate", NULL},
    {"lr_min", K_DOUBLE, F(lr_min), 0, 0, 0.0, 1.0, "learning-rate floor of the cosine decay", NULL},
    {"weight_decay", K_DOUBLE, F(weight_decay), 0, 0, 0.0, 10.0, "AdamW decoupled weight decay (2-D tensors)", NULL},
    {"clip", K_DOUBLE, F(clip), 0, 0, 0.0, 1e6, "global gradient-norm clip (0 = off)", NULL},
    {"ckpt_every", K_INT, F(ckpt_every), 0, 0, 1, 10000000, "checkpoint every N steps", NULL},
    {"log_every", K_INT, F(log_every), 0, 0, 1, 10000000, "train.csv row every N steps", NULL},
    {"val_every", K_INT, F(val_every), 0, 0, 0, 10000000, "validation loss at L every N steps (0 = off)", "0"},
    {"val_tokens", K_LONGLIST, F(val_tokens), 0, 0, 1, 1L << 30, "tokens in the validation slice (prefix of valid)", "8192"},
    {"split", K_STR, F(split), 0, 8, 0, 0, "evaluation split: valid | test", NULL},
    {"eval_tokens", K_LONGLIST, F(eval_tokens), 0, 0, 1, 1L << 40, "tokens scored per length (prefix of the split)", NULL},
    {"sliding_div", K_INT, F(sliding_div), 0, 0, 0, 1 << 20, "sliding stride = L / sliding_div (0 = off)", NULL},
    {"sliding_tokens", K_LONGLIST, F(sliding_tokens), 0, 0, 1, 1L << 40, "tokens scored per length, sliding mode", NULL},
    {"threads", K_INT, F(threads), 0, 0, 0, 1024, "threads (0 = all cores)", NULL},
    {"precision", K_STR, F(precision), 0, 8, 0, 0, "training matrix products: fp32 | bf16 (bf16 inputs, fp32 accumulation)", "fp32"},
    {"train_copy_mix", K_DOUBLE, F(train_copy_mix), 0, 0, 0.0, 1.0, "fraction of training windows in which a random 16-token string is planted twice (the copy probe's positive-control mixture; 0 = off)", "0"},
    {"probes", K_STR, F(probes), 0, 32, 0, 0, "retrieval probes after the evaluations: copy, passkey, copy,passkey or empty", ""},
    {"probe_lengths", K_LONGLIST, F(probe_lengths), F(n_probe_lengths), 0, 2, 1 << 22, "probe window lengths T (empty: the evaluation lengths)", ""},
    {"probe_distances", K_LONGLIST, F(probe_distances), F(n_probe_distances), 0, 0, 1 << 22, "probe distances D (empty: 16, 32, ... up to T - 2k)", ""},
    {"probe_n", K_INT, F(probe_n), 0, 0, 1, 1 << 20, "probes per (T, D)", "50"},
    {"variants", K_STR, F(variants), 0, 512, 0, 0, "evaluation-time variants BASE+ITEM, comma-separated (rotary+pi=2, alibi+window=256, rotary+logn, ...)", ""},
};
#undef F
enum { N_KEYS = sizeof keys / sizeof keys[0] };
_Static_assert(N_KEYS <= 64, "RunConfig.keys_set has one bit per key");

static const Key *key_find(const char *name) {
    for (int i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].name, name) == 0) return &keys[i];
    return NULL;
}

static char exe_dir[4096];

const char *posbench_home(void) {
    const char *env = getenv("POSBENCH_HOME");
    if (env && *env) return env;
    if (!exe_dir[0]) {
        ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
        if (n <= 0) snprintf(exe_dir, sizeof exe_dir, ".");
        else {
            exe_dir[n] = 0;
            char *slash = strrchr(exe_dir, '/');
            if (slash) *slash = 0;
            /* build/test_posbench and build-asan/posbench-asan live one level down */
            char probe[4200];
            snprintf(probe, sizeof probe, "%s/harness/presets", exe_dir);
            if (!path_exists(probe) && (slash = strrchr(exe_dir, '/'))) *slash = 0;
        }
    }
    return exe_dir;
}

const char *config_presets_dir(void) {
    static char dir[4200];
    snprintf(dir, sizeof dir, "%s/harness/presets", posbench_home());
    return dir;
}

void config_set(RunConfig *c, const char *key, const char *value, const char *source) {
    const Key *k = key_find(key);
    if (!k) {
        char names[1024] = "";
        for (int i = 0; i < N_KEYS; i++) {
            strncat(names, keys[i].name, sizeof names - strlen(names) - 3);
            if (i + 1 < N_KEYS) strcat(names, ", ");
        }
        die_input("%s: unknown config key '%s' (valid: %s)", source, key, names);
    }
    char *field = (char *)c + k->off;
    c->keys_set |= 1ull << (k - keys);
    if (k->type == K_INT) {
        long v;
        if (parse_int(value, (long)k->lo, (long)k->hi, &v) != 0)
            die_input("%s: %s = '%s' must be a whole number from %.0f to %.0f", source, key, value, k->lo, k->hi);
        *(int *)field = (int)v;
    } else if (k->type == K_DOUBLE) {
        double v;
        if (parse_float(value, k->lo, k->hi, &v) != 0)
            die_input("%s: %s = '%s' must be a number from %g to %g", source, key, value, k->lo, k->hi);
        *(double *)field = v;
    } else if (k->type == K_LONGLIST) {
        long tmp[CFG_MAX_LIST];
        int n = value[0] ? parse_int_list(value, (long)k->lo, (long)k->hi, tmp, CFG_MAX_LIST) : 0;
        if (n < 0)
            die_input("%s: %s = '%s' must be at most %d comma-separated whole numbers from %.0f to %.0f", source, key,
                      value, CFG_MAX_LIST, k->lo, k->hi);
        if (!k->count_off) {   /* a single long */
            if (n != 1) die_input("%s: %s needs exactly one value", source, key);
            *(long *)field = tmp[0];
        } else {
            memcpy(field, tmp, sizeof(long) * n);
            *(int *)((char *)c + k->count_off) = n;
        }
    } else if (!strcmp(key, "methods") && !strcmp(value, "all")) {   /* every registered method */
        size_t len = 0;
        for (int i = 0; i < pos_method_count; i++) {
            if (len + strlen(pos_methods[i]->name) + 2 > k->size) die_input("%s: methods = all does not fit", source);
            len += (size_t)snprintf(field + len, k->size - len, "%s%s", i ? "," : "", pos_methods[i]->name);
        }
    } else {
        if (strlen(value) >= k->size) die_input("%s: %s is longer than %zu characters", source, key, k->size - 1);
        snprintf(field, k->size, "%s", value);
    }
    if (!strcmp(key, "tokenizer") && strcmp(value, "byte") && strcmp(value, "bpe"))
        die_input("%s: tokenizer = '%s' must be byte or bpe", source, value);
    if (!strcmp(key, "split") && strcmp(value, "valid") && strcmp(value, "test"))
        die_input("%s: split = '%s' must be valid or test", source, value);
    if (!strcmp(key, "precision") && strcmp(value, "fp32") && strcmp(value, "bf16"))
        die_input("%s: precision = '%s' must be fp32 or bf16", source, value);
    if (!strcmp(key, "probes") && *value && strcmp(value, "copy") && strcmp(value, "passkey") &&
        strcmp(value, "copy,passkey") && strcmp(value, "passkey,copy"))
        die_input("%s: probes = '%s' must be copy, passkey, copy,passkey or empty", source, value);
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

void config_load_file(RunConfig *c, const char *path) {
    char err[ERRLEN];
    size_t len;
    char *text = read_file(path, &len, err, sizeof err);
    if (!text) die_input("--config: %s", err);
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
        die_input("%s:1: starts with a UTF-8 byte-order mark; save the file without one", path);
    const char *nul = memchr(text, 0, len);
    if (nul) {
        int at = 1;
        for (const char *p = text; p < nul; p++) at += *p == '\n';
        die_input("%s:%d: contains a NUL byte (a binary file, or a text file in UTF-16?)", path, at);
    }
    int lineno = 0;
    for (char *line = text, *next; line; line = next) {   /* every line counts, blank ones too */
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *s = trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        char src[4200];
        snprintf(src, sizeof src, "%s:%d", path, lineno);
        if (!eq) die_input("%s: expected 'key = value', got '%s'", src, s);
        *eq = 0;
        config_set(c, trim(s), trim(eq + 1), src);
    }
    free(text);
}

void config_init(RunConfig *c, const char *preset) {
    memset(c, 0, sizeof *c);
    /* The presets are the one source of defaults: a key they may leave out has its
     * value in the key table; every other key must be in the preset file. */
    for (int i = 0; i < N_KEYS; i++)
        if (keys[i].dflt) config_set(c, keys[i].name, keys[i].dflt, "defaults");
    c->keys_set = 0;
    const char *name = preset ? preset : "quick";
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            die_input("--preset: '%s' is not a preset name", name);
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.conf", config_presets_dir(), name);
    if (!path_exists(path)) die_input("--preset: unknown preset '%s' (valid: tiny, quick, paper, headline; see %s)", name, config_presets_dir());
    snprintf(c->preset, sizeof c->preset, "%s", name);
    config_load_file(c, path);
    for (int i = 0; i < N_KEYS; i++)
        if (!keys[i].dflt && !(c->keys_set & (1ull << i)) &&
            !(!strcmp(keys[i].name, "batch") && c->batch_tokens > 0))   /* batch_tokens sets the batch */
            die_input("%s: the preset does not set '%s' (a preset sets every key but %s)", path, keys[i].name,
                      "bpe_vocab, lengths, batch_tokens, val_every, val_tokens, precision, probes, probe_* and variants");
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int config_batch(const RunConfig *c, long L) {
    if (c->batch_tokens <= 0) {
        if (c->batch < 1) die_input("config: batch = 0 needs batch_tokens > 0 (sequences per step = batch_tokens / L)");
        return c->batch;
    }
    if (L <= 0 || c->batch_tokens % L != 0 || c->batch_tokens / L < 1)
        die_input("config: batch_tokens = %ld must be a positive multiple of every training length (%ld)",
                  c->batch_tokens, L);
    if (c->batch_tokens / L > 4096) die_input("config: batch_tokens / %ld = %ld sequences is over 4096", L,
                                               c->batch_tokens / L);
    return (int)(c->batch_tokens / L);
}

int config_eval_lengths(const RunConfig *c, long L, long *out, int max) {
    int n = 0;
    if (c->n_lengths)
        for (int i = 0; i < c->n_lengths && n < max; i++) out[n++] = c->lengths[i];
    else
        for (int i = 0; i < c->n_eval_mults && n < max; i++) out[n++] = c->eval_mults[i] * L;
    qsort(out, n, sizeof(long), cmp_long);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (u == 0 || out[u - 1] != out[i]) out[u++] = out[i];
    return u;
}

static void value_string(const RunConfig *c, const Key *k, char *buf, size_t n, int json) {
    const char *field = (const char *)c + k->off;
    if (k->type == K_INT) snprintf(buf, n, "%d", *(const int *)field);
    else if (k->type == K_DOUBLE) snprintf(buf, n, "%.9g", *(const double *)field);
    else if (k->type == K_STR) snprintf(buf, n, json ? "\"%s\"" : "%s", field);
    else if (!k->count_off) snprintf(buf, n, "%ld", *(const long *)field);
    else {
        int cnt = *(const int *)((const char *)c + k->count_off);
        const long *v = (const long *)field;
        size_t len = 0;
        if (json) len += snprintf(buf + len, n - len, "[");
        buf[len] = 0;
        for (int i = 0; i < cnt && len < n; i++) len += snprintf(buf + len, n - len, i ? ",%ld" : "%ld", v[i]);
        if (json && len < n) snprintf(buf + len, n - len, "]");
    }
}

int config_key_eval_only(const char *key) {
    return !strcmp(key, "variants") || !strcmp(key, "probes") || !strncmp(key, "probe_", 6);
}

/* Every key (training_only 0) or every key but the eval-only ones. */
static void write_keys(const RunConfig *c, FILE *f, int training_only) {
    char buf[2048];
    fprintf(f, "# resolved configuration (preset %s)\n", c->preset);
    for (int i = 0; i < N_KEYS; i++) {
        if (training_only && config_key_eval_only(keys[i].name)) continue;
        value_string(c, &keys[i], buf, sizeof buf, 0);
        fprintf(f, "%s = %s\n", keys[i].name, buf);
    }
}

void config_write(const RunConfig *c, FILE *f) { write_keys(c, f, 0); }

void config_write_training(const RunConfig *c, FILE *f) { write_keys(c, f, 1); }

void config_write_json(const RunConfig *c, FILE *f) {
    char buf[2048];
    fprintf(f, "{\"preset\": \"%s\"", c->preset);
    for (int i = 0; i < N_KEYS; i++) {
        if (!strcmp(keys[i].name, "methods")) {   /* a JSON list, not the comma string */
            fprintf(f, ", \"methods\": [");
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", c->methods);
            int first = 1;
            char *sv = NULL;
            for (char *m = strtok_r(tmp, ",", &sv); m; m = strtok_r(NULL, ",", &sv), first = 0) fprintf(f, first ? "\"%s\"" : ", \"%s\"", m);
            fprintf(f, "]");
            continue;
        }
        value_string(c, &keys[i], buf, sizeof buf, 1);
        fprintf(f, ", \"%s\": %s", keys[i].name, buf);
    }
    fprintf(f, "}");
}
