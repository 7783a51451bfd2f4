/* eval.c — `posbench eval` and the scoring loop of eval.h.
 *
 * Rows follow results.csv (SPEC §6). tokens_per_s counts tokens fed through the
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

int cmd_eval(int argc, char **argv) {
    Flag fl[] = {
        {"--ckpt", "FILE", NULL, "checkpoint (model.safetensors) to evaluate", NULL, 0},
        {"--lengths", "a,b,...", NULL, "evaluation window lengths (default: L, 2L, 4L, 8L, 16L)", NULL, 0},
        {"--mode", "M", "nonoverlapping", "nonoverlapping | sliding", NULL, 0},
        {"--stride", "S", NULL, "sliding stride, 1 <= S <= window (default: L/2)", NULL, 0},
        {"--data", "D", NULL, "corpus, prepared folder or text file (default: the training data)", NULL, 0},
        {"--split", "NAME", "valid", "valid | test (held out from training) | all (the whole text: only for text the model never saw)", NULL, 0},
        {"--max-tokens", "N", "32768", "score at most N tokens: a prefix of the split, the same for every length", NULL, 0},
        {"--per-position", "FILE", NULL, "also write per-position mean loss (nonoverlapping windows) as CSV", NULL, 0},
        {"--option", "K=V", NULL, "evaluation-time method option, e.g. pi=4 for rotary", NULL, 0},
        {"--out", "CSV", NULL, "write rows here (atomically) instead of stdout", NULL, 0},
        {"--no-header", NULL, NULL, "omit the CSV header", NULL, 0},
        {"--threads", "N", "0", "threads (0 = all cores)", NULL, 0},
    };
    int nf = NFLAGS(fl);
    flags_parse(fl, nf, argc, argv, &eval_cmd, NULL, 0);
    char err[ERRLEN];
    runtime_set_threads((int)flag_int(fl, nf, "--threads", 0, 1024));
    const char *ckpt = flag_str(fl, nf, "--ckpt");
    if (!ckpt) die_input("--ckpt is required");
    if (flag_str(fl, nf, "--out")) run_check_out_file(flag_str(fl, nf, "--out"), "--out");
    if (flag_str(fl, nf, "--per-position")) run_check_out_file(flag_str(fl, nf, "--per-position"), "--per-position");
    Model m;
    TrainState ts = {0};
    if (checkpoint_load(ckpt, &m, NULL, &ts, err, sizeof err) != 0) die_input("--ckpt: %s", err);
    RunIdentity id;
    run_identity_parse(&id, ts.extra_json);
    long L = m.cfg.train_len;

    const char *mode = flag_str(fl, nf, "--mode");
    int sliding = !strcmp(mode, "sliding");
    if (!sliding && strcmp(mode, "nonoverlapping")) die_input("--mode: '%s' must be nonoverlapping or sliding", mode);
    long lengths[64];
    int n_len;
    if (flag_str(fl, nf, "--lengths")) {
        n_len = parse_int_list(flag_str(fl, nf, "--lengths"), 1, 1 << 22, lengths, 64);
        if (n_len <= 0) die_input("--lengths: '%s' must be comma-separated whole numbers >= 1", flag_str(fl, nf, "--lengths"));
    } else {
        n_len = 5;
        for (int i = 0; i < 5; i++) lengths[i] = L << i;
    }
    long stride = 0;
    if (flag_str(fl, nf, "--stride")) {
        if (!sliding) die_input("--stride applies to --mode sliding only");
        stride = flag_int(fl, nf, "--stride", 1, 1 << 22);
        for (int i = 0; i < n_len; i++)
            if (stride > lengths[i]) die_input("--stride: %ld is larger than the window %ld", stride, lengths[i]);
    }
    const char *opt = flag_str(fl, nf, "--option");
    if (opt && model_set_pos_options(&m, opt, err, sizeof err) != 0) die_input("--option: %s", err);

    /* data: the training corpus unless told otherwise; the held-out split named (a file's or a
     * folder's too: "all" only when asked for) */
    const char *spec = flag_str(fl, nf, "--data") ? flag_str(fl, nf, "--data") : id.data;
    const char *split_name = flag_str(fl, nf, "--split");
    if (strcmp(split_name, "valid") && strcmp(split_name, "test") && strcmp(split_name, "all"))
        die_input("--split: '%s' must be valid, test or all", split_name);
    Dataset ds;
    if (!strcmp(id.tokenizer, "bpe") && strcmp(spec, id.data)) {
        /* another text under the training corpus's BPE, not a BPE trained on it */
        Dataset train_ds;
        run_open_data(&train_ds, id.data, id.tokenizer, id.bpe_vocab, "--ckpt (its training data)");
        int rc = data_open_like(&ds, spec, &train_ds, err, sizeof err);
        data_close(&train_ds);
        if (rc == -1) die_input("--data: %s", err);
        if (rc != 0) die_internal("%s", err);
    } else {
        run_open_data(&ds, spec, id.tokenizer, id.bpe_vocab, "--data");
    }
    if (data_vocab(&ds) != m.cfg.vocab)
        die_input("--data: %s has vocabulary %d but %s was trained with %d", spec, data_vocab(&ds), ckpt, m.cfg.vocab);
    const DataSplit *sp = run_eval_split(&ds, spec, split_name, "--data");
    long max_tokens = flag_int(fl, nf, "--max-tokens", 1, 1L << 40);
    long longest = 0;
    for (int i = 0; i < n_len; i++) longest = lengths[i] > longest ? lengths[i] : longest;
    if ((long)sp->n_tokens < longest + 1)
        die_input("--lengths: %ld is longer than the %s split of %s (%zu tokens)", longest, split_name, spec,
                  sp->n_tokens);
    size_t N = sp->n_tokens;
    if ((long)N > max_tokens + 1) N = (size_t)(max_tokens + 1);
    if ((long)N < longest + 1) N = (size_t)longest + 1;   /* at least one full window */
    uint64_t bytes = data_bytes_of(&ds, sp->tokens + 1, N - 1);

    FILE *out = stdout;
    AtomicFile af = {0}, pf = {0};
    const char *out_path = flag_str(fl, nf, "--out");
    if (out_path) {
        if (atomic_open(&af, out_path, "w", err, sizeof err) != 0) die_input("--out: %s", err);
        out = af.fp;
    }
    const char *pos_path = flag_str(fl, nf, "--per-position");
    if (pos_path && atomic_open(&pf, pos_path, "w", err, sizeof err) != 0) die_input("--per-position: %s", err);
    if (!flag_on(fl, nf, "--no-header")) {
        runfile_header(out, results_cols, RC_N);
        if (pos_path) runfile_header(pf.fp, positions_cols, PC_N);
    }
    for (int i = 0; i < n_len; i++) {
        long W = lengths[i], S = sliding ? (stride ? stride : (L / 2 > 0 ? L / 2 : 1)) : W;
        if (S > W) S = W;
        if (model_check_len(&m, (int)W, err, sizeof err) != 0) {   /* e.g. a learned table shorter than W */
            fprintf(stderr, "eval: %s at %ld: %s\n", m.cfg.method, W, err);
            fprintf(out, "%s,%ld,%d,%ld,%s,%ld,%s,0,nan,nan,nan,,,\n", m.cfg.method, L, id.seed, W, mode, S, split_name);
            continue;
        }
        double *pos_sum = NULL;
        long *pos_cnt = NULL;
        if (pos_path && !sliding) {
            pos_sum = xcalloc(W, sizeof(double));
            pos_cnt = xcalloc(W, sizeof(long));
        }
        char label[128];
        snprintf(label, sizeof label, "eval %s L=%ld W=%ld %s", m.cfg.method, L, W, mode);
        Progress pr;
        progress_start(&pr, label, (long)N - 1);
        EvalResult r;
        eval_stream(&m, sp->tokens, N, W, S, pos_sum, pos_cnt, &r, &pr);
        double mean = r.nll / r.scored, tps = r.processed / (r.seconds > 0 ? r.seconds : 1e-9);
        char st[96];
        snprintf(st, sizeof st, "ppl %.3f  %.1fk tok/s", exp(mean), tps / 1e3);
        progress_end(&pr, st);
        size_t cache_bytes = m.pos->cache_size ? m.pos->cache_size(&m.pcfg, m.pos_cache_len) * sizeof(float) : 0;
        double arena_mb = (model_bytes_params(&m) + model_bytes_eval(&m) + cache_bytes) / 1048576.0;
        fprintf(out, "%s,%ld,%d,%ld,%s,%ld,%s,%ld,%.6f,%.4f,%.5f,%.1f,%.1f,%.2f\n", m.cfg.method, L, id.seed, W, mode, S,
                split_name, r.scored, mean, exp(mean), r.nll / log(2.0) / (double)bytes, tps, peak_rss_kb() / 1024.0,
                arena_mb);
        fflush(out);
        if (pos_sum) {
            for (long p = 0; p < W; p++)
                if (pos_cnt[p]) fprintf(pf.fp, "%s,%ld,%d,%ld,%ld,%.5f\n", m.cfg.method, L, id.seed, W, p, pos_sum[p] / pos_cnt[p]);
            free(pos_sum);
            free(pos_cnt);
        }
    }
    if (out_path && atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
    if (pos_path && atomic_commit(&pf, err, sizeof err) != 0) die_internal("%s", err);
    model_free(&m);
    data_close(&ds);
    return 0;
}
