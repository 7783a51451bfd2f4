/* runfiles.c — run-folder columns and train.json (runfiles.h). */
#include "runfiles.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "util.h"

const char *const results_cols[RC_N] = {"method", "train_len", "seed", "eval_len", "mode", "stride", "split",
                                        "tokens", "nll", "ppl", "bpb", "tokens_per_s", "peak_rss_mb", "arena_mb",
                                        "status", "reason"};
const char *const train_cols[TC_N] = {"method", "train_len", "seed", "step", "tokens",
                                      "loss", "lr", "grad_norm", "tokens_per_s", "val_loss"};
const char *const positions_cols[PC_N] = {"method", "train_len", "seed", "eval_len", "pos", "nll"};
const char *const probes_cols[PR_N_COLS] = {"method", "train_len", "seed", "kind", "T", "D", "n",
                                            "nll", "acc", "lo", "hi", "chance"};

void runfile_header(FILE *f, const char *const *cols, int n) {
    for (int i = 0; i < n; i++) fprintf(f, "%s%s", i ? "," : "", cols[i]);
    fputc('\n', f);
}

int train_summary_write(const char *path, const TrainSummary *s, char *err, size_t errlen) {
    AtomicFile af;
    if (atomic_open(&af, path, "w", err, errlen) != 0) return -1;
    FILE *f = af.fp;
    fputs("{\"method\": ", f);
    json_fput_string(f, s->method);
    fprintf(f, ", \"train_len\": %ld, \"seed\": %d, \"steps\": %d, \"tokens\": %ld, \"final_loss\": %.9g, "
               "\"tokens_per_s\": %.1f, \"wall_s\": %.2f, \"peak_rss_mb\": %.1f, \"params\": %zu, "
               "\"bytes_params\": %zu, \"bytes_train_acts\": %zu, \"threads\": %d, \"resumed\": %s, \"build\": ",
            s->train_len, s->seed, s->steps, s->tokens, s->final_loss, s->tokens_per_s, s->wall_s, s->peak_rss_mb,
            s->params, s->bytes_params, s->bytes_train_acts, s->threads, s->resumed ? "true" : "false");
    json_fput_string(f, s->build);
    fputs(", \"precision\": ", f);
    json_fput_string(f, s->precision[0] ? s->precision : "fp32");
    if (s->blas_core[0]) {
        fputs(", \"blas_core\": ", f);
        json_fput_string(f, s->blas_core);
    }
    fputs("}\n", f);
    return atomic_commit(&af, err, errlen);
}

/* Member key of obj as a number into *v; -1 with err when absent or not a number. */
static int get_num(const JsonValue *obj, const char *key, double *v, const char *path, char *err, size_t errlen) {
    const JsonValue *j = json_get(obj, key);
    if (!j || j->type != JSON_NUMBER) {
        snprintf(err, errlen, "%s: no number \"%s\"", path, key);
        return -1;
    }
    *v = json_number(j);
    return 0;
}

static int get_str(const JsonValue *obj, const char *key, char *out, size_t n, const char *path, char *err,
                   size_t errlen) {
    const JsonValue *j = json_get(obj, key);
    if (!j || j->type != JSON_STRING) {
        snprintf(err, errlen, "%s: no string \"%s\"", path, key);
        return -1;
    }
    snprintf(out, n, "%s", j->u.str);
    return 0;
}

/* The fields of a parsed train.json object into s. */
static int summary_fields(const JsonValue *o, TrainSummary *s, const char *path, char *err, size_t errlen) {
    double L, tok, seed, steps, threads, params, bp, ba;
    if (get_str(o, "method", s->method, sizeof s->method, path, err, errlen) ||
        get_num(o, "train_len", &L, path, err, errlen) || get_num(o, "seed", &seed, path, err, errlen) ||
        get_num(o, "steps", &steps, path, err, errlen) || get_num(o, "tokens", &tok, path, err, errlen) ||
        get_num(o, "final_loss", &s->final_loss, path, err, errlen) ||
        get_num(o, "tokens_per_s", &s->tokens_per_s, path, err, errlen) ||
        get_num(o, "wall_s", &s->wall_s, path, err, errlen) ||
        get_num(o, "peak_rss_mb", &s->peak_rss_mb, path, err, errlen) ||
        get_num(o, "params", &params, path, err, errlen) || get_num(o, "bytes_params", &bp, path, err, errlen) ||
        get_num(o, "bytes_train_acts", &ba, path, err, errlen) || get_num(o, "threads", &threads, path, err, errlen))
        return -1;
    s->train_len = (long)L, s->tokens = (long)tok, s->seed = (int)seed, s->steps = (int)steps;
    s->threads = (int)threads, s->params = (size_t)params, s->bytes_params = (size_t)bp;
    s->bytes_train_acts = (size_t)ba;
    const JsonValue *r = json_get(o, "resumed");
    s->resumed = r && r->type == JSON_TRUE;
    if (get_str(o, "build", s->build, sizeof s->build, path, err, errlen)) s->build[0] = 0; /* older files */
    if (get_str(o, "precision", s->precision, sizeof s->precision, path, err, errlen))
        snprintf(s->precision, sizeof s->precision, "fp32");   /* files from before the key */
    if (get_str(o, "blas_core", s->blas_core, sizeof s->blas_core, path, err, errlen)) s->blas_core[0] = 0;
    return 0;
}

int train_summary_read(const char *path, TrainSummary *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text) return -1;
    JsonDoc doc;
    char why[ERRLEN];
    int rc = json_parse(&doc, text, len, why, sizeof why);
    free(text);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    if (doc.root.type != JSON_OBJECT) {
        snprintf(err, errlen, "%s: not a JSON object", path);
        rc = -1;
    } else {
        rc = summary_fields(&doc.root, s, path, err, errlen);
    }
    json_doc_free(&doc);
    return rc;
}
