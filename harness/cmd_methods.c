/* cmd_methods.c — `posbench methods`: the registry as a table (name, hooks,
 * parameter count at a reference config, description, options); and
 * `posbench inspect METHOD`: the method's position tensors as CSV, computed
 * through the hooks themselves (so it shows exactly what the model adds):
 *   bias methods   head,i,j,bias[,extra columns]  for 0 <= j <= i < T
 *   embed methods  pos,dim,value                  PE(p)[c]
 *   qk methods     pos,i,cos,sin                  the hook applied to unit vectors e_i:
 *                                                 cos = out[i], sin = out[i + hs/2]
 * With --ckpt the configuration and learned values come from a checkpoint.
 * The Command structs are local: this file is also linked into the test binary,
 * which has no main.c and so no posbench_commands table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "../methods/method.h"
#include "../model/checkpoint.h"
#include "../common/util.h"

static const Command methods_cmd = {"methods", "", "list position methods: name, hooks, parameter count, description",
                                    cmd_methods};
static const Command inspect_cmd = {"inspect", "METHOD", "print a method's position tensors as CSV", cmd_inspect};

/* `posbench methods METHOD`: everything the registry knows about one method. */
static void methods_detail(const PosMethod *m, const PosConfig *cfg) {
    char hooks[32];
    pos_hooks_string(m, hooks, sizeof hooks);
    printf("%s — %s\n  label     %s\n  citation  %s\n  family    %s\n  hooks     %s\n", m->name, m->summary,
           cfg->layers ? pos_layers_label(cfg) : m->label, m->citation, pos_family_name(m->family), hooks);
    int nt;
    PosTensor *t = pos_tensor_list(m, cfg, &nt);
    printf("  tensors   %s(at %d heads, head dim %d, %d layers)\n", nt ? "" : "none ", cfg->n_head, cfg->head_dim,
           cfg->n_layer);
    for (int k = 0; k < nt; k++) {
        char shape[32];
        if (t[k].ndim == 2) snprintf(shape, sizeof shape, "{%d, %d}", t[k].shape[0], t[k].shape[1]);
        else snprintf(shape, sizeof shape, "{%d}", t[k].shape[0]);
        printf("    %-28s %-12s %-9s %s\n", t[k].name, shape, cfg->layers ? "one layer" : t[k].per_layer ? "per layer" : "shared",
               t[k].decay ? "weight decay" : "no weight decay");
    }
    free(t);
    int no = pos_option_count(m);
    printf("  options   %s\n", no ? "(training: --method NAME:key=value:...; evaluation: --option key=value,...)" : "none");
    for (int k = 0; k < no; k++) {
        const PosOption *o = &m->options[k];
        printf("    %-12s %-7s default %-8g range %g..%g  %-14s %s\n", o->key, o->type == 'i' ? "integer" : "real",
               o->def, o->lo, o->hi, o->at_eval ? "train and eval" : "training only", o->help);
    }
    printf("  finite-difference check: step %g, tolerance %g%s\n", m->fd.eps > 0 ? m->fd.eps : 1e-2,
           m->fd.tol > 0 ? m->fd.tol : 1e-3, m->fd.near_kink ? ", parameters redrawn away from kinks" : "");
}

int cmd_methods(int argc, char **argv) {
    Flag flags[] = {
        {"--heads", "N", "4", "heads of the reference config the parameter counts are for", NULL, 0},
        {"--head-dim", "N", "32", "head dim of that config (d_model = heads x head-dim)", NULL, 0},
        {"--layers", "N", "4", "layers of that config (per-layer tensors have this many copies)", NULL, 0},
    };
    const char *pos[1] = {NULL};
    int npos = flags_parse(flags, NFLAGS(flags), argc, argv, &methods_cmd, pos, 1);
    PosConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.n_head = (int)flag_int(flags, NFLAGS(flags), "--heads", 1, 1024);
    cfg.head_dim = (int)flag_int(flags, NFLAGS(flags), "--head-dim", 1, 4096);
    cfg.n_layer = (int)flag_int(flags, NFLAGS(flags), "--layers", 1, 64);
    cfg.d_model = cfg.n_head * cfg.head_dim;
    cfg.train_len = 1024;
    if (npos == 1) {
        const PosMethod *m = pos_method_find(pos[0]);
        char err[ERRLEN];
        if (pos_is_layers_spec(pos[0])) {   /* a composition: its tensors at --layers layers */
            if (pos_spec_parse(pos[0], &m, &cfg, err, sizeof err) != 0) die_input("methods: %s", err);
            methods_detail(m, &cfg);
            return 0;
        }
        if (!m) die_input("methods: unknown method '%s' (valid: %s)", pos[0], pos_method_names());
        pos_options_default(m, &cfg);
        methods_detail(m, &cfg);
        return 0;
    }
    printf("%-13s %-12s %-14s %-10s %8s  %s\n", "name", "label", "family", "hooks", "params", "description");
    for (int k = 0; k < pos_method_count; k++) {
        const PosMethod *m = pos_methods[k];
        char hooks[32];
        pos_hooks_string(m, hooks, sizeof hooks);
        pos_options_default(m, &cfg);
        printf("%-13s %-12s %-14s %-10s %8zu  %s\n", m->name, m->label, pos_family_name(m->family), hooks,
               pos_param_count(m, &cfg), m->summary);
    }
    printf("\nparams at %d heads, head dim %d, %d layers (d_model %d); change with --heads/--head-dim/--layers.\n",
           cfg.n_head, cfg.head_dim, cfg.n_layer, cfg.d_model);
    printf("options: `posbench methods METHOD` lists a method's options, tensors and citation;\n"
           "  give them at training as a method spec, e.g. --method rotary:yarn_beta=16, and those marked\n"
           "  'train and eval' at evaluation with --option key=value,...\n");
    printf("per layer: a spec layers=M0+M1+... gives layer l the method Ml (one item per layer, options per\n"
           "  item), e.g. --method layers=rotary+rotary+rotary+nope (\"Rotary\xc3\x97" "3+NoPE\") or\n"
           "  methods = alibi,layers=rotary:pi=2+alibi in a preset; each layer has its own parameters;\n"
           "  `posbench methods layers=...` shows its tensors. Absolute methods act once, not per layer.\n");
    printf("\nsee methods/README.md for the formulas; `posbench inspect METHOD` prints their values.\n");
    return 0;
}

/* The hook `inspect` shows: --hook if given, else the method's first of bias, qk, embed. */
static const char *inspect_pick_hook(const PosMethod *m, const char *want) {
    const char *have[4];
    int n = 0;
    if (m->bias_add) have[n++] = "bias";
    if (m->qk_forward) have[n++] = "qk";
    if (m->embed_forward) have[n++] = "embed";
    if (m->tensors) have[n++] = "params";
    if (!want) {
        if (n > 1 + !!m->tensors) fprintf(stderr, "posbench: %s has %d hooks; showing '%s' (choose with --hook)\n", m->name, n, have[0]);
        return n ? have[0] : NULL;
    }
    for (int k = 0; k < n; k++)
        if (strcmp(have[k], want) == 0) return have[k];
    char hooks[32];
    pos_hooks_string(m, hooks, sizeof hooks);
    die_input("--hook: %s has no '%s' hook (its hooks: %s%s)", m->name, want, hooks, m->tensors ? ", params" : "");
}

static void inspect_bias(const PosMethod *m, const PosCtx *ctx, int T) {
    float *row = xmalloc_floats((size_t)T);   /* (T): one query row, keys 0..i */
    char extra[256];
    printf("head,i,j,bias%s%s\n", m->inspect_columns ? "," : "", m->inspect_columns ? m->inspect_columns : "");
    for (int h = 0; h < ctx->cfg.n_head; h++)
        for (int i = 0; i < T; i++) {
            memset(row, 0, sizeof(float) * (size_t)(i + 1));
            m->bias_add(row, T, h, i, 1, 0, i + 1, ctx);
            for (int j = 0; j <= i; j++) {
                printf("%d,%d,%d,%.9g", h, i, j, row[j]);
                if (m->inspect_values) {
                    m->inspect_values(extra, sizeof extra, h, i, j, ctx);
                    printf(",%s", extra);
                }
                putchar('\n');
            }
        }
    free(row);
}

static void inspect_embed(const PosMethod *m, const PosCtx *ctx, int T) {
    const int C = ctx->cfg.d_model;
    float *x = xmalloc_floats((size_t)T * C);   /* (T, C) zeros + PE */
    m->embed_forward(x, T, ctx);
    printf("pos,dim,value\n");
    for (int p = 0; p < T; p++)
        for (int c = 0; c < C; c++) printf("%d,%d,%.9g\n", p, c, x[(size_t)p * C + c]);
    free(x);
}

/* q of head 0; a method whose transform differs for k or by head would need a
 * --head/--key flag here. */
static void inspect_qk(const PosMethod *m, const PosCtx *ctx, int T) {
    const int hs = ctx->cfg.head_dim, half = hs / 2;
    float *x = xmalloc_floats((size_t)T * hs);                                   /* (T, hs) */
    float *cs = xmalloc_floats((size_t)T * half), *sn = xmalloc_floats((size_t)T * half);   /* (T, hs/2) */
    for (int i = 0; i < half; i++) {
        memset(x, 0, sizeof(float) * (size_t)T * hs);
        for (int p = 0; p < T; p++) x[(size_t)p * hs + i] = 1.0f;   /* e_i at every position */
        m->qk_forward(x, T, 0, 0, ctx);
        for (int p = 0; p < T; p++) {
            cs[(size_t)p * half + i] = x[(size_t)p * hs + i];
            sn[(size_t)p * half + i] = x[(size_t)p * hs + i + half];
        }
    }
    printf("pos,i,cos,sin\n");
    for (int p = 0; p < T; p++)
        for (int i = 0; i < half; i++)
            printf("%d,%d,%.9g,%.9g\n", p, i, cs[(size_t)p * half + i], sn[(size_t)p * half + i]);
    free(x);
    free(cs);
    free(sn);
}

/* Every learned value, per layer: "layer,tensor,row,col,value" (row is the
 * head for tensors of NH rows, e.g. FoX's gate bias or KERPLE's r1). p(l)[k]
 * is tensor k as layer l sees it; a shared tensor is printed once, as layer -1. */
static void inspect_params(const PosMethod *m, const PosConfig *cfg, const float *const *(*p)(void *, int), void *arg,
                           int n_layer) {
    int nt;
    PosTensor *t = pos_tensor_list(m, cfg, &nt);
    printf("layer,tensor,row,col,value\n");
    for (int k = 0; k < nt; k++)
        for (int l = 0; l < (t[k].per_layer ? n_layer : 1); l++) {
            const float *x = p(arg, l)[k];
            int cols = t[k].ndim > 1 ? t[k].shape[1] : 1;
            for (int r = 0; r < t[k].shape[0]; r++)
                for (int c = 0; c < cols; c++)
                    printf("%d,%s,%d,%d,%.9g\n", t[k].per_layer ? l : -1, t[k].name, r, c, x[(size_t)r * cols + c]);
        }
    free(t);
}

static const float *const *model_layer_params(void *model, int l) {
    return model_pos_ctx((const Model *)model, l, 0).p;
}
static const float *const *flat_params(void *pp, int l) {
    (void)l;
    return (const float *const *)pp;
}

/* One layer's tensors at their initial values (seed 0), or zeros without init. */
static float *inspect_initial_params(const PosMethod *m, const PosConfig *cfg) {
    size_t np = pos_layer_param_count(m, cfg);
    if (!np) return NULL;
    float *params = xmalloc_floats(np);
    int nt;
    PosTensor *t = pos_tensor_list(m, cfg, &nt);
    Rng rng;
    rng_seed(&rng, 0);
    size_t off = 0;
    for (int k = 0; k < nt; k++) {
        if (m->init) m->init(params + off, k, t[k].per_layer ? 0 : -1, cfg, &rng);
        if (m->project) m->project(params + off, pos_tensor_numel(&t[k]), k, cfg);
        off += pos_tensor_numel(&t[k]);
    }
    free(t);
    if (m->init) fprintf(stderr, "posbench: %s: no --ckpt, so its %zu parameters are at their initial values (seed 0)\n",
                         m->name, np);
    else fprintf(stderr, "posbench: %s: no --ckpt, so its %zu learned parameters are zeros (their initial value); pass "
                         "--ckpt FILE for trained values\n", m->name, np);
    return params;
}

/* An explicitly given size flag must agree with the checkpoint's value. */
static void inspect_agree(const Flag *flags, int n, const char *name, long lo, long hi, int have, const char *ckpt) {
    if (!flag_get(flags, n, name)->set) return;
    long v = flag_int(flags, n, name, lo, hi);
    if (v != have) die_input("%s %ld disagrees with %s, which has %d", name, v, ckpt, have);
}

/* Rows the table would have: NH x T(T+1)/2 for bias, T x hs/2 for qk, T x C for embed. */
#define INSPECT_MAX_ROWS 10000000LL
static void inspect_check_size(const char *hook, const PosConfig *cfg, int T) {
    long long rows = 0;
    if (hook && !strcmp(hook, "bias")) rows = (long long)cfg->n_head * T * (T + 1LL) / 2;
    else if (hook && !strcmp(hook, "qk")) rows = (long long)T * (cfg->head_dim / 2);
    else if (hook && strcmp(hook, "params")) rows = (long long)T * cfg->d_model;
    if (rows > INSPECT_MAX_ROWS)
        die_input("--len %d: the table would have %lld rows; inspect writes at most %lld (lower --len or --heads)", T,
                  rows, INSPECT_MAX_ROWS);
}

/* The tensors of one hook (bias, qk or embed) at positions < T as CSV on stdout,
 * from the method's tables and its parameters pp (NULL when it has none). */
static void inspect_print(const PosMethod *m, const PosConfig *cfg, const float **pp, int T, const char *hook) {
    float *cache = NULL;   /* the method's tables for positions < T */
    if (m->cache_size) {
        cache = xmalloc_floats(m->cache_size(cfg, T));
        m->cache_fill(cache, cfg, T);
    }
    PosCtx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.cfg = *cfg;
    ctx.p = pp;
    ctx.cache = cache;
    ctx.cache_len = T;
    float *table = NULL;   /* the method's per-layer table, from the parameters */
    if (m->table_size) {
        table = xmalloc_floats(m->table_size(cfg, T));
        ctx.table = table;
        ctx.table_len = T;
        m->table_fill(table, T, &ctx);
    }
    float *data = pos_data_at_zero_input(m, &ctx, T);
    if (data)
        fprintf(stderr, "posbench: %s: the bias depends on the tokens; shown for an attention input of zeros "
                        "(see --hook params for the parameters per layer and head)\n", m->name);
    if (strcmp(hook, "bias") == 0) inspect_bias(m, &ctx, T);
    else if (strcmp(hook, "qk") == 0) inspect_qk(m, &ctx, T);
    else inspect_embed(m, &ctx, T);
    free(cache);
    free(table);
    free(data);
}

int cmd_inspect(int argc, char **argv) {
    Flag flags[] = {
        {"--heads", "N", "4", "number of heads NH", NULL, 0},
        {"--head-dim", "N", "32", "head dim hs", NULL, 0},
        {"--dim", "C", NULL, "model dim for embed methods (default: heads x head-dim)", NULL, 0},
        {"--len", "T", "16", "positions 0..T-1", NULL, 0},
        {"--train-len", "L", NULL, "training length the options refer to, e.g. yarn (default: --len)", NULL, 0},
        {"--ckpt", "FILE", NULL, "take the config and learned values (t5 table) from this checkpoint", NULL, 0},
        {"--option", "K=V", NULL, "evaluation-time options, comma separated (e.g. pi=4 for rotary)", NULL, 0},
        {"--hook", "NAME", NULL, "bias, qk or embed, for a method with several hooks; params: every learned value per layer", NULL, 0},
        {"--layer", "N", "0", "with --ckpt: the layer whose per-layer tensors are shown", NULL, 0},
    };
    const int nf = NFLAGS(flags);
    const char *pos[1] = {NULL};
    int npos = flags_parse(flags, nf, argc, argv, &inspect_cmd, pos, 1);
    const char *ckpt = flag_str(flags, nf, "--ckpt");
    if (npos < 1 && !ckpt) die_input("inspect: name a METHOD (one of: %s)", pos_method_names());

    const PosMethod *m = NULL;
    PosConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[ERRLEN];
    if (npos >= 1) {
        m = pos_method_find(pos[0]);
        if (!m && !ckpt && pos_is_layers_spec(pos[0]))   /* each layer is one registered method */
            die_input("inspect: %s is a per-layer composition: inspect one layer's method by its own spec "
                      "(e.g. inspect rotary:pi=2), or a trained model's layer with --ckpt FILE --layer N", pos[0]);
        if (!m && !(ckpt && pos_is_layers_spec(pos[0])))   /* a composition: compared with the checkpoint's below */
            die_input("inspect: unknown method '%s' (methods: %s)", pos[0], pos_method_names());
    }
    const int T = (int)flag_int(flags, nf, "--len", 1, 1 << 20);

    Model model;
    int have_model = 0;
    float *params = NULL;   /* (pos_layer_param_count): the chosen layer's tensors, back to back */
    const float **pp = NULL;
    if (ckpt) {
        memset(&model, 0, sizeof model);
        if (checkpoint_load(ckpt, &model, NULL, NULL, err, sizeof err) != 0) die_input("--ckpt: %s", err);
        have_model = 1;
        if (npos >= 1 && pos_is_layers_spec(pos[0]) && strcmp(model.cfg.method, pos[0]) != 0)
            die_input("--ckpt: %s was trained with '%s', not '%s'", ckpt, model.cfg.method, pos[0]);
        if (m && model.pos != m)
            die_input("--ckpt: %s was trained with method '%s', not '%s'", ckpt, model.pos->name, m->name);
        m = model.pos;
        cfg = model.pcfg;
        inspect_agree(flags, nf, "--heads", 1, 1024, cfg.n_head, ckpt);
        inspect_agree(flags, nf, "--head-dim", 1, 4096, cfg.head_dim, ckpt);
        inspect_agree(flags, nf, "--dim", 1, 1 << 16, cfg.d_model, ckpt);
        inspect_agree(flags, nf, "--train-len", 1, 1 << 20, cfg.train_len, ckpt);
        int layer = (int)flag_int(flags, nf, "--layer", 0, cfg.n_layer - 1);
        if (model.pos_nt) {
            PosCtx c = model_pos_ctx(&model, layer, 0);
            pp = xcalloc((size_t)model.pos_nt, sizeof(float *));
            for (int k = 0; k < model.pos_nt; k++) pp[k] = c.p[k];
        }
    } else {
        cfg.n_head = (int)flag_int(flags, nf, "--heads", 1, 1024);
        cfg.head_dim = (int)flag_int(flags, nf, "--head-dim", 1, 4096);
        cfg.d_model = flag_str(flags, nf, "--dim") ? (int)flag_int(flags, nf, "--dim", 1, 1 << 16)
                                                   : cfg.n_head * cfg.head_dim;
        cfg.train_len = flag_str(flags, nf, "--train-len") ? (int)flag_int(flags, nf, "--train-len", 1, 1 << 20) : T;
        cfg.n_layer = 1;
        if (pos_spec_parse(pos[0], &m, &cfg, err, sizeof err) != 0) die_input("inspect: %s", err);
        params = inspect_initial_params(m, &cfg);
        int nt = pos_tensor_count(m, &cfg);
        if (nt) {
            pp = xcalloc((size_t)nt, sizeof(float *));
            pos_bind_flat(m, &cfg, params, NULL, pp, NULL);
        }
    }

    const char *opts = flag_str(flags, nf, "--option");
    if (opts && pos_apply_options(m, &cfg, opts, 1, err, sizeof err) != 0) die_input("--option: %s", err);
    if (m->check_len && m->check_len(&cfg, T, err, sizeof err) != 0) die_input("--len %d: %s: %s", T, m->name, err);

    const char *hook = inspect_pick_hook(m, flag_str(flags, nf, "--hook"));
    inspect_check_size(hook, &cfg, T);
    if (!hook) {
        fprintf(stderr, "posbench: %s has no position tensors: causal masking alone carries position\n", m->name);
        printf("head,i,j,bias\n");
    } else if (!strcmp(hook, "params")) {
        if (have_model) inspect_params(m, &cfg, model_layer_params, &model, cfg.n_layer);
        else inspect_params(m, &cfg, flat_params, pp, 1);
    } else {
        inspect_print(m, &cfg, pp, T, hook);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) die_internal("inspect: writing to stdout failed");
    free(params);
    free(pp);
    if (have_model) model_free(&model);
    return 0;
}
