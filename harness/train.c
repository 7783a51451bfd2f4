/* train.c — `posbench train`: one model, one method, one training length, one
 * seed. Writes DIR/model.safetensors (the model) and DIR/train_state.safetensors
 * (AdamW state, step, data-generator state), together, every ckpt_every steps
 * and at the end), DIR/train.csv
 * (written before each checkpoint, so it never lags it) and DIR/train.json
 * (the summary; its presence marks the run finished). --resume continues a
 * killed run and reaches the same final loss as an uninterrupted one: model,
 * optimiser, schedule step and batch generator are all restored, and every
 * reduction in the step is deterministic.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "../common/csv.h"
#include "../common/runfiles.h"
#include "../model/checkpoint.h"
#include "run_common.h"
#include "runtime.h"

typedef struct TrainRow {
    long step, tokens;
    float loss, lr, grad_norm, tokens_per_s;
    float val_loss;   /* mean loss on the validation slice at this step; NAN when not measured */
} TrainRow;

typedef struct TrainLog {
    TrainRow *rows;
    int n, cap;
} TrainLog;

static void log_push(TrainLog *lg, TrainRow r) {
    if (lg->n == lg->cap) lg->rows = xrealloc(lg->rows, sizeof(TrainRow) * (lg->cap = lg->cap ? 2 * lg->cap : 256));
    lg->rows[lg->n++] = r;
}

/* Keep the rows of an earlier attempt up to `step` (the checkpoint being resumed). */
static void log_read(TrainLog *lg, const char *path, long step) {
    char err[ERRLEN];
    Csv c;
    if (csv_load(&c, path, err, sizeof err) != 0) return;
    int col[TC_N];
    for (int k = 0; k < TC_N; k++) col[k] = csv_col(&c, train_cols[k]);
    for (int i = 0; i < c.nrow; i++) {
        const char *step_s = csv_get(&c, i, col[TC_STEP]);
        if (!*step_s || col[TC_LOSS] < 0) continue;
        TrainRow r = {.step = strtol(step_s, NULL, 10), .tokens = strtol(csv_get(&c, i, col[TC_TOKENS]), NULL, 10),
                      .loss = strtof(csv_get(&c, i, col[TC_LOSS]), NULL), .lr = strtof(csv_get(&c, i, col[TC_LR]), NULL),
                      .grad_norm = strtof(csv_get(&c, i, col[TC_GRAD_NORM]), NULL),
                      .tokens_per_s = strtof(csv_get(&c, i, col[TC_TOKENS_PER_S]), NULL), .val_loss = NAN};
        const char *v = csv_get(&c, i, col[TC_VAL_LOSS]);
        if (*v) r.val_loss = strtof(v, NULL);
        if (r.step <= step) log_push(lg, r);
    }
    csv_free(&c);
}

static void log_write(const TrainLog *lg, const char *path, const char *method, long L, int seed) {
    AtomicFile af;
    char err[ERRLEN];
    if (atomic_open(&af, path, "w", err, sizeof err) != 0) die_internal("%s", err);
    runfile_header(af.fp, train_cols, TC_N);
    for (int i = 0; i < lg->n; i++) {
        const TrainRow *r = &lg->rows[i];
        fprintf(af.fp, "%s,%ld,%d,%ld,%ld,%.6f,%.6g,%.6f,%.1f,", method, L, seed, r->step, r->tokens, r->loss, r->lr,
                r->grad_norm, r->tokens_per_s);
        if (isfinite(r->val_loss)) fprintf(af.fp, "%.6f", r->val_loss);
        fputc('\n', af.fp);
    }
    if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
}

static void save_checkpoint(const char *dir, const Model *m, const AdamW *opt, const TrainState *ts,
                            const TrainLog *lg, const char *method, long L, int seed) {
    char path[4200], err[ERRLEN];
    snprintf(path, sizeof path, "%s/train.csv", dir);
    log_write(lg, path, method, L, seed);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (checkpoint_save(path, m, opt, ts, err, sizeof err) != 0) die_internal("%s", err);
}

/* The validation slice: the first n_win windows of length T of the valid split, scored
 * as nonoverlapping windows (input tokens [wT, wT+T), targets shifted by one), in batches
 * of at most B windows through the training forward pass. Fixed for the whole run, so
 * every point of the curve scores the same text. */
typedef struct ValSlice {
    const DataSplit *split;   /* NULL: no validation */
    long n_win;
} ValSlice;

static ValSlice val_slice(const Dataset *ds, const RunConfig *cfg, int T) {
    ValSlice v = {NULL, 0};
    if (cfg->val_every <= 0) return v;
    const DataSplit *sp = data_split(ds, "valid");
    if (!sp || sp->n_tokens < (size_t)T + 1) {
        fprintf(stderr, "train: no valid split of at least %d tokens in %s: no validation curve\n", T + 1, cfg->data);
        return v;
    }
    long avail = (long)((sp->n_tokens - 1) / (size_t)T), want = cfg->val_tokens / T;
    v.split = sp;
    v.n_win = want < 1 ? 1 : want < avail ? want : avail;
    return v;
}

/* Mean next-token loss (nats) over the slice; inputs, targets: scratch (B, T). */
static float val_loss(Model *m, const ValSlice *v, int B, int T, int *inputs, int *targets) {
    double sum = 0.0;
    for (long w0 = 0; w0 < v->n_win; w0 += B) {
        int nb = (int)(v->n_win - w0 < B ? v->n_win - w0 : B);
        for (int b = 0; b < nb; b++)
            for (int t = 0; t < T; t++) {
                size_t at = (size_t)(w0 + b) * T + t;
                inputs[b * T + t] = v->split->tokens[at];
                targets[b * T + t] = v->split->tokens[at + 1];
            }
        sum += (double)model_forward(m, inputs, targets, nb, T) * nb;
    }
    return (float)(sum / (double)v->n_win);
}

static const Command train_cmd = {"train", "", "train one model with one position method", NULL};

int cmd_train(int argc, char **argv) {
    Flag fl[] = {
        {"--method", "M", NULL, "position method spec: NAME or NAME:key=value:... (see posbench methods)", NULL, 0},
        {"--preset", "P", "quick", "preset under harness/presets: tiny, quick, paper", NULL, 0},
        {"--config", "FILE", NULL, "config file of 'key = value' lines overriding the preset", NULL, 0},
        {"--set", "K=V;...", NULL, "override config keys, e.g. \"lr=1e-3;batch=16\"", NULL, 0},
        {"--train-len", "L", NULL, "training length (default: the config's first train_lens)", NULL, 0},
        {"--steps", "N", NULL, "training steps (default: the config's steps)", NULL, 0},
        {"--data", "D", NULL, "corpus name, prepared folder or text file (default: the config's data)", NULL, 0},
        {"--seed", "S", "1", "seed of the initial weights and of the batch order", NULL, 0},
        {"--out", "DIR", NULL, "output folder (default: runs/train-METHOD-L-sSEED)", NULL, 0},
        {"--resume", NULL, NULL, "continue from DIR/model.safetensors", NULL, 0},
        {"--threads", "N", NULL, "threads (default: the config's threads; 0 = all cores)", NULL, 0},
    };
    int nf = NFLAGS(fl);
    flags_parse(fl, nf, argc, argv, &train_cmd, NULL, 0);
    const char *method = flag_str(fl, nf, "--method");
    if (!method) die_input("--method is required (valid: %s)", pos_method_names());
    char why[ERRLEN];
    if (pos_spec_check(method, why, sizeof why) != 0) die_input("--method: %s", why);
    RunConfig cfg;
    run_config_resolve(&cfg, flag_str(fl, nf, "--preset"), flag_str(fl, nf, "--config"), flag_str(fl, nf, "--set"));
    if (flag_str(fl, nf, "--data")) config_set(&cfg, "data", flag_str(fl, nf, "--data"), "--data");
    if (flag_str(fl, nf, "--steps")) cfg.steps = (int)flag_int(fl, nf, "--steps", 1, 10000000);
    if (flag_str(fl, nf, "--threads")) cfg.threads = (int)flag_int(fl, nf, "--threads", 0, 1024);
    long L = flag_str(fl, nf, "--train-len") ? flag_int(fl, nf, "--train-len", 2, 1 << 20) : cfg.train_lens[0];
    int seed = (int)flag_int(fl, nf, "--seed", 0, 1000000);
    int resume = flag_on(fl, nf, "--resume");
    char dir[4096];
    if (flag_str(fl, nf, "--out")) snprintf(dir, sizeof dir, "%s", flag_str(fl, nf, "--out"));
    else snprintf(dir, sizeof dir, "runs/train-%s-%ld-s%d", method, L, seed);
    return train_run(&cfg, method, L, seed, dir, resume);
}

int train_run(const RunConfig *cfg, const char *method, long L, int seed, const char *dir, int resume) {
    char err[ERRLEN], path[4200];
    runtime_set_threads(cfg->threads);
    run_check_out_path(dir, "--out", 100);
    if (mkdir_p(dir, err, sizeof err) != 0) die_input("--out: %s", err);
    run_lock_folder(dir, "--out");
    snprintf(path, sizeof path, "%s/train.json", dir);
    if (path_exists(path) && resume) {
        fprintf(stderr, "train: %s is already complete (train.json present); nothing to do\n", dir);
        return 0;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int have_ckpt = path_exists(path);
    if (have_ckpt && !resume)
        die_input("--out: %s already holds a checkpoint; pass --resume to continue it or choose another folder", dir);

    Dataset ds;
    run_open_data(&ds, cfg->data, cfg->tokenizer, cfg->bpe_vocab, "--data");
    const DataSplit *train = data_split(&ds, "train");
    if (!train) die_input("--data: %s has no train split", cfg->data);
    if (data_check_window(train, (int)L, err, sizeof err) != 0) die_input("--train-len: %s", err);

    Model m;
    AdamW opt;
    TrainState ts = {0};
    Rng data_rng;
    RunIdentity id = {.seed = seed, .bpe_vocab = cfg->bpe_vocab};
    snprintf(id.data, sizeof id.data, "%s", cfg->data);
    snprintf(id.tokenizer, sizeof id.tokenizer, "%s", data_tokenizer(&ds));
    snprintf(id.dataset_hash, sizeof id.dataset_hash, "%s", data_hash(&ds));
    TrainLog lg = {0};
    if (have_ckpt) {
        if (checkpoint_load(path, &m, &opt, &ts, err, sizeof err) != 0) die_input("--resume: %s", err);
        if (strcmp(m.cfg.method, method) || m.cfg.train_len != L || m.cfg.vocab != data_vocab(&ds) ||
            m.cfg.n_layer != cfg->n_layer || m.cfg.n_head != cfg->n_head || m.cfg.d_model != cfg->d_model)
            die_input("--resume: %s is a model of method %s, L %d, vocab %d, %d layers, %d heads, d_model %d, not %s, "
                      "L %ld, vocab %d, %d layers, %d heads, d_model %d", path, m.cfg.method, m.cfg.train_len,
                      m.cfg.vocab, m.cfg.n_layer, m.cfg.n_head, m.cfg.d_model, method, L, data_vocab(&ds),
                      cfg->n_layer, cfg->n_head, cfg->d_model);
        if (ts.step > cfg->steps)
            die_input("--steps: %s is already at step %ld, beyond --steps %d; nothing to train", path, ts.step,
                      cfg->steps);
        run_check_resume(path, ts.extra_json, &id, cfg, L);
        data_rng.s = ts.data_rng;
        snprintf(path, sizeof path, "%s/train.csv", dir);
        log_read(&lg, path, ts.step);
        fprintf(stderr, "train: resuming %s at step %ld of %d\n", dir, ts.step, cfg->steps);
    } else {
        ModelConfig mc = {.vocab = data_vocab(&ds), .n_layer = cfg->n_layer, .n_head = cfg->n_head,
                          .d_model = cfg->d_model, .train_len = (int)L};
        snprintf(mc.method, sizeof mc.method, "%s", method);
        if (model_build(&m, &mc, err, sizeof err) != 0) die_input("config: %s", err);
        model_init_weights(&m, (uint64_t)seed);
        adamw_init(&opt, &m, (float)cfg->weight_decay);
        rng_seed(&data_rng, 0x5eed0000ull + (uint64_t)seed);
    }
    run_identity_json(&id, cfg, ts.extra_json, sizeof ts.extra_json);

    int B = config_batch(cfg, L), T = (int)L;
    int *inputs = xmalloc(sizeof(int) * B * T), *targets = xmalloc(sizeof(int) * B * T);
    model_reserve_train(&m, B, T);
    ValSlice val = val_slice(&ds, cfg, T);
    /* fault injection for the tests: a hard kill (resume test), a diverged loss (NaN test) */
    const char *kill_at = getenv("POSBENCH_KILL_AT_STEP"), *nan_at = getenv("POSBENCH_NAN_AT_STEP");
    char label[128];
    snprintf(label, sizeof label, "train %s L=%ld seed=%d", method, L, seed);
    Progress pr;
    progress_start(&pr, label, cfg->steps);
    double t_train = 0.0, t_start = now_seconds(), t_log = 0.0, loss_acc = 0.0;
    long tokens_log = 0, steps_log = 0;
    float loss = NAN, norm = 0;
    long start_step = ts.step, saved_step = ts.step;   /* the step the file on disk holds */
    for (long step = ts.step; step < cfg->steps; step++) {
        double t0 = now_seconds();
        float lr = lr_schedule(step, cfg->warmup, cfg->steps, (float)cfg->lr, (float)cfg->lr_min);
        data_batch(train, &data_rng, B, T, inputs, targets);
        loss = model_forward(&m, inputs, targets, B, T);
        if (nan_at && atol(nan_at) == step + 1) loss = NAN;
        model_zero_grad(&m);
        model_backward(&m);
        norm = grad_clip(&m, (float)cfg->clip);
        if (!isfinite(loss) || !isfinite(norm)) {
            fprintf(stderr, "\n");
            die_internal("training diverged at step %ld (loss %g, gradient norm %g); the last good checkpoint "
                         "%s/model.safetensors (step %ld) is kept; try a lower lr",
                         step + 1, loss, norm, dir, saved_step);
        }
        adamw_update(&opt, &m, lr);
        double dt = now_seconds() - t0;
        t_train += dt;
        t_log += dt;
        loss_acc += loss;
        steps_log++;
        tokens_log += (long)B * T;
        long done = step + 1;
        int val_now = val.split && (done % cfg->val_every == 0 || done == cfg->steps);
        if (done % cfg->log_every == 0 || done == cfg->steps || val_now) {
            float vl = val_now ? val_loss(&m, &val, B, T, inputs, targets) : NAN;
            log_push(&lg, (TrainRow){done, done * B * T, (float)(loss_acc / steps_log), lr, norm,
                                     (float)(tokens_log / t_log), vl});
            loss_acc = 0;
            steps_log = 0;
            tokens_log = 0;
            t_log = 0;
        }
        ts.step = done;
        ts.data_rng = data_rng.s;
        if (done % cfg->ckpt_every == 0 || done == cfg->steps) {
            save_checkpoint(dir, &m, &opt, &ts, &lg, method, L, seed);
            saved_step = done;
        }
        char status[96];
        snprintf(status, sizeof status, "loss %.3f  %.1fk tok/s", loss, (double)B * T / dt / 1000.0);
        progress_update(&pr, done, status);
        if (kill_at && atol(kill_at) == done) raise(SIGKILL);
    }
    char status[96];
    double tps = t_train > 0 ? (double)B * T * (cfg->steps - start_step) / t_train : 0;
    snprintf(status, sizeof status, "loss %.3f", loss);
    progress_end(&pr, status);

    snprintf(path, sizeof path, "%s/train.json", dir);
    TrainSummary sum = {.train_len = L, .tokens = (long)cfg->steps * B * T, .seed = seed, .steps = cfg->steps,
                        .threads = runtime_threads(), .resumed = have_ckpt,
                        .final_loss = isfinite(loss) ? loss : (float)(lg.n ? lg.rows[lg.n - 1].loss : 0),
                        .tokens_per_s = tps, .wall_s = now_seconds() - t_start, .peak_rss_mb = peak_rss_kb() / 1024.0,
                        .params = m.n_params, .bytes_params = model_bytes_params(&m),
                        .bytes_train_acts = model_bytes_train_acts(&m)};
    snprintf(sum.method, sizeof sum.method, "%s", method);
    snprintf(sum.build, sizeof sum.build, "%s", runtime_build_info());
    if (train_summary_write(path, &sum, err, sizeof err) != 0) die_internal("%s", err);
    free(inputs);
    free(targets);
    free(lg.rows);
    adamw_free(&opt);
    model_free(&m);
    data_close(&ds);
    return 0;
}
