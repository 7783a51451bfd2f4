/* test_model.c — the whole model, every method: parameter gradients against
 * finite differences; the long-window evaluation path (tiled attention, one
 * layer of scratch, chunked logits) against the training forward; the
 * optimiser and schedule against their definitions. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "gradcheck.h"
#include "../model/model.h"
#include "../model/ops.h"
#include "../model/gemm_bf16.h"

typedef struct ModelCase {
    Model m;
    int B, T;
    int *in, *tg;
} ModelCase;

static void case_build(ModelCase *c, const char *method, int B, int T, uint64_t seed) {
    ModelConfig cfg = {.vocab = 32, .n_layer = 2, .n_head = 2, .d_model = 16, .train_len = T};
    snprintf(cfg.method, sizeof cfg.method, "%s", method);
    char err[ERRLEN];
    int rc = model_build(&c->m, &cfg, err, sizeof err);
    CHECK(rc == 0, "model_build %s: %s", method, err);
    model_init_weights(&c->m, seed);
    /* larger weights than the 0.02 init so every path carries a visible gradient */
    Rng rng;
    rng_seed(&rng, seed + 1);
    for (size_t i = 0; i < c->m.n_params; i++) c->m.params[i] += 0.2f * rng_normal(&rng);
    c->B = B;
    c->T = T;
    c->in = xmalloc(sizeof(int) * B * T);
    c->tg = xmalloc(sizeof(int) * B * T);
    for (int i = 0; i < B * T; i++) {
        c->in[i] = (int)(rng_u64(&rng) % 32);
        c->tg[i] = (int)(rng_u64(&rng) % 32);
    }
}

static void case_free(ModelCase *c) {
    model_free(&c->m);
    free(c->in);
    free(c->tg);
}

static double loss_fn(void *p) {
    ModelCase *c = p;
    return model_forward(&c->m, c->in, c->tg, c->B, c->T);
}

static void check_model_grads(const char *method) {
    ModelCase c;
    case_build(&c, method, 2, 7, 7);
    model_forward(&c.m, c.in, c.tg, c.B, c.T);
    model_zero_grad(&c.m);
    model_backward(&c.m);
    /* a few entries of every tensor */
    size_t idx[4 * 40], n = 0;
    Rng rng;
    rng_seed(&rng, 3);
    for (int t = 0; t < c.m.n_tensors && n + 4 <= sizeof idx / sizeof idx[0]; t++)
        for (int k = 0; k < 4; k++) idx[n++] = c.m.tensors[t].offset + rng_u64(&rng) % c.m.tensors[t].numel;
    char what[96];
    snprintf(what, sizeof what, "%s whole-model parameter gradients", method);
    gradcheck(what, loss_fn, &c, c.m.params, c.m.grads, c.m.n_params, idx, n, 2e-3, 1e-2, __FILE__, __LINE__);
    /* the method's own parameters, every entry */
    if (c.m.pos_numel) {
        size_t pidx[256], np = 0;
        for (size_t i = 0; i < c.m.pos_numel && np < 256; i++) pidx[np++] = c.m.pos_offset + i;
        snprintf(what, sizeof what, "%s position-parameter gradients", method);
        /* A method with kinks (FIRE) has position gradients of ~1e-3 here, near the float loss's
         * resolution (FLT_EPSILON |loss| / eps ~ 3e-4): its floor is 100 times that resolution.
         * Its exact check is the method-level one (test_methods.c) and the float64 fixture. */
        double floor = c.m.pos->fd.near_kink ? 100 * FLT_EPSILON * fabs(c.m.loss) / 2e-3 : 1e-3;
        gradcheck_floor(what, loss_fn, &c, c.m.params, c.m.grads, c.m.n_params, pidx, np, 2e-3, 1e-2, floor, __FILE__,
                        __LINE__);
    }
    case_free(&c);
}

static void check_eval_matches_forward(const char *method, int T) {
    ModelCase c;
    case_build(&c, method, 1, T, 11);
    model_forward(&c.m, c.in, c.tg, 1, T);
    float *nll = xmalloc_floats(T);
    double total = model_eval_window(&c.m, c.in, c.tg, T, nll);
    char what[96];
    snprintf(what, sizeof what, "%s eval window vs training forward, T=%d", method, T);
    CHECK_CLOSE(what, nll, c.m.token_loss, T, 1e-4, 1e-5);
    CHECK(fabs(total / T - c.m.loss) < 1e-4 * (1 + c.m.loss), "%s eval total %.6f vs loss %.6f", method, total / T,
          c.m.loss);
    free(nll);
    case_free(&c);
}

/* model_train_grads over 1..B shards against one forward and backward of the whole batch:
 * the same loss and gradients up to float rounding (the shards' sums are added in another
 * order), bitwise the same for one shard, and bitwise repeatable for any shard count. Replicas
 * are reused across calls, including a shorter second batch. */
static void check_data_parallel(const char *method, int bf16) {
    ops_set_bf16(bf16);
    ModelCase c;
    case_build(&c, method, 5, 9, 13);
    float *want = xmalloc_floats(c.m.n_params), *again = xmalloc_floats(c.m.n_params);
    for (int T = 9; T >= 6; T -= 3) {
        float loss = model_forward(&c.m, c.in, c.tg, c.B, T);
        model_zero_grad(&c.m);
        model_backward(&c.m);
        memcpy(want, c.m.grads, sizeof(float) * c.m.n_params);
        for (int shards = 1; shards <= c.B; shards++) {
            c.m.shards = shards;
            CHECK(model_train_shards(&c.m, c.B) == shards, "%s: %d shards asked, %d used", method, shards,
                  model_train_shards(&c.m, c.B));
            float got = model_train_grads(&c.m, c.in, c.tg, c.B, T);
            char what[128];
            snprintf(what, sizeof what, "%s%s: gradients over %d shards vs the whole batch, T=%d", method,
                     bf16 ? " (bf16 products)" : "", shards, T);
            if (shards == 1) {
                CHECK(got == loss && !memcmp(c.m.grads, want, sizeof(float) * c.m.n_params), "%s (bitwise)", what);
                continue;
            }
            CHECK(fabsf(got - loss) <= 1e-6f * fabsf(loss), "%s: loss %.8f vs %.8f", what, got, loss);
            CHECK_CLOSE(what, c.m.grads, want, c.m.n_params, 1e-4, 1e-6);
            memcpy(again, c.m.grads, sizeof(float) * c.m.n_params);
            float got2 = model_train_grads(&c.m, c.in, c.tg, c.B, T);
            CHECK(got2 == got && !memcmp(c.m.grads, again, sizeof(float) * c.m.n_params),
                  "%s: a second call gives the same bits", what);
        }
        c.m.shards = 0;
    }
    CHECK(model_train_shards(&c.m, 1) == 1, "%s: one sequence is one shard", method);
    free(want);
    free(again);
    case_free(&c);
    ops_set_bf16(0);
}

/* model_train_step against model_train_grads, grad_clip and adamw_update in turn: the same
 * bits for 1 and 2 shards, with clipping active (max_norm 0.05) and not (100); a non-finite
 * gradient leaves the parameters and the optimiser untouched. */
static void check_train_step(const char *method) {
    ModelCase a, b;
    case_build(&a, method, 4, 8, 17);
    case_build(&b, method, 4, 8, 17);
    AdamW oa, ob;
    adamw_init(&oa, &a.m, 0.1f);
    adamw_init(&ob, &b.m, 0.1f);
    int same = 1;
    for (int step = 0; step < 4; step++) {
        int shards = 1 + step % 2;
        float clip = step < 2 ? 0.05f : 100.0f, lr = 1e-2f;
        a.m.shards = b.m.shards = shards;
        float la = model_train_grads(&a.m, a.in, a.tg, a.B, a.T), na = grad_clip(&a.m, clip);
        adamw_update(&oa, &a.m, lr);
        float lb, nb;
        int up = model_train_step(&b.m, &ob, b.in, b.tg, b.B, b.T, lr, clip, &lb, &nb);
        same &= up && la == lb && na == nb && oa.step == ob.step &&
                !memcmp(a.m.params, b.m.params, sizeof(float) * a.m.n_params) &&
                !memcmp(oa.v, ob.v, sizeof(float) * a.m.n_params);
        int zero = b.m.grads_clear;   /* the update cleared the gradient as it read it */
        for (size_t i = 0; zero && i < b.m.n_params; i++) zero = b.m.grads[i] == 0.0f;
        CHECK(zero, "%s: after an update (%d shards) the grads are zero and marked clear", method, shards);
    }
    CHECK(same, "%s: model_train_step gives the bits of model_train_grads, grad_clip, adamw_update", method);
    b.m.params[0] = NAN;   /* a NaN in tok_emb reaches the loss and the gradient */
    b.in[0] = 0;
    float *p0 = xmalloc_floats(b.m.n_params), lb, nb;
    memcpy(p0, b.m.params, sizeof(float) * b.m.n_params);
    long steps = ob.step;
    int up = model_train_step(&b.m, &ob, b.in, b.tg, b.B, b.T, 1e-2f, 1.0f, &lb, &nb);
    CHECK(!up && ob.step == steps && !memcmp(p0, b.m.params, sizeof(float) * b.m.n_params) && !isfinite(lb),
          "%s: a NaN loss is refused before the update (loss %g, norm %g)", method, lb, nb);
    CHECK(!b.m.grads_clear, "%s: a refused step keeps its gradient (not marked clear)", method);
    free(p0);
    adamw_free(&oa);
    adamw_free(&ob);
    case_free(&a);
    case_free(&b);
}

static void check_adamw(void) {
    ModelCase c;
    case_build(&c, "nope", 1, 4, 5);
    AdamW o;
    adamw_init(&o, &c.m, 0.1f);
    for (size_t i = 0; i < c.m.n_params; i++) c.m.grads[i] = 0.01f * (float)((int)(i % 7) - 3);
    float *p0 = xmalloc_floats(c.m.n_params);
    memcpy(p0, c.m.params, c.m.n_params * sizeof(float));
    float lr = 0.01f;
    adamw_update(&o, &c.m, lr);
    adamw_update(&o, &c.m, lr);
    /* reference for two steps with a constant gradient g: m_t = (1-b1^t) g, v_t = (1-b2^t) g^2,
     * so mhat = g, vhat = g^2 and each step is p <- p (1 - lr wd) - lr g / (|g| + eps) */
    int ok_decay = 1, ok_nodecay = 1;
    for (int t = 0; t < c.m.n_tensors; t++) {
        const Tensor *ten = &c.m.tensors[t];
        for (size_t j = 0; j < ten->numel; j++) {
            size_t i = ten->offset + j;
            double g = c.m.grads[i], p = p0[i], dec = ten->decay ? 1.0 - lr * 0.1 : 1.0;
            double step = g == 0 ? 0 : lr * g / (fabs(g) + 1e-8);
            for (int s = 0; s < 2; s++) p = p * dec - step;
            int ok = fabs(c.m.params[i] - p) <= 1e-6 + 1e-5 * fabs(p);
            if (ten->decay) ok_decay &= ok; else ok_nodecay &= ok;
        }
    }
    CHECK(ok_decay, "AdamW with weight decay on 2-D tensors matches the closed form");
    CHECK(ok_nodecay, "AdamW without weight decay on 1-D tensors matches the closed form");
    /* clipping: norm reported before, grads scaled to max_norm after */
    double s = 0;
    for (size_t i = 0; i < c.m.n_params; i++) s += (double)c.m.grads[i] * c.m.grads[i];
    float norm = grad_clip(&c.m, 0.05f);
    double s2 = 0;
    for (size_t i = 0; i < c.m.n_params; i++) s2 += (double)c.m.grads[i] * c.m.grads[i];
    CHECK(fabs(norm - sqrt(s)) < 1e-6 * sqrt(s), "grad_clip returns the norm before clipping (%.9g, %.9g)", norm, sqrt(s));
    /* the chunk sums against one long double sum, at a length that leaves a tail past the lanes */
    long nt = 2 * GRAD_NORM_CHUNK + 37;
    float *gt = xmalloc_floats((size_t)nt);
    for (long i = 0; i < nt; i++) gt[i] = (float)((i * 7919 % 1000) - 500) * 1e-3f;
    long double want = 0;
    double got = 0;
    for (long i = 0; i < nt; i++) want += (long double)gt[i] * gt[i];
    for (long k = 0; k < grad_norm_chunks(nt); k++) got += grad_sq_chunk(gt, nt, k);
    CHECK(fabsl(got - want) <= 1e-13L * want, "grad_sq_chunk: sum of squares %.17g, want %.17Lg", got, want);
    free(gt);
    CHECK(fabs(sqrt(s2) - 0.05) < 1e-4, "grad_clip scales the norm to max_norm (%.6f)", sqrt(s2));
    free(p0);
    adamw_free(&o);
    case_free(&c);
    /* schedule: warm-up linear, cosine to the floor */
    CHECK(fabsf(lr_schedule(0, 10, 100, 1e-3f, 1e-4f) - 1e-4f) < 1e-9f, "lr warm-up step 0 = lr_max/warmup");
    CHECK(fabsf(lr_schedule(9, 10, 100, 1e-3f, 1e-4f) - 1e-3f) < 1e-9f, "lr warm-up reaches lr_max");
    CHECK(fabsf(lr_schedule(55, 10, 100, 1e-3f, 1e-4f) - 5.5e-4f) < 1e-8f, "lr cosine midpoint");
    CHECK(fabsf(lr_schedule(100, 10, 100, 1e-3f, 1e-4f) - 1e-4f) < 1e-9f, "lr floor at the end");
}

static void check_bad_config(void) {
    Model m;
    char err[ERRLEN];
    ModelConfig bad = {.vocab = 256, .n_layer = 2, .n_head = 3, .d_model = 32, .train_len = 16, .method = "alibi"};
    CHECK(model_build(&m, &bad, err, sizeof err) != 0 && strstr(err, "n_head"), "d_model not divisible: %s", err);
    ModelConfig unk = {.vocab = 256, .n_layer = 2, .n_head = 4, .d_model = 32, .train_len = 16, .method = "nosuch"};
    CHECK(model_build(&m, &unk, err, sizeof err) != 0 && strstr(err, "alibi"), "unknown method lists valid: %s", err);
}

/* The documented init: tok_emb N(0, 1/C); other matrices N(0, 0.02), residual
 * projections N(0, 0.02/sqrt(2 n_layer)); LayerNorm weights 1, biases 0. */
static double tensor_std(const Model *m, const char *name) {
    const Tensor *t = model_find_tensor(m, name);
    if (!t) return -1;
    double ss = 0;
    for (size_t i = 0; i < t->numel; i++) ss += (double)m->params[t->offset + i] * m->params[t->offset + i];
    return sqrt(ss / (double)t->numel);
}

static void check_init(void) {
    ModelConfig cfg = {.vocab = 256, .n_layer = 4, .n_head = 4, .d_model = 64, .train_len = 16};
    snprintf(cfg.method, sizeof cfg.method, "alibi");
    Model m;
    char err[ERRLEN];
    if (model_build(&m, &cfg, err, sizeof err) != 0) { CHECK(0, "model_build: %s", err); return; }
    model_init_weights(&m, 3);
    double te = tensor_std(&m, "tok_emb"), qkv = tensor_std(&m, "blocks.0.attn.qkv.weight"),
           proj = tensor_std(&m, "blocks.0.attn.proj.weight");
    CHECK(fabs(te - 0.125) < 0.125 * 0.03, "tok_emb std %.4f, want 1/sqrt(64) = 0.125", te);
    CHECK(fabs(qkv - 0.02) < 0.02 * 0.03, "qkv std %.5f, want 0.02", qkv);
    CHECK(fabs(proj - 0.02 / sqrt(8.0)) < 0.02 / sqrt(8.0) * 0.05, "residual proj std %.5f, want 0.02/sqrt(8)", proj);
    const Tensor *ln = model_find_tensor(&m, "blocks.0.ln1.weight");
    CHECK(ln && m.params[ln->offset] == 1.0f, "LayerNorm weight 1");
    model_free(&m);
}

void test_model(void) {
    check_init();
    for (int i = 0; i < pos_method_count; i++) {
        check_model_grads(pos_methods[i]->name);
        check_data_parallel(pos_methods[i]->name, 0);
        check_eval_matches_forward(pos_methods[i]->name, 7);
        check_eval_matches_forward(pos_methods[i]->name, check_quick ? 70 : 300);
    }
    /* per-layer compositions (methods/layers.c): each layer's own parameters, options and tables */
    static const char *const compositions[] = {"layers=rotary+nope", "layers=t5+kerple_log", "layers=fox+kerple_power",
                                               "layers=xpos:gamma=64+alibi"};
    for (size_t i = 0; i < sizeof compositions / sizeof compositions[0]; i++) {
        check_model_grads(compositions[i]);
        check_data_parallel(compositions[i], 0);
        check_eval_matches_forward(compositions[i], 7);
        check_eval_matches_forward(compositions[i], check_quick ? 70 : 300);
    }
    if (gemm_bf16_available()) check_data_parallel("rotary", 1);   /* products on each thread's own buffers */
    check_train_step("alibi");
    check_train_step("t5");
    check_adamw();
    check_bad_config();
}
