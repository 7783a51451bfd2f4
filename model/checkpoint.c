/* checkpoint.c — a Model to and from model.safetensors, and AdamW state plus
 * TrainState to and from train_state.safetensors beside it (docs/FORMATS.md).
 *
 * Saving iterates the model's tensor table, so the names are exactly the
 * table's ("tok_emb", "blocks.0.attn.qkv.weight", ..., "pos.t5.table"); the
 * optimiser moments go under "opt.m.<name>" and "opt.v.<name>" in the state
 * file. __metadata__ holds strings only, as the format requires:
 *   model file: format "posbench-2"; vocab, n_layer, n_head, d_model, train_len,
 *     method; with a TrainState: step, run_config (JSON object); checksum.
 *   state file: format "posbench-state-1"; model_checksum (the model file's),
 *     step, data_rng (decimal u64), adamw_step, adamw_beta1, adamw_beta2,
 *     adamw_eps, adamw_weight_decay; checksum.
 * Both are finished under temporary names, then renamed (model first); the
 * loader refuses a state file whose model_checksum or step is not the model
 * file's. An older "posbench-1" file (AdamW state and data_rng inside the
 * model file, no checksum) still loads.
 *
 * Loading trusts nothing: safetensors.c checks the container (header length,
 * JSON, offsets, sizes, checksum); this file checks the contents: every config
 * value present, a whole number and in range (model_config_check), a known
 * method, every expected tensor present as F32 with its exact shape, no tensor
 * the model does not have (a foreign or edited file), every value finite (and
 * AdamW's v >= 0). Every failure is one line "PATH: reason" and leaves the
 * Model and AdamW zeroed.
 */
#include "checkpoint.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../common/json.h"

#define CKPT_FORMAT "posbench-2"          /* the model alone, with a checksum */
#define CKPT_FORMAT_V1 "posbench-1"       /* older: AdamW state beside the weights, no checksum */
#define STATE_FORMAT "posbench-state-1"   /* train_state.safetensors */
#define STATE_NEXT_SUFFIX ".next"            /* a state staged for a model not yet renamed into place */

static void shape_of(const Tensor *t, int64_t shape[ST_MAX_DIMS]) {
    for (int i = 0; i < t->ndim; i++) shape[i] = t->shape[i];
}

static void add_int_meta(StWriter *w, const char *key, long long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    st_writer_meta(w, key, buf);
}

static void add_float_meta(StWriter *w, const char *key, float v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", (double)v);   /* 9 significant digits round-trip a float */
    st_writer_meta(w, key, buf);
}

/* 0 if s is a JSON object. */
static int is_json_object(const char *s, char *why, size_t n) {
    JsonDoc d;
    if (json_parse(&d, s, strlen(s), why, n) != 0) return -1;
    int ok = d.root.type == JSON_OBJECT;
    if (!ok) snprintf(why, n, "a JSON %s, not an object", json_type_name(d.root.type));
    json_doc_free(&d);
    return ok ? 0 : -1;
}

void checkpoint_state_path(const char *model_path, char *out, size_t n) {
    const char *slash = strrchr(model_path, '/');
    const char *base = slash ? slash + 1 : model_path;
    int dir_len = (int)(base - model_path);
    size_t bl = strlen(base), sl = strlen(".safetensors");
    if (!strcmp(base, "model.safetensors")) snprintf(out, n, "%.*strain_state.safetensors", dir_len, model_path);
    else if (bl > sl && !strcmp(base + bl - sl, ".safetensors"))
        snprintf(out, n, "%.*s.train_state.safetensors", (int)(strlen(model_path) - sl), model_path);
    else snprintf(out, n, "%s.train_state.safetensors", model_path);
}

int checkpoint_state_present(const char *model_path) {
    char spath[4200], next[4300];
    checkpoint_state_path(model_path, spath, sizeof spath);
    snprintf(next, sizeof next, "%s%s", spath, STATE_NEXT_SUFFIX);
    return path_exists(spath) || path_exists(next);
}

/* The model file: format, config, (step, run_config), the model's tensors. */
static void model_writer(StWriter *w, const Model *m, const TrainState *ts, const char *run_config) {
    st_writer_init(w);
    st_writer_meta(w, "format", CKPT_FORMAT);
    add_int_meta(w, "vocab", m->cfg.vocab);
    add_int_meta(w, "n_layer", m->cfg.n_layer);
    add_int_meta(w, "n_head", m->cfg.n_head);
    add_int_meta(w, "d_model", m->cfg.d_model);
    add_int_meta(w, "train_len", m->cfg.train_len);
    st_writer_meta(w, "method", m->cfg.method);
    if (ts) {
        add_int_meta(w, "step", ts->step);
        st_writer_meta(w, "run_config", run_config);
    }
    int64_t shape[ST_MAX_DIMS];
    for (int i = 0; i < m->n_tensors; i++) {
        const Tensor *t = &m->tensors[i];
        shape_of(t, shape);
        st_writer_add(w, t->name, m->params + t->offset, t->ndim, shape);
    }
}

/* The state file: which model file it belongs to, step, data_rng, AdamW scalars, m and v. */
static void state_writer(StWriter *w, const Model *m, const AdamW *opt, const TrainState *ts, const char *model_sum) {
    st_writer_init(w);
    st_writer_meta(w, "format", STATE_FORMAT);
    st_writer_meta(w, "model_checksum", model_sum);
    add_int_meta(w, "step", ts ? ts->step : opt->step);
    if (ts) {
        char rng[32];
        snprintf(rng, sizeof rng, "%llu", (unsigned long long)ts->data_rng);
        st_writer_meta(w, "data_rng", rng);
    }
    add_int_meta(w, "adamw_step", opt->step);
    add_float_meta(w, "adamw_beta1", opt->beta1);
    add_float_meta(w, "adamw_beta2", opt->beta2);
    add_float_meta(w, "adamw_eps", opt->eps);
    add_float_meta(w, "adamw_weight_decay", opt->weight_decay);
    int64_t shape[ST_MAX_DIMS];
    char name[MODEL_NAME_LEN + 16];
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < m->n_tensors; i++) {
            const Tensor *t = &m->tensors[i];
            shape_of(t, shape);
            snprintf(name, sizeof name, "opt.%c.%s", k ? 'v' : 'm', t->name);
            st_writer_add(w, name, (k ? opt->v : opt->m) + t->offset, t->ndim, shape);
        }
}

static const char *writer_meta_value(const StWriter *w, const char *key) {
    for (int i = 0; i < w->n_meta; i++)
        if (!strcmp(w->meta[i].key, key)) return w->meta[i].value;
    return "";
}

int checkpoint_save(const char *path, const Model *m, const AdamW *opt, const TrainState *ts, char *err,
                    size_t errlen) {
    const char *run_config = ts && ts->extra_json[0] ? ts->extra_json : "{}";
    char why[ERRLEN];
    if (ts && is_json_object(run_config, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: not saved: the run config is not a JSON object (%s)", path, why);
        return -1;
    }
    StWriter w, sw;
    model_writer(&w, m, ts, run_config);
    if (!opt) {
        int rc = st_writer_write(&w, path, err, errlen);
        st_writer_free(&w);
        return rc;
    }
    /* both files finished under temporary names first, the state's under its ".next" name; then the
     * commit: the state to ".next", the model into place, the state into place. A kill between the
     * last two leaves the new model with the old state and the new state under ".next", which the
     * loader takes when the other does not belong (load_state_file). */
    AtomicFile am, as;
    char spath[4200], next[4300];
    checkpoint_state_path(path, spath, sizeof spath);
    snprintf(next, sizeof next, "%s%s", spath, STATE_NEXT_SUFFIX);
    int rc = st_writer_stage(&w, path, &am, err, errlen);
    if (rc == 0) {
        state_writer(&sw, m, opt, ts, writer_meta_value(&w, ST_CHECKSUM_KEY));
        rc = st_writer_stage(&sw, next, &as, err, errlen);
        st_writer_free(&sw);
        if (rc != 0) atomic_abort(&am);
    }
    st_writer_free(&w);
    if (rc == 0 && (rc = atomic_rename(&as, err, errlen)) != 0) atomic_abort(&am);
    if (rc == 0) rc = atomic_rename(&am, err, errlen);
    if (rc == 0 && rename(next, spath) != 0) {
        snprintf(err, errlen, "%s: cannot rename into place (%s)", spath, strerror(errno));
        rc = -1;
    }
    return rc;
}

/* ---- loading ----------------------------------------------------------------- */

static const char *need_meta(const StFile *f, const char *key, const char *path, char *err, size_t errlen) {
    const char *v = st_meta(f, key);
    if (!v) snprintf(err, errlen, "%s: __metadata__ has no \"%s\" (not a complete posbench checkpoint)", path, key);
    return v;
}

/* Whole decimal number: optional '-', digits only (no spaces, '+', or fraction). */
static int is_whole(const char *s) {
    if (*s == '-') s++;
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

static int meta_long(const StFile *f, const char *key, long lo, long hi, long *out, const char *path, char *err,
                     size_t errlen) {
    const char *s = need_meta(f, key, path, err, errlen);
    if (!s) return -1;
    if (!is_whole(s) || parse_int(s, lo, hi, out) != 0) {
        char p[48];
        snprintf(err, errlen, "%s: __metadata__ \"%s\" is \"%s\", expected a whole number from %ld to %ld", path, key,
                 json_printable(p, sizeof p, s), lo, hi);
        return -1;
    }
    return 0;
}

static int meta_u64(const StFile *f, const char *key, uint64_t *out, const char *path, char *err, size_t errlen) {
    const char *s = need_meta(f, key, path, err, errlen);
    if (!s) return -1;
    char *end;
    errno = 0;
    unsigned long long v = *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
    if (!(*s >= '0' && *s <= '9') || errno || *end) {
        char p[48];
        snprintf(err, errlen, "%s: __metadata__ \"%s\" is \"%s\", expected an unsigned 64-bit whole number", path, key,
                 json_printable(p, sizeof p, s));
        return -1;
    }
    *out = v;
    return 0;
}

/* Optional float; keeps *out when absent. */
static int meta_float(const StFile *f, const char *key, double lo, double hi, float *out, const char *path, char *err,
                      size_t errlen) {
    const char *s = st_meta(f, key);
    double v;
    if (!s) return 0;
    if (parse_float(s, lo, hi, &v) != 0) {
        char p[48];
        snprintf(err, errlen, "%s: __metadata__ \"%s\" is \"%s\", expected a number from %g to %g", path, key,
                 json_printable(p, sizeof p, s), lo, hi);
        return -1;
    }
    *out = (float)v;
    return 0;
}

static void fmt_shape(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t o = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && o < n; i++) o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (o < n) snprintf(buf + o, n - o, "]");
}

/* Find `name`, check it is F32 with t's shape, copy it into dst. */
static int load_tensor(const StFile *f, const char *name, const Tensor *t, float *dst, const char *path, char *err,
                       size_t errlen) {
    const StTensor *s = st_find(f, name);
    if (!s) {
        snprintf(err, errlen, "%s: tensor %s is missing", path, name);
        return -1;
    }
    if (strcmp(s->dtype, "F32") != 0) {
        snprintf(err, errlen, "%s: tensor %s has dtype %s, expected F32", path, name, s->dtype);
        return -1;
    }
    int64_t want[ST_MAX_DIMS];
    shape_of(t, want);
    int same = s->ndim == t->ndim;
    for (int i = 0; same && i < t->ndim; i++) same = s->shape[i] == want[i];
    if (!same) {
        char got[96], exp[96];
        fmt_shape(got, sizeof got, s->ndim, s->shape);
        fmt_shape(exp, sizeof exp, t->ndim, want);
        snprintf(err, errlen, "%s: tensor %s has shape %s, expected %s", path, name, got, exp);
        return -1;
    }
    if (t->numel) memcpy(dst, s->data, t->numel * sizeof(float));
    return 0;
}

static int read_config(const StFile *f, ModelConfig *cfg, const char *path, char *err, size_t errlen) {
    const char *fmt = need_meta(f, "format", path, err, errlen);
    if (!fmt) return -1;
    if (strcmp(fmt, CKPT_FORMAT) != 0 && strcmp(fmt, CKPT_FORMAT_V1) != 0) {
        char p[48];
        snprintf(err, errlen, "%s: checkpoint format \"%s\" is not supported (expected \"%s\" or \"%s\")", path,
                 json_printable(p, sizeof p, fmt), CKPT_FORMAT, CKPT_FORMAT_V1);
        return -1;
    }
    if (!strcmp(fmt, CKPT_FORMAT) && !st_meta(f, ST_CHECKSUM_KEY)) {
        snprintf(err, errlen, "%s: __metadata__ has no \"%s\" (a %s file always carries one; edited file?)", path,
                 ST_CHECKSUM_KEY, CKPT_FORMAT);
        return -1;
    }
    static const struct { const char *key; size_t off; } ints[] = {
        {"vocab", offsetof(ModelConfig, vocab)},     {"n_layer", offsetof(ModelConfig, n_layer)},
        {"n_head", offsetof(ModelConfig, n_head)},   {"d_model", offsetof(ModelConfig, d_model)},
        {"train_len", offsetof(ModelConfig, train_len)},
    };
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        long v;
        if (meta_long(f, ints[i].key, INT_MIN, INT_MAX, &v, path, err, errlen) != 0) return -1;
        *(int *)(void *)((char *)cfg + ints[i].off) = (int)v;
    }
    const char *method = need_meta(f, "method", path, err, errlen);
    if (!method) return -1;
    char p[48];
    if (strlen(method) >= sizeof cfg->method || !pos_spec_method(method)) {
        snprintf(err, errlen, "%s: unknown method \"%s\" (valid: %s)", path, json_printable(p, sizeof p, method),
                 pos_method_names());
        return -1;
    }
    snprintf(cfg->method, sizeof cfg->method, "%s", method);
    char why[ERRLEN];
    if (model_config_check(cfg, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: bad config in __metadata__: %s", path, why);
        return -1;
    }
    return 0;
}

/* Every tensor in the file is a model tensor (with_model) or opt.m./opt.v. of one (with_opt). */
static int check_no_foreign(const StFile *f, const Model *m, int with_model, int with_opt, const char *path, char *err,
                            size_t errlen) {
    for (int i = 0; i < f->n_tensors; i++) {
        const char *name = f->tensors[i].name;
        if (with_model && model_find_tensor(m, name)) continue;
        if (with_opt && (!strncmp(name, "opt.m.", 6) || !strncmp(name, "opt.v.", 6)) && model_find_tensor(m, name + 6))
            continue;
        char p[96];
        snprintf(err, errlen, "%s: unexpected tensor %s: not part of a %s model with %d layers (foreign or edited file?)",
                 path, json_printable(p, sizeof p, name), m->cfg.method, m->cfg.n_layer);
        return -1;
    }
    return 0;
}

/* Every value of every tensor (at base + offset) finite, and >= 0 when nonneg (AdamW's v). */
static int check_values(const Model *m, const float *base, const char *prefix, int nonneg, const char *path, char *err,
                        size_t errlen) {
    for (int i = 0; i < m->n_tensors; i++) {
        const Tensor *t = &m->tensors[i];
        const float *x = base + t->offset;
        size_t bad = 0, first = 0;
        for (size_t j = 0; j < t->numel; j++)
            if (!isfinite(x[j]) || (nonneg && x[j] < 0)) {
                if (!bad++) first = j;
            }
        if (bad) {
            snprintf(err, errlen, "%s: tensor %s%s holds %zu %s value%s (first at index %zu, %g); a diverged or damaged "
                     "checkpoint is not used", path, prefix, t->name, bad, nonneg ? "NaN, infinite or negative" :
                     "NaN or infinite", bad == 1 ? "" : "s", first, (double)x[first]);
            return -1;
        }
    }
    return 0;
}

/* AdamW scalars from f's metadata and m, v from its opt.m.* / opt.v.* tensors. */
static int load_opt(const StFile *f, const Model *m, AdamW *opt, const char *path, char *err, size_t errlen) {
    if (!st_find(f, "opt.m.tok_emb") && !st_meta(f, "adamw_step")) {
        snprintf(err, errlen, "%s: has no optimiser state (saved without training state; cannot resume from it)", path);
        return -1;
    }
    long step;
    if (meta_long(f, "adamw_step", 0, LONG_MAX, &step, path, err, errlen) != 0) return -1;
    opt->step = step;
    if (meta_float(f, "adamw_beta1", 0, 1, &opt->beta1, path, err, errlen) ||
        meta_float(f, "adamw_beta2", 0, 1, &opt->beta2, path, err, errlen) ||
        meta_float(f, "adamw_eps", 0, 1, &opt->eps, path, err, errlen) ||
        meta_float(f, "adamw_weight_decay", 0, 1e6, &opt->weight_decay, path, err, errlen))
        return -1;
    char name[MODEL_NAME_LEN + 16];
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < m->n_tensors; i++) {
            const Tensor *t = &m->tensors[i];
            snprintf(name, sizeof name, "opt.%c.%s", k ? 'v' : 'm', t->name);
            if (load_tensor(f, name, t, (k ? opt->v : opt->m) + t->offset, path, err, errlen) != 0) return -1;
        }
    if (check_values(m, opt->m, "opt.m.", 0, path, err, errlen) != 0) return -1;
    return check_values(m, opt->v, "opt.v.", 1, path, err, errlen);
}

/* Open the state file spath into f when it is a posbench training state naming the model file mf's
 * checksum and step; -1 with err (f freed) otherwise. */
static int open_state_for(const StFile *mf, const char *spath, const char *path, StFile *f, char *err,
                          size_t errlen) {
    if (st_read(f, spath, err, errlen) != 0) return -1;
    const char *fmt = st_meta(f, "format"), *sum = st_meta(f, "model_checksum");
    const char *mstep = st_meta(mf, "step"), *sstep = st_meta(f, "step");
    char p[48];
    if (!fmt || strcmp(fmt, STATE_FORMAT) || !st_meta(f, ST_CHECKSUM_KEY)) {
        snprintf(err, errlen, "%s: not a posbench training state (format \"%s\", expected \"%s\" with a checksum)", spath,
                 json_printable(p, sizeof p, fmt ? fmt : ""), STATE_FORMAT);
    } else if (!sum || strcmp(sum, st_meta(mf, ST_CHECKSUM_KEY)) || (mstep && (!sstep || strcmp(mstep, sstep)))) {
        snprintf(err, errlen, "%s: does not belong to %s (written for model checksum %s at step %s; the model is %s at step "
                 "%s): an interrupted or mixed checkpoint; remove both files to train from the start", spath, path,
                 sum ? sum : "?", sstep ? sstep : "?", st_meta(mf, ST_CHECKSUM_KEY), mstep ? mstep : "?");
    } else {
        return 0;
    }
    st_free(f);
    return -1;
}

/* The state file beside a posbench-2 model file: it must name that file's checksum and step. When it
 * does not, the state staged under ".next" by a save killed just after renaming the model is taken
 * if it does. */
static int load_state_file(const StFile *mf, const Model *m, AdamW *opt, TrainState *ts, const char *path,
                           char *err, size_t errlen) {
    char spath[4200], next[4300], why[ERRLEN];
    checkpoint_state_path(path, spath, sizeof spath);
    snprintf(next, sizeof next, "%s%s", spath, STATE_NEXT_SUFFIX);
    if (!checkpoint_state_present(path)) {
        snprintf(err, errlen, "%s: has no optimiser state (no %s beside it; cannot resume from it)", path, spath);
        return -1;
    }
    StFile f;
    const char *used = spath;
    if (open_state_for(mf, spath, path, &f, err, errlen) != 0) {
        if (!path_exists(next) || open_state_for(mf, next, path, &f, why, sizeof why) != 0) return -1;
        used = next;
    }
    int rc = check_no_foreign(&f, m, 0, 1, used, err, errlen);
    if (!rc) rc = load_opt(&f, m, opt, used, err, errlen);
    if (!rc && st_meta(&f, "data_rng")) rc = meta_u64(&f, "data_rng", &ts->data_rng, used, err, errlen);
    snprintf(ts->state_file, sizeof ts->state_file, "%s", used);
    st_free(&f);
    return rc;
}

/* step and run_config from the model file; data_rng from it too in a posbench-1 file. */
static int load_train_state(const StFile *f, TrainState *ts, int v1, const char *path, char *err, size_t errlen) {
    long step;
    if (meta_long(f, "step", 0, LONG_MAX, &step, path, err, errlen) != 0) return -1;
    if (v1 && meta_u64(f, "data_rng", &ts->data_rng, path, err, errlen) != 0) return -1;
    ts->step = step;
    const char *rc = st_meta(f, "run_config");
    if (!rc) rc = "{}";
    char why[ERRLEN];
    if (strlen(rc) >= sizeof ts->extra_json) {
        snprintf(err, errlen, "%s: __metadata__ \"run_config\" is %zu bytes (at most %zu)", path, strlen(rc),
                 sizeof ts->extra_json - 1);
        return -1;
    }
    if (is_json_object(rc, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: __metadata__ \"run_config\" is not a JSON object (%s)", path, why);
        return -1;
    }
    snprintf(ts->extra_json, sizeof ts->extra_json, "%s", rc);
    return 0;
}

/* Config, model, weights: everything but the optimiser. */
static int load_model(const StFile *f, Model *m, int v1, const char *path, char *err, size_t errlen) {
    ModelConfig cfg;
    char why[ERRLEN];
    if (read_config(f, &cfg, path, err, errlen) != 0) return -1;
    if (model_build(m, &cfg, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    int rc = 0;
    for (int i = 0; !rc && i < m->n_tensors; i++)
        rc = load_tensor(f, m->tensors[i].name, &m->tensors[i], m->params + m->tensors[i].offset, path, err, errlen);
    if (!rc) rc = check_no_foreign(f, m, 1, v1, path, err, errlen);
    if (!rc) rc = check_values(m, m->params, "", 0, path, err, errlen);
    return rc;
}

int checkpoint_load(const char *path, Model *m, AdamW *opt, TrainState *ts, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (opt) memset(opt, 0, sizeof *opt);
    StFile f;
    if (st_read(&f, path, err, errlen) != 0) return -1;
    const char *fmt = st_meta(&f, "format");
    int v1 = fmt && !strcmp(fmt, CKPT_FORMAT_V1);
    int rc = load_model(&f, m, v1, path, err, errlen);
    TrainState tmp = {0};
    if (!rc && opt) {
        adamw_init(opt, m, 0.0f);
        if (v1) snprintf(tmp.state_file, sizeof tmp.state_file, "%s", path);
        rc = v1 ? load_opt(&f, m, opt, path, err, errlen) : load_state_file(&f, m, opt, &tmp, path, err, errlen);
    }
    if (!rc && ts) {
        rc = load_train_state(&f, &tmp, v1, path, err, errlen);
        if (!rc) *ts = tmp;
    }
    st_free(&f);
    if (rc) {
        if (opt) {
            adamw_free(opt);
            memset(opt, 0, sizeof *opt);
        }
        model_free(m);
        return -1;
    }
    return 0;
}
