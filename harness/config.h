/* config.h — a run's configuration: a preset file (harness/presets/NAME.conf),
 * then an optional --config FILE, then flags, each overriding the last. The
 * files are "key = value" lines with # comments; an unknown key or a value out
 * of range is a usage error naming the key and the file (exit 2). Every field
 * lands in meta.json.
 */
#ifndef POSBENCH_CONFIG_H
#define POSBENCH_CONFIG_H
#include <stdio.h>

#define CFG_MAX_LIST 16

typedef struct RunConfig {
    char preset[32];
    /* data */
    char data[1024];          /* corpus name, prepared folder or text file */
    char tokenizer[8];        /* byte | bpe */
    int bpe_vocab;
    /* model */
    int n_layer, d_model, n_head;
    /* what to sweep */
    char methods[256];        /* comma-separated method names */
    int n_train_lens;
    long train_lens[CFG_MAX_LIST];
    int seeds;                /* seeds 1..seeds */
    int n_eval_mults;
    long eval_mults[CFG_MAX_LIST];   /* evaluation lengths as multiples of L (when `lengths` is empty) */
    int n_lengths;
    long lengths[CFG_MAX_LIST];      /* explicit evaluation lengths (override eval_mults) */
    /* training */
    int batch, steps, warmup;
    long batch_tokens;        /* > 0: sequences per step = batch_tokens / L (same tokens per step at every L) */
    double lr, lr_min, weight_decay, clip;
    int ckpt_every, log_every;
    int val_every;            /* validation loss at L every N steps (0 = off), logged in train.csv */
    long val_tokens;          /* tokens in the fixed validation slice (a prefix of the valid split) */
    /* evaluation */
    char split[8];            /* valid | test */
    long eval_tokens;         /* score at most this many tokens per length (a prefix of the split) */
    int sliding_div;          /* sliding stride = L / sliding_div (0 = no sliding evaluation) */
    long sliding_tokens;      /* score at most this many tokens in sliding mode */
    int threads;              /* 0 = all cores */
    char precision[8];        /* fp32 | bf16: the training step's matrix products (model/gemm_bf16.h) */
    double train_copy_mix;    /* fraction of training windows given a repeated random string (0 = off) */
    /* probes and variants: evaluation only, so a finished sweep may add them (no retraining) */
    char probes[32];          /* "" | copy | passkey | copy,passkey */
    int n_probe_lengths;
    long probe_lengths[CFG_MAX_LIST];     /* window lengths T of the probes (empty: the evaluation lengths) */
    int n_probe_distances;
    long probe_distances[CFG_MAX_LIST];   /* distances D (empty: 16, 32, ... up to T - 2k per T) */
    int probe_n;              /* probes per (T, D) */
    char variants[512];       /* comma-separated evaluation-time variants BASE+ITEM (harness/variant.h) */
    unsigned long long keys_set;  /* bit i: key i of config.c's table was set (checks that a preset is complete) */
} RunConfig;

/* The preset file (NULL = "quick"), the one source of default values; the few keys a
 * preset may leave out take their value from config.c's key table. Exit 2 if the
 * preset is unknown or leaves out another key. */
void config_init(RunConfig *c, const char *preset);
/* Apply one "key = value" file / one key; exit 2 naming key and source on error. */
void config_load_file(RunConfig *c, const char *path);
void config_set(RunConfig *c, const char *key, const char *value, const char *source);
/* Sequences per training step at length L: batch, or batch_tokens / L when that is set.
 * Exit 2 naming the key when batch_tokens is not a multiple of L. */
int config_batch(const RunConfig *c, long L);
/* Evaluation lengths for training length L (sorted, unique). Returns the count. */
int config_eval_lengths(const RunConfig *c, long L, long *out, int max);
/* 1 for the keys that change only what is evaluated after training (probes, probe_*, variants):
 * a finished sweep re-run with other values for them adds their evaluations without retraining. */
int config_key_eval_only(const char *key);
/* config_write without the eval-only keys (what must match for a re-run to reuse the units). */
void config_write_training(const RunConfig *c, FILE *f);
/* Write every field as "key = value" lines (re-loadable) / as a JSON object. */
void config_write(const RunConfig *c, FILE *f);
void config_write_json(const RunConfig *c, FILE *f);
/* Folder holding presets/ (next to the executable: <exe dir>/harness/presets). */
const char *config_presets_dir(void);
const char *posbench_home(void);   /* the repository root (folder of the executable), or POSBENCH_HOME */

#endif
