/* cmd_probe.c — `posbench probe KIND[,KIND] --ckpt FILE`: copy and passkey probes of a checkpoint
 * (probe.h; docs/DEFINITIONS.md, Probes) at each window length T and distance D, scored by the
 * tiled evaluation forward (memory linear in T). Rows of probes.csv (docs/FORMATS.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../common/runfiles.h"
#include "../model/checkpoint.h"
#include "probe.h"
#include "run_common.h"
#include "runtime.h"
#include "variant.h"

static const Command probe_cmd = {"probe", "copy|passkey|copy,passkey",
    "retrieval probes of a checkpoint: copy a random string, or recall a 5-digit pass key, D tokens later", NULL};

static Flag probe_flags[] = {
    {"--ckpt", "FILE", NULL, "checkpoint (model.safetensors) to probe", NULL, 0},
    {"--lengths", "a,b,...", NULL, "window lengths T (default: L, 2L, 4L, 8L, 16L)", NULL, 0},
    {"--distances", "a,b,...", NULL, "distances D between the two strings (default: 16, 32, 64, ... up to T - 2k; "
     "a distance that does not fit a length is skipped there)", NULL, 0},
    {"--n", "N", "50", "probes per (T, D): random strings or keys, each in its own window", NULL, 0},
    {"--k", "K", "16", "copy: tokens in the random string (alphabet " PROBE_COPY_ALPHABET ")", NULL, 0},
    {"--seed", "S", "1", "seed of the strings, keys and filler offsets (the same for every method)", NULL, 0},
    {"--split", "NAME", "valid", "held-out split the filler text comes from: valid | test", NULL, 0},
    {"--variant", "BASE+ITEM", NULL, "evaluation-time variant (see posbench eval --help); rows named by it", NULL, 0},
    {"--out", "CSV", NULL, "write rows here (atomically) instead of stdout", NULL, 0},
    {"--no-header", NULL, NULL, "omit the CSV header", NULL, 0},
    {"--threads", "N", "0", "threads (0 = all cores)", NULL, 0},
};
#define NPF NFLAGS(probe_flags)

/* A model as a probe scorer: the tiled evaluation forward with top-1 predictions; the shared
 * filler's keys and values computed once (model_eval_window_prefix) when the method allows it. */
typedef struct ModelScorer {
    Model *m;
    EvalPrefix pre;
    int *saved;   /* the inputs pre holds (pre.len of them) */
} ModelScorer;

static void model_scorer(void *ctx, const int *inputs, const int *targets, int T, int shared, float *nll, int *top1,
                         int top1_from) {
    ModelScorer *s = ctx;
    if (shared < 64 || !model_eval_prefix_ok(s->m)) {   /* too short to pay for the copies */
        model_eval_window_top1(s->m, inputs, targets, T, nll, top1, top1_from);
        return;
    }
    if (s->pre.len != shared || memcmp(s->saved, inputs, sizeof(int) * (size_t)shared)) {
        model_eval_window_prefix(s->m, inputs, targets, shared, &s->pre, 1, nll, NULL, shared);
        s->saved = xrealloc(s->saved, sizeof(int) * (size_t)shared);
        memcpy(s->saved, inputs, sizeof(int) * (size_t)shared);
    }
    model_eval_window_prefix(s->m, inputs, targets, T, &s->pre, 0, nll, top1, top1_from);
}

/* One `posbench probe`: what to run, checked before any work. */
typedef struct ProbeJob {
    Model m;
    RunIdentity id;
    int kinds[PROBE_KINDS], n_kinds, k, seed;
    long lengths[64], dists[64], n;
    int n_len, n_dist;
    Variant variant, *var;
    const char *label;
} ProbeJob;

static void probe_read_flags(ProbeJob *j, const char *kinds) {
    char buf[64], *save = NULL;
    snprintf(buf, sizeof buf, "%s", kinds);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int kind = probe_kind_parse(t);
        if (kind < 0 || j->n_kinds == PROBE_KINDS) die_input("probe: '%s' must be copy, passkey or copy,passkey", kinds);
        j->kinds[j->n_kinds++] = kind;
    }
    if (!j->n_kinds) die_input("probe: needs KIND: copy, passkey or copy,passkey");
    long L = j->m.cfg.train_len;
    const char *lens = flag_str(probe_flags, NPF, "--lengths"), *ds = flag_str(probe_flags, NPF, "--distances");
    if (lens && (j->n_len = parse_int_list(lens, 2, 1 << 22, j->lengths, 64)) <= 0)
        die_input("--lengths: '%s' must be at most 64 comma-separated whole numbers from 2 to %d", lens, 1 << 22);
    if (!lens)
        for (j->n_len = 0; j->n_len < 5; j->n_len++) j->lengths[j->n_len] = L << j->n_len;
    if (ds && (j->n_dist = parse_int_list(ds, 0, 1 << 22, j->dists, 64)) <= 0)
        die_input("--distances: '%s' must be at most 64 comma-separated whole numbers from 0 to %d", ds, 1 << 22);
    j->n = flag_int(probe_flags, NPF, "--n", 1, 1 << 20);
    j->k = (int)flag_int(probe_flags, NPF, "--k", 2, 64);
    j->seed = (int)flag_int(probe_flags, NPF, "--seed", 0, 1 << 30);
    const char *vs = flag_str(probe_flags, NPF, "--variant");
    char err[ERRLEN];
    j->label = j->m.cfg.method;
    if (vs) {
        if (variant_parse_for(vs, j->m.cfg.method, &j->variant, err, sizeof err) != 0) die_input("--variant: %s", err);
        j->var = &j->variant;
        j->label = j->variant.name;
    }
    for (int i = 0; i < j->n_len; i++)
        if (model_check_len(&j->m, (int)j->lengths[i], err, sizeof err) != 0)
            die_input("--lengths: %s cannot run windows of %ld: %s", j->m.cfg.method, j->lengths[i], err);
}

/* The distances of one (kind, T): the given ones that fit, or the defaults. */
static int probe_distances(const ProbeJob *j, int kind, long T, long *out) {
    if (!j->n_dist) return probe_default_distances(kind, T, j->k, out, 64);
    int n = 0;
    for (int i = 0; i < j->n_dist; i++)
        if (j->dists[i] <= probe_max_distance(kind, T, j->k)) out[n++] = j->dists[i];
    return n;
}

/* Every (kind, T, D) of the job: rows to f. The text: the split's tokens widened to int. */
static void probe_all(ProbeJob *j, const DataSplit *sp, FILE *f) {
    char err[ERRLEN];
    for (int ki = 0; ki < j->n_kinds; ki++)
        for (int li = 0; li < j->n_len; li++) {
            long T = j->lengths[li], D[64];
            if ((long)sp->n_tokens < T + 2) die_input("--lengths: %ld needs more held-out text than the split's %zu tokens", T, sp->n_tokens);
            if (variant_apply(&j->m, j->var, T, err, sizeof err) != 0) die_input("--variant: %s", err);
            int nd = probe_distances(j, j->kinds[ki], T, D);
            for (int di = 0; di < nd; di++) {
                Rng rng;   /* one stream per (kind, T, D): the same probes for every method and variant */
                rng_seed(&rng, (uint64_t)j->seed * 1000003u + (uint64_t)j->kinds[ki] * 7919u + (uint64_t)T * 131u + (uint64_t)D[di]);
                ProbeStats st;
                ModelScorer sc = {.m = &j->m};
                double t0 = now_seconds();
                probe_run(j->kinds[ki], T, D[di], j->k, j->n, sp->tokens, sp->n_tokens, &rng, model_scorer, &sc, &st);
                model_prefix_free(&sc.pre);
                free(sc.saved);
                probe_write_rows(f, j->label, j->m.cfg.train_len, j->id.seed, j->kinds[ki], T, D[di], j->k, &st);
                fflush(f);
                fprintf(stderr, "probe %s %s T=%ld D=%ld: acc %.3f (%.1fs)\n", j->label, probe_kind_name(j->kinds[ki]),
                        T, D[di], st.tokens ? (double)st.correct / st.tokens : NAN, now_seconds() - t0);
            }
        }
}

int cmd_probe(int argc, char **argv) {
    const char *pos[1];
    if (flags_parse(probe_flags, NPF, argc, argv, &probe_cmd, pos, 1) != 1)
        die_input("probe: needs KIND: copy, passkey or copy,passkey (see posbench probe --help)");
    runtime_set_threads((int)flag_int(probe_flags, NPF, "--threads", 0, 1024));
    const char *ckpt = flag_str(probe_flags, NPF, "--ckpt"), *out_path = flag_str(probe_flags, NPF, "--out");
    const char *split = flag_str(probe_flags, NPF, "--split");
    if (!ckpt) die_input("--ckpt is required");
    if (strcmp(split, "valid") && strcmp(split, "test")) die_input("--split: '%s' must be valid or test", split);
    if (out_path) run_check_out_file(out_path, "--out");
    char err[ERRLEN];
    ProbeJob *j = xcalloc(1, sizeof(ProbeJob));
    TrainState ts = {0};
    if (checkpoint_load(ckpt, &j->m, NULL, &ts, err, sizeof err) != 0) die_input("--ckpt: %s", err);
    run_identity_parse(&j->id, ts.extra_json);
    probe_read_flags(j, pos[0]);
    if (j->m.cfg.vocab < 256) die_input("--ckpt: probes spell their strings in bytes; vocabulary %d < 256", j->m.cfg.vocab);
    Dataset ds;
    run_open_data(&ds, j->id.data, j->id.tokenizer, j->id.bpe_vocab, "--ckpt (its training data)");
    const DataSplit *sp = run_eval_split(&ds, j->id.data, split, "--ckpt (its training data)");
    AtomicFile af = {0};
    FILE *f = stdout;
    if (out_path) {
        if (atomic_open(&af, out_path, "w", err, sizeof err) != 0) die_input("--out: %s", err);
        f = af.fp;
    }
    if (!flag_on(probe_flags, NPF, "--no-header")) runfile_header(f, probes_cols, PR_N_COLS);
    probe_all(j, sp, f);
    if (out_path && atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
    model_free(&j->m);
    data_close(&ds);
    free(j);
    return 0;
}
