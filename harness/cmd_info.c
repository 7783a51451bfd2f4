/* cmd_info.c — `posbench info CKPT`: describe a checkpoint (config, parameter
 * count, tensor table, training state). The file goes through the full
 * checkpoint loader, so `info` doubles as a validity check: any problem is one
 * line naming the file, exit 2.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "../model/checkpoint.h"
#include "../common/util.h"

static void print_bytes(double b) {
    if (b < 1024) printf("%.0f B", b);
    else if (b < 1024 * 1024) printf("%.1f KB", b / 1024);
    else if (b < 1024.0 * 1024 * 1024) printf("%.1f MB", b / (1024 * 1024));
    else printf("%.2f GB", b / (1024.0 * 1024 * 1024));
}

/* "12,345,678" */
static const char *grouped(char *buf, size_t n, size_t v) {
    char raw[32];
    int len = snprintf(raw, sizeof raw, "%zu", v), o = 0;
    for (int i = 0; i < len && (size_t)o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = 0;
    return buf;
}

int cmd_info(int argc, char **argv) {
    static const Command self = {"info", "CKPT", "describe a checkpoint: config, tensors, training state", cmd_info};
    Flag flags[] = {
        {"--no-tensors", NULL, NULL, "omit the tensor table", NULL, 0},
    };
    const char *pos[1];
    int n_pos = flags_parse(flags, NFLAGS(flags), argc, argv, &self, pos, 1);
    if (n_pos != 1) die_input("info: missing checkpoint file (usage: posbench info CKPT)");
    const char *path = pos[0];
    char err[ERRLEN];

    /* First the container alone, to learn whether training state is present. */
    StFile f;
    if (st_read(&f, path, err, sizeof err) != 0) die_input("%s", err);
    int has_ts = st_meta(&f, "step") != NULL;
    char format[32];
    int in_file = st_meta(&f, "adamw_step") != NULL || st_find(&f, "opt.m.tok_emb") != NULL;   /* posbench-1 */
    int has_opt = in_file || checkpoint_state_present(path);
    snprintf(format, sizeof format, "%s", st_meta(&f, "format") ? st_meta(&f, "format") : "?");
    size_t file_size = f.size;
    st_free(&f);

    Model m;
    AdamW opt;
    TrainState ts = {0};   /* with the optimiser, ts.state_file names the file it came from */
    if (checkpoint_load(path, &m, has_opt ? &opt : NULL, has_ts ? &ts : NULL, err, sizeof err) != 0)
        die_input("%s", err);

    char num[32], hooks[64];
    const ModelConfig *c = &m.cfg;
    pos_hooks_string(m.pos, hooks, sizeof hooks);
    printf("checkpoint  %s (", path);
    print_bytes((double)file_size);
    printf(", safetensors, format %s)\n", format);
    printf("method      %s (hooks: %s): %s\n", c->method, hooks, m.pos->summary ? m.pos->summary : "");
    printf("config      vocab %d, n_layer %d, n_head %d, d_model %d (head size %d), train_len %d\n", c->vocab,
           c->n_layer, c->n_head, c->d_model, c->d_model / c->n_head, c->train_len);
    printf("parameters  %s (", grouped(num, sizeof num, m.n_params));
    print_bytes(m.n_params * 4.0);
    printf(" as F32), of which position method %zu\n", m.pos_numel);
    if (has_ts)
        printf("training    step %ld, data_rng %llu, run config %s\n", ts.step, (unsigned long long)ts.data_rng,
               ts.extra_json);
    else
        printf("training    none (weights only)\n");
    if (has_opt)
        printf("optimiser   AdamW step %ld, beta1 %g, beta2 %g, eps %g, weight decay %g (m, v for every tensor, in %s)\n",
               opt.step, opt.beta1, opt.beta2, opt.eps, opt.weight_decay, in_file ? "this file" : ts.state_file[0] ? ts.state_file : "the state file beside it");

    if (!flag_on(flags, NFLAGS(flags), "--no-tensors")) {
        printf("\n%-32s %-14s %10s %12s\n", "tensor", "shape", "numel", "rms");
        size_t nonfinite_total = 0;
        for (int i = 0; i < m.n_tensors; i++) {
            const Tensor *t = &m.tensors[i];
            const float *w = m.params + t->offset;
            double ss = 0;
            size_t bad = 0;
            for (size_t j = 0; j < t->numel; j++) {
                if (!isfinite(w[j])) bad++;
                else ss += (double)w[j] * w[j];
            }
            char shape[48];
            if (t->ndim == 2) snprintf(shape, sizeof shape, "[%d, %d]", t->shape[0], t->shape[1]);
            else snprintf(shape, sizeof shape, "[%d]", t->shape[0]);
            printf("%-32s %-14s %10zu %12.6g%s\n", t->name, shape, t->numel, t->numel ? sqrt(ss / t->numel) : 0.0,
                   bad ? "  (non-finite values!)" : "");
            nonfinite_total += bad;
        }
        if (has_opt) printf("%-32s %-14s %10zu\n", "opt.m.*, opt.v.*", "(as above)", 2 * m.n_params);
        if (nonfinite_total) printf("warning: %zu weights are NaN or infinite\n", nonfinite_total);
    }
    if (has_opt) adamw_free(&opt);
    model_free(&m);
    return 0;
}
