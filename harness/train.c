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
#include "../model/ops.h"
#include "probe.h"
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
        {"--preset", "P", "quick", "preset under harness/presets: tiny, quick, paper, headline", NULL, 0},
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

/* One training run: what it trains, its state and the step log. */
typedef struct Trainer {
    const RunConfig *cfg;
    const char *method, *dir;
    long L;
    int seed, have_ckpt, B, T;
    Dataset ds;
    const DataSplit *train;
    Model m;
    AdamW opt;
    TrainState ts;
    Rng data_rng;
    RunIdentity id;
    TrainLog lg;
    ValSlice val;
    int *inputs, *targets;
    long saved_step;          /* the step the checkpoint on disk holds */
    const char *kill_at, *nan_at; /* fault injection for the tests: a hard kill (resume), a diverged loss (NaN) */
    const char *precision;    /* the products as run (runtime_use_precision) */
    /* since the last logged row */
    double t_log, loss_acc;
    long tokens_log, steps_log;
} Trainer;

/* The model, optimiser and batch generator: from the checkpoint in DIR when
 * there is one (checked to belong to this run), else fresh from the seed. */
static void train_restore_or_init(Trainer *tr) {
    const RunConfig *cfg = tr->cfg;
    char err[ERRLEN], path[4200];
    Model *m = &tr->m;
    snprintf(path, sizeof path, "%s/model.safetensors", tr->dir);
    if (!tr->have_ckpt) {
        ModelConfig mc = {.vocab = data_vocab(&tr->ds), .n_layer = cfg->n_layer, .n_head = cfg->n_head,
                          .d_model = cfg->d_model, .train_len = (int)tr->L};
        snprintf(mc.method, sizeof mc.method, "%s", tr->method);
        if (model_build(m, &mc, err, sizeof err) != 0) die_input("config: %s", err);
        model_init_weights(m, (uint64_t)tr->seed);
        adamw_init(&tr->opt, m, (float)cfg->weight_decay);
        rng_seed(&tr->data_rng, 0x5eed0000ull + (uint64_t)tr->seed);
        return;
    }
    if (checkpoint_load(path, m, &tr->opt, &tr->ts, err, sizeof err) != 0) die_input("--resume: %s", err);
    if (strcmp(m->cfg.method, tr->method) || m->cfg.train_len != tr->L || m->cfg.vocab != data_vocab(&tr->ds) ||
        m->cfg.n_layer != cfg->n_layer || m->cfg.n_head != cfg->n_head || m->cfg.d_model != cfg->d_model)
        die_input("--resume: %s is a model of method %s, L %d, vocab %d, %d layers, %d heads, d_model %d, not %s, "
                  "L %ld, vocab %d, %d layers, %d heads, d_model %d", path, m->cfg.method, m->cfg.train_len,
                  m->cfg.vocab, m->cfg.n_layer, m->cfg.n_head, m->cfg.d_model, tr->method, tr->L,
                  data_vocab(&tr->ds), cfg->n_layer, cfg->n_head, cfg->d_model);
    if (tr->ts.step > cfg->steps)
        die_input("--steps: %s is already at step %ld, beyond --steps %d; nothing to train", path, tr->ts.step,
                  cfg->steps);
    run_check_resume(path, tr->ts.extra_json, &tr->id, cfg, tr->L);
    tr->data_rng.s = tr->ts.data_rng;
    snprintf(path, sizeof path, "%s/train.csv", tr->dir);
    log_read(&tr->lg, path, tr->ts.step);
    fprintf(stderr, "train: resuming %s at step %ld of %d\n", tr->dir, tr->ts.step, tr->cfg->steps);
}

/* The folder checked and locked, the data opened; 1 when the run is already complete. */
static int train_open(Trainer *tr, int resume) {
    char err[ERRLEN], path[4200];
    const RunConfig *cfg = tr->cfg;
    run_check_out_path(tr->dir, "--out", 100);
    if (mkdir_p(tr->dir, err, sizeof err) != 0) die_input("--out: %s", err);
    run_lock_folder(tr->dir, "--out");
    snprintf(path, sizeof path, "%s/train.json", tr->dir);
    if (path_exists(path) && resume) {
        fprintf(stderr, "train: %s is already complete (train.json present); nothing to do\n", tr->dir);
        return 1;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", tr->dir);
    tr->have_ckpt = path_exists(path);
    if (tr->have_ckpt && !resume)
        die_input("--out: %s already holds a checkpoint; pass --resume to continue it or choose another folder", tr->dir);
    run_open_data(&tr->ds, cfg->data, cfg->tokenizer, cfg->bpe_vocab, "--data");
    tr->train = data_split(&tr->ds, "train");
    if (!tr->train) die_input("--data: %s has no train split", cfg->data);
    if (data_check_window(tr->train, (int)tr->L, err, sizeof err) != 0) die_input("--train-len: %s", err);
    tr->id = (RunIdentity){.seed = tr->seed, .bpe_vocab = cfg->bpe_vocab};
    snprintf(tr->id.data, sizeof tr->id.data, "%s", cfg->data);
    snprintf(tr->id.tokenizer, sizeof tr->id.tokenizer, "%s", data_tokenizer(&tr->ds));
    snprintf(tr->id.dataset_hash, sizeof tr->id.dataset_hash, "%s", data_hash(&tr->ds));
    return 0;
}

/* A log row every log_every steps, at the end and whenever the held-out loss is measured. */
static void train_log(Trainer *tr, long done, float lr, float norm) {
    const RunConfig *cfg = tr->cfg;
    int val_now = tr->val.split && (done % cfg->val_every == 0 || done == cfg->steps);
    if (!(done % cfg->log_every == 0 || done == cfg->steps || val_now)) return;
    int B = tr->B, T = tr->T;
    float vl = val_now ? val_loss(&tr->m, &tr->val, B, T, tr->inputs, tr->targets) : NAN;
    log_push(&tr->lg, (TrainRow){done, done * B * T, (float)(tr->loss_acc / tr->steps_log), lr, norm,
                                 (float)(tr->tokens_log / tr->t_log), vl});
    tr->loss_acc = 0;
    tr->steps_log = 0;
    tr->tokens_log = 0;
    tr->t_log = 0;
}

/* train_copy_mix: each window, with probability mix, gets a random string planted twice
 * (probe_plant_copy on its T + 1 tokens). Draws from the batch generator, whose state the
 * checkpoint keeps, so a resumed run plants the same strings. */
static void train_mix_copies(int *inputs, int *targets, int B, int T, double mix, Rng *rng) {
    int *x = xmalloc(sizeof(int) * (size_t)(T + 1));
    for (int b = 0; b < B; b++) {
        if (rng_uniform(rng) >= mix) continue;
        int *in = inputs + (size_t)b * T, *tg = targets + (size_t)b * T;
        memcpy(x, in, sizeof(int) * (size_t)T);
        x[T] = tg[T - 1];
        probe_plant_copy(x, T + 1, 16, rng);
        memcpy(in, x, sizeof(int) * (size_t)T);
        memcpy(tg, x + 1, sizeof(int) * (size_t)T);
    }
    free(x);
}

/* Step `step` (0-based): batch, forward, backward, clip, AdamW, log, checkpoint.
 * Returns the loss; *dt gets the step's seconds. Exits on divergence. */
static float train_step(Trainer *tr, long step, double *dt) {
    const RunConfig *cfg = tr->cfg;
    int B = tr->B, T = tr->T;
    double t0 = now_seconds();
    float lr = lr_schedule(step, cfg->warmup, cfg->steps, (float)cfg->lr, (float)cfg->lr_min);
    data_batch(tr->train, &tr->data_rng, B, T, tr->inputs, tr->targets);
    if (cfg->train_copy_mix > 0) train_mix_copies(tr->inputs, tr->targets, B, T, cfg->train_copy_mix, &tr->data_rng);
    float loss, norm;
    int updated = model_train_step(&tr->m, &tr->opt, tr->inputs, tr->targets, B, T, lr, (float)cfg->clip, &loss, &norm);
    if (tr->nan_at && atol(tr->nan_at) == step + 1) loss = NAN;   /* fault injection: this update is never saved */
    if (!updated || !isfinite(loss)) {
        fprintf(stderr, "\n");
        die_internal("training diverged at step %ld (loss %g, gradient norm %g); the last good checkpoint "
                     "%s/model.safetensors (step %ld) is kept; try a lower lr",
                     step + 1, loss, norm, tr->dir, tr->saved_step);
    }
    *dt = now_seconds() - t0;
    tr->t_log += *dt;
    tr->loss_acc += loss;
    tr->steps_log++;
    tr->tokens_log += (long)B * T;
    long done = step + 1;
    train_log(tr, done, lr, norm);
    tr->ts.step = done;
    tr->ts.data_rng = tr->data_rng.s;
    if (done % cfg->ckpt_every == 0 || done == cfg->steps) {
        save_checkpoint(tr->dir, &tr->m, &tr->opt, &tr->ts, &tr->lg, tr->method, tr->L, tr->seed);
        tr->saved_step = done;
    }
    return loss;
}

/* DIR/train.json: the summary whose presence marks the run finished. */
static void train_write_summary(Trainer *tr, float loss, double tps, double t_start) {
    char path[4200], err[ERRLEN];
    snprintf(path, sizeof path, "%s/train.json", tr->dir);
    const TrainLog *lg = &tr->lg;
    TrainSummary sum = {.train_len = tr->L, .tokens = (long)tr->cfg->steps * tr->B * tr->T, .seed = tr->seed,
                        .steps = tr->cfg->steps, .threads = runtime_threads(), .resumed = tr->have_ckpt,
                        .final_loss = isfinite(loss) ? loss : (float)(lg->n ? lg->rows[lg->n - 1].loss : 0),
                        .tokens_per_s = tps, .wall_s = now_seconds() - t_start, .peak_rss_mb = peak_rss_kb() / 1024.0,
                        .params = tr->m.n_params, .bytes_params = model_bytes_params(&tr->m),
                        .bytes_train_acts = model_bytes_train_acts(&tr->m)};
    snprintf(sum.method, sizeof sum.method, "%s", tr->method);
    snprintf(sum.build, sizeof sum.build, "%s", runtime_build_info());
    snprintf(sum.precision, sizeof sum.precision, "%s", tr->precision);
    snprintf(sum.blas_core, sizeof sum.blas_core, "%s", runtime_blas_core());
    if (train_summary_write(path, &sum, err, sizeof err) != 0) die_internal("%s", err);
}

int train_run(const RunConfig *cfg, const char *method, long L, int seed, const char *dir, int resume) {
    runtime_set_threads(cfg->threads);
    Trainer *tr = xcalloc(1, sizeof(Trainer));
    *tr = (Trainer){.cfg = cfg, .method = method, .dir = dir, .L = L, .seed = seed};
    if (train_open(tr, resume)) {
        free(tr);
        return 0;
    }
    train_restore_or_init(tr);
    tr->precision = runtime_use_precision(cfg->precision);
    run_identity_json(&tr->id, cfg, tr->ts.extra_json, sizeof tr->ts.extra_json);
    int B = tr->B = config_batch(cfg, L), T = tr->T = (int)L;
    tr->inputs = xmalloc(sizeof(int) * B * T);
    tr->targets = xmalloc(sizeof(int) * B * T);
    model_reserve_train(&tr->m, B, T);
    tr->val = val_slice(&tr->ds, cfg, T);
    tr->kill_at = getenv("POSBENCH_KILL_AT_STEP");
    tr->nan_at = getenv("POSBENCH_NAN_AT_STEP");
    runtime_kernel_notice();   /* once input is known good: a faster kernel set, when one is known (runtime.h) */
    char label[160], status[96];
    snprintf(label, sizeof label, "train %s L=%ld seed=%d%s", method, L, seed, ops_bf16() ? " bf16" : "");
    Progress pr;
    progress_start(&pr, label, cfg->steps);
    double t_train = 0.0, t_start = now_seconds();
    float loss = NAN;
    long start_step = tr->ts.step;
    tr->saved_step = tr->ts.step;
    for (long step = tr->ts.step; step < cfg->steps; step++) {
        double dt;
        loss = train_step(tr, step, &dt);
        t_train += dt;
        snprintf(status, sizeof status, "loss %.3f  %.1fk tok/s", loss, (double)B * T / dt / 1000.0);
        progress_update(&pr, step + 1, status);
        if (tr->kill_at && atol(tr->kill_at) == step + 1) raise(SIGKILL);
    }
    double tps = t_train > 0 ? (double)B * T * (cfg->steps - start_step) / t_train : 0;
    if (start_step < cfg->steps) snprintf(status, sizeof status, "loss %.3f", loss);
    else snprintf(status, sizeof status, "checkpoint already at its last step; train.json written");   /* killed just before */
    progress_end(&pr, status);
    train_write_summary(tr, loss, tps, t_start);
    ops_set_bf16(0);
    free(tr->inputs);
    free(tr->targets);
    free(tr->lg.rows);
    adamw_free(&tr->opt);
    model_free(&tr->m);
    data_close(&tr->ds);
    free(tr);
    return 0;
}
