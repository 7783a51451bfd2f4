/* eval.c — `posbench eval` and the scoring loop of eval.h.
 *
 * Rows follow results.csv (docs/FORMATS.md). tokens_per_s counts tokens fed through the
 * model per second of model time (in sliding mode that includes the re-read
 * context). arena_mb is the analytic size of what evaluation allocates
 * (parameters, the one-layer scratch, the position cache).
 * peak_rss_mb is this process's peak resident memory after the
 * length was evaluated; `posbench sweep` runs one process per length so each
 * figure belongs to that length alone.
 */
#include "eval.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../common/runfiles.h"
#include "../model/checkpoint.h"
#include "run_common.h"
#include "variant.h"

void eval_stream(Model *m, const uint16_t *x, size_t N, long W, long S, double *pos_sum, long *pos_cnt,
                 EvalResult *r, Progress *progress) {
    memset(r, 0, sizeof *r);
    r->W = W;
    r->S = S;
    int *in = xmalloc(sizeof(int) * (W + 1));
    float *nll = xmalloc_floats(W);
    long scored_upto = 0;   /* index of the last target scored so far */
    for (long s = 0; scored_upto < (long)N - 1; s += S) {
        long w = (long)N - 1 - s < W ? (long)N - 1 - s : W;
        for (long t = 0; t <= w; t++) in[t] = x[s + t];
        double t0 = now_seconds();
        model_eval_window(m, in, in + 1, (int)w, nll);
        r->seconds += now_seconds() - t0;
        r->processed += w;
        long first = scored_upto - s > 0 ? scored_upto - s : 0;   /* positions already scored before */
        for (long p = first; p < w; p++) r->nll += nll[p];
        r->scored += w - first;
        if (pos_sum)
            for (long p = 0; p < w; p++) {
                pos_sum[p] += nll[p];
                pos_cnt[p]++;
            }
        scored_upto = s + w;
        if (progress) {
            char st[64];
            snprintf(st, sizeof st, "%.1fk tok/s", r->processed / (r->seconds > 0 ? r->seconds : 1) / 1e3);
            progress_update(progress, scored_upto, st);
        }
    }
    free(in);
    free(nll);
}

static const Command eval_cmd = {"eval", "", "evaluate a checkpoint over a list of lengths", NULL};

static Flag eval_flags[] = {
    {"--ckpt", "FILE", NULL, "checkpoint (model.safetensors) to evaluate", NULL, 0},
    {"--lengths", "a,b,...", NULL, "evaluation window lengths (default: L, 2L, 4L, 8L, 16L)", NULL, 0},
    {"--mode", "M", "nonoverlapping", "nonoverlapping | sliding", NULL, 0},
    {"--stride", "S", NULL, "sliding stride, 1 <= S <= window (default: L/2)", NULL, 0},
    {"--data", "D", NULL, "corpus, prepared folder or text file (default: the training data)", NULL, 0},
    {"--split", "NAME", "valid", "valid | test (held out from training) | all (the whole text: only for text the model never saw)", NULL, 0},
    {"--max-tokens", "N", "32768", "score at most N tokens: a prefix of the split, the same for every length", NULL, 0},
    {"--per-position", "FILE", NULL, "also write per-position mean loss (nonoverlapping windows) as CSV", NULL, 0},
    {"--option", "K=V", NULL, "evaluation-time method option, e.g. pi=4 for rotary", NULL, 0},
    {"--variant", "BASE+ITEM", NULL, "evaluation-time variant, rows named by it: rotary+pi=2, rotary+dyntk, alibi+window=256, "
     "rotary+logn (BASE: the checkpoint's method; docs/DEFINITIONS.md)", NULL, 0},
    {"--out", "CSV", NULL, "write rows here (atomically) instead of stdout", NULL, 0},
    {"--no-header", NULL, NULL, "omit the CSV header", NULL, 0},
    {"--threads", "N", "0", "threads (0 = all cores)", NULL, 0},
};
#define NEF NFLAGS(eval_flags)

/* One `posbench eval`: the model, what to score and where the rows go. */
typedef struct EvalJob {
    Model m;
    RunIdentity id;
    long L;                  /* the model's training length */
    const char *mode, *split_name, *spec;
    const char *label;       /* the method column: the checkpoint's method, or the variant's name */
    Variant variant, *var;   /* var: &variant when --variant is given, else NULL */
    int sliding;
    long lengths[64], stride; /* stride 0: L/2 */
    int n_len;
    Dataset ds;
    const DataSplit *sp;
    size_t N;                /* tokens scored + 1 */
    uint64_t bytes;          /* bytes those tokens cover (bits per byte) */
    FILE *out, *pos;         /* rows; per-position rows (NULL: none) */
} EvalJob;

/* --mode, --lengths (default L..16L) and --stride, checked. */
static void eval_read_lengths(EvalJob *job) {
    job->mode = flag_str(eval_flags, NEF, "--mode");
    job->sliding = !strcmp(job->mode, "sliding");
    if (!job->sliding && strcmp(job->mode, "nonoverlapping"))
        die_input("--mode: '%s' must be nonoverlapping or sliding", job->mode);
    const char *lens = flag_str(eval_flags, NEF, "--lengths");
    if (lens) {
        job->n_len = parse_int_list(lens, 1, 1 << 22, job->lengths, 64);
        if (job->n_len <= 0)
            die_input("--lengths: '%s' must be at most 64 comma-separated whole numbers from 1 to %d", lens, 1 << 22);
    } else {
        job->n_len = 5;
        for (int i = 0; i < 5; i++) job->lengths[i] = job->L << i;
    }
    if (flag_str(eval_flags, NEF, "--stride")) {
        if (!job->sliding) die_input("--stride applies to --mode sliding only");
        job->stride = flag_int(eval_flags, NEF, "--stride", 1, 1 << 22);
        for (int i = 0; i < job->n_len; i++)
            if (job->stride > job->lengths[i])
                die_input("--stride: %ld is larger than the window %ld", job->stride, job->lengths[i]);
    }
}

/* --variant: parsed, checked against the checkpoint's method; the rows' method column. */
static void eval_read_variant(EvalJob *job, const char *opt) {
    char err[ERRLEN];
    const char *vs = flag_str(eval_flags, NEF, "--variant");
    job->label = job->m.cfg.method;
    if (!vs) return;
    if (opt) die_input("--variant: not with --option (a variant names its options itself)");
    if (variant_parse_for(vs, job->m.cfg.method, &job->variant, err, sizeof err) != 0) die_input("--variant: %s", err);
    job->var = &job->variant;
    job->label = job->variant.name;
}

/* The data: the training corpus unless told otherwise; the held-out split named (a file's
 * or a folder's too: "all" only when asked for); the prefix scored. */
static void eval_open_data(EvalJob *job, const char *ckpt) {
    char err[ERRLEN];
    job->spec = flag_str(eval_flags, NEF, "--data") ? flag_str(eval_flags, NEF, "--data") : job->id.data;
    job->split_name = flag_str(eval_flags, NEF, "--split");
    if (strcmp(job->split_name, "valid") && strcmp(job->split_name, "test") && strcmp(job->split_name, "all"))
        die_input("--split: '%s' must be valid, test or all", job->split_name);
    const RunIdentity *id = &job->id;
    if (!strcmp(id->tokenizer, "bpe") && strcmp(job->spec, id->data)) {
        /* another text under the training corpus's BPE, not a BPE trained on it */
        Dataset train_ds;
        run_open_data(&train_ds, id->data, id->tokenizer, id->bpe_vocab, "--ckpt (its training data)");
        int rc = data_open_like(&job->ds, job->spec, &train_ds, err, sizeof err);
        data_close(&train_ds);
        if (rc == -1) die_input("--data: %s", err);
        if (rc != 0) die_internal("%s", err);
    } else {
        run_open_data(&job->ds, job->spec, id->tokenizer, id->bpe_vocab, "--data");
    }
    if (data_vocab(&job->ds) != job->m.cfg.vocab)
        die_input("--data: %s has vocabulary %d but %s was trained with %d", job->spec, data_vocab(&job->ds), ckpt,
                  job->m.cfg.vocab);
    job->sp = run_eval_split(&job->ds, job->spec, job->split_name, "--data");
    long max_tokens = flag_int(eval_flags, NEF, "--max-tokens", 1, 1L << 40), longest = 0;
    for (int i = 0; i < job->n_len; i++) longest = job->lengths[i] > longest ? job->lengths[i] : longest;
    if ((long)job->sp->n_tokens < longest + 1)
        die_input("--lengths: %ld is longer than the %s split of %s (%zu tokens)", longest, job->split_name, job->spec,
                  job->sp->n_tokens);
    job->N = job->sp->n_tokens;
    if ((long)job->N > max_tokens + 1) job->N = (size_t)(max_tokens + 1);
    if ((long)job->N < longest + 1) job->N = (size_t)longest + 1;   /* at least one full window */
    job->bytes = data_bytes_of(&job->ds, job->sp->tokens + 1, job->N - 1);
}

/* Window W: one results row (and its per-position rows); a length the model
 * cannot run at gives a row of nan. */
static void eval_length(EvalJob *job, long W) {
    Model *m = &job->m;
    const char *method = job->label;
    long L = job->L, S = job->sliding ? (job->stride ? job->stride : (L / 2 > 0 ? L / 2 : 1)) : W;
    if (S > W) S = W;
    char err[ERRLEN];
    if (job->var && variant_apply(m, job->var, W, err, sizeof err) != 0) die_input("--variant: %s", err);
    if (model_check_len(m, (int)W, err, sizeof err) != 0) {   /* e.g. a learned table shorter than W */
        fprintf(stderr, "eval: %s at %ld: not applicable: %s\n", method, W, err);
        for (char *c = err; *c; c++)   /* one CSV field */
            if (*c == ',' || *c == '\n' || *c == '"') *c = ';';
        fprintf(job->out, "%s,%ld,%d,%ld,%s,%ld,%s,0,nan,nan,nan,,,,n/a,%s\n", method, L, job->id.seed, W, job->mode,
                S, job->split_name, err);
        return;
    }
    double *pos_sum = NULL;
    long *pos_cnt = NULL;
    if (job->pos && !job->sliding) {
        pos_sum = xcalloc(W, sizeof(double));
        pos_cnt = xcalloc(W, sizeof(long));
    }
    char label[160], st[96];
    snprintf(label, sizeof label, "eval %s L=%ld W=%ld %s", method, L, W, job->mode);
    Progress pr;
    progress_start(&pr, label, (long)job->N - 1);
    EvalResult r;
    eval_stream(m, job->sp->tokens, job->N, W, S, pos_sum, pos_cnt, &r, &pr);
    double mean = r.nll / r.scored, tps = r.processed / (r.seconds > 0 ? r.seconds : 1e-9);
    snprintf(st, sizeof st, "ppl %.3f  %.1fk tok/s", exp(mean), tps / 1e3);
    progress_end(&pr, st);
    size_t cache_bytes = m->pos->cache_size ? m->pos->cache_size(&m->pcfg, m->pos_cache_len) * sizeof(float) : 0;
    double arena_mb = (model_bytes_params(m) + model_bytes_eval(m) + cache_bytes) / 1048576.0;
    int ok = isfinite(mean);   /* a diverged model's NaN/inf is a failure, not a number */
    fprintf(job->out, "%s,%ld,%d,%ld,%s,%ld,%s,%ld,%.6f,%.4f,%.5f,%.1f,%.1f,%.2f,%s\n", method, L, job->id.seed, W,
            job->mode, S, job->split_name, r.scored, mean, exp(mean), r.nll / log(2.0) / (double)job->bytes, tps,
            peak_rss_kb() / 1024.0, arena_mb, ok ? "ok," : "failed,non-finite NLL");
    fflush(job->out);
    if (pos_sum) {
        for (long p = 0; p < W; p++)
            if (pos_cnt[p])
                fprintf(job->pos, "%s,%ld,%d,%ld,%ld,%.5f\n", method, L, job->id.seed, W, p, pos_sum[p] / pos_cnt[p]);
        free(pos_sum);
        free(pos_cnt);
    }
}

int cmd_eval(int argc, char **argv) {
    flags_parse(eval_flags, NEF, argc, argv, &eval_cmd, NULL, 0);
    char err[ERRLEN];
    runtime_set_threads((int)flag_int(eval_flags, NEF, "--threads", 0, 1024));
    const char *ckpt = flag_str(eval_flags, NEF, "--ckpt"), *out_path = flag_str(eval_flags, NEF, "--out"),
               *pos_path = flag_str(eval_flags, NEF, "--per-position"), *opt = flag_str(eval_flags, NEF, "--option");
    if (!ckpt) die_input("--ckpt is required");
    if (out_path) run_check_out_file(out_path, "--out");
    if (pos_path) run_check_out_file(pos_path, "--per-position");
    EvalJob *job = xcalloc(1, sizeof(EvalJob));
    TrainState ts = {0};
    if (checkpoint_load(ckpt, &job->m, NULL, &ts, err, sizeof err) != 0) die_input("--ckpt: %s", err);
    run_identity_parse(&job->id, ts.extra_json);
    job->L = job->m.cfg.train_len;
    eval_read_lengths(job);
    if (opt && model_set_pos_options(&job->m, opt, err, sizeof err) != 0) die_input("--option: %s", err);
    eval_read_variant(job, opt);
    eval_open_data(job, ckpt);

    AtomicFile af = {0}, pf = {0};
    job->out = stdout;
    if (out_path) {
        if (atomic_open(&af, out_path, "w", err, sizeof err) != 0) die_input("--out: %s", err);
        job->out = af.fp;
    }
    if (pos_path && atomic_open(&pf, pos_path, "w", err, sizeof err) != 0) die_input("--per-position: %s", err);
    job->pos = pos_path ? pf.fp : NULL;
    if (!flag_on(eval_flags, NEF, "--no-header")) {
        runfile_header(job->out, results_cols, RC_N);
        if (pos_path) runfile_header(pf.fp, positions_cols, PC_N);
    }
    for (int i = 0; i < job->n_len; i++) eval_length(job, job->lengths[i]);
    if (out_path && atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
    if (pos_path && atomic_commit(&pf, err, sizeof err) != 0) die_internal("%s", err);
    model_free(&job->m);
    data_close(&job->ds);
    free(job);
    return 0;
}
