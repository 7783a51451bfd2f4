/* test_layers.c — per-layer compositions (methods/layers.c): the spec (items,
 * options per layer, errors, label), a composition of one method in every
 * layer equal to that method exactly (forward, loss, every gradient, the tiled
 * evaluation), each layer reading its own parameters, and a checkpoint that
 * reloads to the same model. Gradients of compositions against finite
 * differences are test_model.c's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "../model/checkpoint.h"
#include "../model/model.h"

extern const PosMethod pos_rotary;

static void test_spec(void) {
    PosConfig c = {.n_head = 2, .head_dim = 8, .d_model = 16, .train_len = 16, .n_layer = 4};
    const PosMethod *m = NULL;
    char err[ERRLEN];
    CHECK(pos_spec_parse("layers=rotary+rotary+rotary+nope", &m, &c, err, sizeof err) == 0 && m == &pos_layers,
          "layers=rotary+rotary+rotary+nope parses: %s", err);
    CHECK(c.layers && !strcmp(pos_layers_label(&c), "Rotary\xc3\x97" "3+NoPE"), "label '%s'",
          c.layers ? pos_layers_label(&c) : "");
    CHECK(pos_spec_label("layers=rotary:pi=2+alibi") && !strcmp(pos_spec_label("layers=rotary:pi=2+alibi"),
                                                                "Rotary (pi=2)+ALiBi"),
          "label with options per layer");
    static const struct { const char *spec; const char *want; } bad[] = {
        {"layers=rotary+nope", "names 2 layers, but the model has n_layer = 4"},
        {"layers=rotary+nope+nope+bogus", "layer 3: unknown method 'bogus'"},
        {"layers=rotary++nope+nope", "every layer needs a method"},
        {"layers=", "every layer needs a method"},
        {"layers=sinusoidal+nope+nope+nope", "not per layer"},
        {"layers=rotary:pi=0.5+nope+nope+nope", "layer 0: method 'rotary': pi"},
        {"layers=layers=nope+nope+nope+nope", "cannot be nested"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        err[0] = '\0';
        CHECK(pos_spec_parse(bad[k].spec, &m, &c, err, sizeof err) == -1 && strstr(err, bad[k].want),
              "'%s' refused with '%s' (got '%s')", bad[k].spec, bad[k].want, err);
    }
    CHECK(pos_spec_check("layers=rotary+nope", err, sizeof err) == 0, "any layer count without a model");
    CHECK(pos_spec_check_layers("layers=rotary+nope", 3, err, sizeof err) == -1, "layer count checked with a model");
    /* a plain spec after a composition leaves no composition behind */
    CHECK(pos_spec_parse("alibi", &m, &c, err, sizeof err) == 0 && c.layers == NULL, "plain spec clears layers");
}

typedef struct Pair { Model a, b; int *in, *tg; } Pair;

static void build(Model *m, const char *method, uint64_t seed) {
    ModelConfig cfg = {.vocab = 32, .n_layer = 4, .n_head = 2, .d_model = 16, .train_len = 8};
    snprintf(cfg.method, sizeof cfg.method, "%s", method);
    char err[ERRLEN];
    CHECK(model_build(m, &cfg, err, sizeof err) == 0, "model_build %s: %s", method, err);
    model_init_weights(m, seed);
}

/* layers=M+M+M+M is M, bit for bit: same initial weights, loss, logits,
 * gradients and tiled evaluation. */
static void check_same_as(const char *composition, const char *method) {
    enum { B = 2, T = 9, TE = 150 };
    Model a, b;
    build(&a, composition, 5);
    build(&b, method, 5);
    CHECK(a.n_params == b.n_params && !memcmp(a.params, b.params, sizeof(float) * a.n_params),
          "%s: the same initial weights as %s", composition, method);
    int in[TE], tg[TE];
    Rng r;
    rng_seed(&r, 9);
    for (int i = 0; i < TE; i++) in[i] = (int)(rng_u64(&r) % 32), tg[i] = (int)(rng_u64(&r) % 32);
    float la = model_forward(&a, in, tg, B, T), lb = model_forward(&b, in, tg, B, T);
    model_zero_grad(&a), model_zero_grad(&b);
    model_backward(&a), model_backward(&b);
    CHECK(la == lb && !memcmp(model_logits(&a), model_logits(&b), sizeof(float) * B * T * 32),
          "%s: loss %.9g and logits equal %s's (%.9g)", composition, la, method, lb);
    CHECK(!memcmp(a.grads, b.grads, sizeof(float) * a.n_params), "%s: every gradient equals %s's", composition, method);
    float na[TE], nb[TE];
    double ta = model_eval_window(&a, in, tg, TE, na), tb = model_eval_window(&b, in, tg, TE, nb);
    CHECK(ta == tb && !memcmp(na, nb, sizeof na), "%s: tiled evaluation at T=%d equals %s's", composition, TE, method);
    model_free(&a);
    model_free(&b);
}

/* Each layer reads its own tensors: changing layer 1's KERPLE parameters
 * changes the loss, and a gradient reaches every layer's. */
static void check_own_params(void) {
    Model m;
    build(&m, "layers=kerple_log+kerple_log+nope+t5", 3);
    int nt = m.pos_nt;
    CHECK(nt == 5, "kerple_log x2 (r1, r2 each) + t5 table: 5 tensors, got %d", nt);
    int in[16], tg[16];
    for (int i = 0; i < 16; i++) in[i] = i % 7, tg[i] = (i * 5) % 11;
    model_forward(&m, in, tg, 2, 8);
    model_zero_grad(&m);
    model_backward(&m);
    for (int k = 0; k < nt; k++) {
        const Tensor *t = NULL;
        for (int q = 0; q < m.n_tensors; q++)
            if (m.tensors[q].offset == (size_t)(m.pos_p[k] - m.params)) t = &m.tensors[q];
        double g = 0;
        for (size_t i = 0; t && i < t->numel; i++) g += fabs(m.grads[t->offset + i]);
        CHECK(t && g > 0, "composition tensor %d (%s) gets a gradient", k, t ? t->name : "?");
    }
    CHECK(m.pos_p[2] != m.pos_p[0], "layer 1's r1 is not layer 0's");
    model_free(&m);
}

/* A composition's checkpoint reloads to the same model and loss. */
static void check_checkpoint(void) {
    Model m, m2;
    build(&m, "layers=fox+rotary:pi=2+alibi+t5", 4);
    char path[64], err[ERRLEN];
    snprintf(path, sizeof path, "/tmp/posbench_layers_%d.safetensors", (int)getpid());
    CHECK(checkpoint_save(path, &m, NULL, NULL, err, sizeof err) == 0, "save: %s", err);
    int rc = checkpoint_load(path, &m2, NULL, NULL, err, sizeof err);
    CHECK(rc == 0, "load: %s", err);
    if (rc == 0) {
        CHECK(!strcmp(m2.cfg.method, m.cfg.method) && m2.pos == &pos_layers && m2.n_params == m.n_params &&
                  !memcmp(m.params, m2.params, sizeof(float) * m.n_params),
              "composition checkpoint round-trips");
        int in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, tg[8] = {2, 3, 4, 5, 6, 7, 8, 9};
        CHECK(model_forward(&m, in, tg, 1, 8) == model_forward(&m2, in, tg, 1, 8), "same loss after reload");
        model_free(&m2);
    }
    unlink(path);
    model_free(&m);
}

void test_layers(void) {
    test_spec();
    check_same_as("layers=alibi+alibi+alibi+alibi", "alibi");
    check_same_as("layers=rotary+rotary+rotary+rotary", "rotary");
    check_same_as("layers=nope+nope+nope+nope", "nope");
    check_own_params();
    check_checkpoint();
}
