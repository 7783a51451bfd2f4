/* test_fixtures.c — the whole model against an independent PyTorch
 * implementation (tests/make_fixtures.py, float64, committed outputs in
 * tests/fixtures/model/<method>.safetensors), for every registered method:
 *   logits and loss (B 2, T 16), every parameter gradient, the loss and
 *   gradient norm along 10 AdamW steps with clipping, and per-token NLL of one
 *   160-token window (10x the training length) through the tiled evaluation.
 * Tolerances (float32 here vs float64 there):
 *   loss 1e-5 relative; logits 1e-4 of max|logit|; each gradient tensor
 *   1e-4 of its max |entry| (or of 1e-3 of the model's largest gradient entry,
 *   for a tensor whose gradient is exactly 0 in exact arithmetic); AdamW losses 1e-4 relative; long-window NLL 1e-4.
 * The worst errors reached are printed for the record. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "../model/model.h"
#include "../model/safetensors.h"

/* max |got - want| / max |want| */
static double rel_err(const float *got, const float *want, size_t n) {
    double md = 0, mw = 1e-12;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= md)) md = d;
        if (fabs(want[i]) > mw) mw = fabs(want[i]);
    }
    return md / mw;
}

static const StTensor *need(const StFile *f, const char *name, size_t numel, const char *method) {
    const StTensor *t = st_find(f, name);
    size_t n = 1;
    if (t)
        for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    CHECK(t && t->data && n == numel, "%s fixture: tensor %s missing or of the wrong size", method, name);
    return t && t->data && n == numel ? t : NULL;
}

static int meta_int(const StFile *f, const char *key) {
    const char *v = st_meta(f, key);
    return v ? atoi(v) : 0;
}

static void check_method(const char *method) {
    char path[512], err[ERRLEN];
    snprintf(path, sizeof path, "tests/fixtures/model/%s.safetensors", method);
    StFile f;
    if (st_read(&f, path, err, sizeof err) != 0) {
        CHECK(0, "read fixture: %s", err);
        return;
    }
    ModelConfig cfg = {.vocab = meta_int(&f, "vocab"), .n_layer = meta_int(&f, "n_layer"),
                       .n_head = meta_int(&f, "n_head"), .d_model = meta_int(&f, "d_model"),
                       .train_len = meta_int(&f, "train_len")};
    /* the method spec the fixture was made with (e.g. "xpos:gamma=32"), else the name */
    snprintf(cfg.method, sizeof cfg.method, "%s", st_meta(&f, "spec") ? st_meta(&f, "spec") : method);
    Model m;
    if (model_build(&m, &cfg, err, sizeof err) != 0) {
        CHECK(0, "%s fixture config: %s", method, err);
        st_free(&f);
        return;
    }
    int ok = 1;
    for (int i = 0; i < m.n_tensors; i++) {
        const StTensor *t = need(&f, m.tensors[i].name, m.tensors[i].numel, method);
        if (t) memcpy(m.params + m.tensors[i].offset, t->data, m.tensors[i].numel * sizeof(float));
        else ok = 0;
    }
    int B = meta_int(&f, "batch"), T = meta_int(&f, "seq_len"), V = cfg.vocab;
    const StTensor *ti = need(&f, "fixture.inputs", (size_t)B * T, method),
                   *tt = need(&f, "fixture.targets", (size_t)B * T, method),
                   *tl = need(&f, "fixture.logits", (size_t)B * T * V, method), *tloss = need(&f, "fixture.loss", 1, method),
                   *tad = need(&f, "fixture.adamw_losses", 11, method), *tgn = need(&f, "fixture.grad_norms", 10, method);
    if (!ok || !ti || !tt || !tl || !tloss || !tad || !tgn) {
        model_free(&m);
        st_free(&f);
        return;
    }
    int *in = xmalloc(sizeof(int) * B * T), *tg = xmalloc(sizeof(int) * B * T);
    for (int i = 0; i < B * T; i++) {
        in[i] = (int)ti->data[i];
        tg[i] = (int)tt->data[i];
    }
    /* forward: logits and loss */
    float loss = model_forward(&m, in, tg, B, T);
    double e_loss = fabs(loss - tloss->data[0]) / fabs(tloss->data[0]);
    CHECK(e_loss <= 1e-5, "%s loss %.8f vs PyTorch %.8f (rel %.2g)", method, loss, tloss->data[0], e_loss);
    double e_logits = rel_err(model_logits(&m), tl->data, (size_t)B * T * V);
    CHECK(e_logits <= 1e-4, "%s logits rel err %.2g", method, e_logits);
    /* backward: every parameter gradient */
    model_zero_grad(&m);
    model_backward(&m);
    double e_grad = 0, g_max = 0;   /* the largest |gradient| of the whole model */
    for (int i = 0; i < m.n_tensors; i++) {
        char gname[96];
        snprintf(gname, sizeof gname, "grad.%s", m.tensors[i].name);
        const StTensor *g = st_find(&f, gname);
        for (size_t k = 0; g && g->data && k < m.tensors[i].numel; k++) g_max = fmax(g_max, fabs(g->data[k]));
    }
    for (int i = 0; i < m.n_tensors; i++) {
        char gname[96];
        snprintf(gname, sizeof gname, "grad.%s", m.tensors[i].name);
        const StTensor *g = need(&f, gname, m.tensors[i].numel, method);
        if (!g) continue;
        /* relative to the tensor's largest entry, or to 1e-3 of the model's when the tensor's
         * gradient is that much smaller: FIRE's output bias b2 shifts every score of a row alike,
         * so softmax makes its exact gradient 0 and float leaves ~1e-9 */
        double e = rel_err(m.grads + m.tensors[i].offset, g->data, m.tensors[i].numel);
        double w = 0;
        for (size_t k = 0; k < m.tensors[i].numel; k++) w = fmax(w, fabs(g->data[k]));
        if (w < 1e-3 * g_max) e = e * fmax(w, 1e-12) / (1e-3 * g_max);
        CHECK(e <= 1e-4, "%s gradient of %s rel err %.2g", method, m.tensors[i].name, e);
        if (e > e_grad) e_grad = e;
    }
    /* 10 AdamW steps with clipping on the same batch */
    double lr = atof(st_meta(&f, "lr") ? st_meta(&f, "lr") : "0"), wd = atof(st_meta(&f, "weight_decay") ? st_meta(&f, "weight_decay") : "0"),
           clip = atof(st_meta(&f, "clip") ? st_meta(&f, "clip") : "0");
    AdamW opt;
    adamw_init(&opt, &m, (float)wd);
    float losses[11], norms[10];
    for (int s = 0; s < 10; s++) {
        losses[s] = model_forward(&m, in, tg, B, T);
        model_zero_grad(&m);
        model_backward(&m);
        norms[s] = grad_clip(&m, (float)clip);
        adamw_update(&opt, &m, (float)lr);
    }
    losses[10] = model_forward(&m, in, tg, B, T);
    double e_adam = rel_err(losses, tad->data, 11), e_norm = rel_err(norms, tgn->data, 10);
    CHECK(e_adam <= 1e-4, "%s AdamW loss trajectory rel err %.2g (final %.6f vs %.6f)", method, e_adam, losses[10],
          tad->data[10]);
    CHECK(e_norm <= 1e-4, "%s gradient norms along AdamW rel err %.2g", method, e_norm);
    adamw_free(&opt);
    /* one long window through the evaluation path (tiled attention), with the initial weights */
    double e_long = -1;
    int TL = meta_int(&f, "long_len");
    const StTensor *li = TL ? need(&f, "fixture.long.inputs", TL, method) : NULL,
                   *lt = TL ? need(&f, "fixture.long.targets", TL, method) : NULL,
                   *ln = TL ? need(&f, "fixture.long.nll", TL, method) : NULL;
    if (li && lt && ln) {
        for (int i = 0; i < m.n_tensors; i++)
            memcpy(m.params + m.tensors[i].offset, st_find(&f, m.tensors[i].name)->data, m.tensors[i].numel * sizeof(float));
        int *lin = xmalloc(sizeof(int) * TL), *ltg = xmalloc(sizeof(int) * TL);
        for (int i = 0; i < TL; i++) {
            lin[i] = (int)li->data[i];
            ltg[i] = (int)lt->data[i];
        }
        float *nll = xmalloc_floats(TL);
        model_eval_window(&m, lin, ltg, TL, nll);
        e_long = rel_err(nll, ln->data, TL);
        CHECK(e_long <= 1e-4, "%s per-token NLL at T=%d (10x L) rel err %.2g", method, TL, e_long);
        free(lin);
        free(ltg);
        free(nll);
    }
    printf("  fixture %-10s loss %.1e  logits %.1e  grads %.1e  adamw %.1e  norms %.1e  long %.1e\n", method, e_loss,
           e_logits, e_grad, e_adam, e_norm, e_long);
    free(in);
    free(tg);
    model_free(&m);
    st_free(&f);
}

/* Every registered method has a fixture (tests/make_fixtures.py --method NAME). */
void test_fixtures(void) {
    for (int k = 0; k < pos_method_count; k++) check_method(pos_methods[k]->name);
}
