/* run_common.c — see run_common.h */
#include "run_common.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>
#include "../common/json.h"

void run_config_resolve(RunConfig *c, const char *preset, const char *config_file, const char *sets) {
    config_init(c, preset);
    if (config_file) config_load_file(c, config_file);
    if (sets && *sets) {
        char *buf = xstrdup(sets), *save = NULL;
        for (char *kv = strtok_r(buf, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq) die_input("--set: expected key=value, got '%s'", kv);
            *eq = 0;
            config_set(c, kv, eq + 1, "--set");
        }
        free(buf);
    }
}

void run_open_data(Dataset *ds, const char *spec, const char *tokenizer, int bpe_vocab, const char *flag) {
    char err[ERRLEN];
    int rc = data_open(ds, spec, tokenizer, bpe_vocab, err, sizeof err);
    if (rc == -1) die_input("%s: %s", flag, err);
    if (rc != 0) die_internal("%s", err);
}

void run_identity_json(const RunIdentity *id, const RunConfig *c, char *out, size_t n) {
    char *cfg = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&cfg, &len);
    config_write_json(c, mem);
    fclose(mem);
    char *data = NULL;
    size_t dl = 0, dc = 0;
    json_append_string(&data, &dl, &dc, id->data);
    snprintf(out, n, "{\"seed\": %d, \"data\": %s, \"tokenizer\": \"%s\", \"bpe_vocab\": %d, \"dataset_hash\": \"%s\", "
                     "\"config\": %s}",
             id->seed, data, id->tokenizer, id->bpe_vocab, id->dataset_hash, cfg);
    free(cfg);
    free(data);
}

void run_identity_parse(RunIdentity *id, const char *json) {
    memset(id, 0, sizeof *id);
    snprintf(id->data, sizeof id->data, "default");
    snprintf(id->tokenizer, sizeof id->tokenizer, "byte");
    id->bpe_vocab = 4096;
    JsonDoc doc;
    char err[ERRLEN];
    if (!json || json_parse(&doc, json, strlen(json), err, sizeof err) != 0) return;
    int64_t v;
    const JsonValue *x;
    if ((x = json_get(&doc.root, "seed")) && json_int64(x, &v) == 0) id->seed = (int)v;
    if ((x = json_get(&doc.root, "bpe_vocab")) && json_int64(x, &v) == 0) id->bpe_vocab = (int)v;
    if ((x = json_get(&doc.root, "data")) && x->type == JSON_STRING) snprintf(id->data, sizeof id->data, "%s", x->u.str);
    if ((x = json_get(&doc.root, "tokenizer")) && x->type == JSON_STRING)
        snprintf(id->tokenizer, sizeof id->tokenizer, "%s", x->u.str);
    if ((x = json_get(&doc.root, "dataset_hash")) && x->type == JSON_STRING)
        snprintf(id->dataset_hash, sizeof id->dataset_hash, "%s", x->u.str);
    json_doc_free(&doc);
}

void run_lock_folder(const char *dir, const char *flag) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.posbench.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);   /* kept open until exit: the lock */
    if (fd < 0) die_input("%s: cannot lock %s (%s)", flag, path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char holder[32] = "";
        ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = 0;
        holder[strcspn(holder, "\n")] = 0;
        die_input("%s: %s is in use by another posbench process (pid %s); wait for it to end or choose another "
                      "folder", flag, dir, holder[0] ? holder : "unknown");
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {}   /* the pid is for messages only */
    remove_stale_tmp(dir);
}

const DataSplit *run_eval_split(const Dataset *ds, const char *spec, const char *name, const char *flag) {
    const DataSplit *sp = data_split(ds, name), *all = data_split(ds, "all");
    if (!sp) die_input("%s: %s has no %s split", flag, spec, name);
    if (sp->n_tokens == 0 && all) {
        const DataSplit *tr = data_split(ds, "train");
        die_input("%s: %s holds %d document%s (%d in train), so its %s split is empty: a folder needs at least 3 "
                  "documents to give train, valid and test one each (or give a single text file, which is cut into "
                  "byte ranges)", flag, spec, all->n_docs, all->n_docs == 1 ? "" : "s", tr ? tr->n_docs : 0, name);
    }
    return sp;
}

void run_split_rule_json(const Dataset *ds, const char *spec, FILE *f) {
    struct stat st;
    const DataSplit *tr = data_split(ds, "train"), *va = data_split(ds, "valid"), *all = data_split(ds, "all");
    if (stat(spec, &st) == 0 && S_ISREG(st.st_mode) && tr && va && all) {
        unsigned long long a = tr->n_bytes, b = a + va->n_bytes, n = all->n_bytes;
        fprintf(f, "{\"rule\": \"one text file cut into byte ranges: train ends just after the first newline at or "
                   "after 90%% of the file if one lies within the next 1%%, else at 90%%; valid ends the same way at 95%%; "
                   "test is the rest\", \"byte_ranges\": {\"train\": [0, %llu], \"valid\": [%llu, %llu], \"test\": "
                   "[%llu, %llu]}}", a, a, b, b, n);
    } else if (data_split(ds, "test") && !all && !strncmp(ds->name, "wikitext", 8)) {
        fprintf(f, "{\"rule\": \"the corpus's own train, valid and test files\"}");
    } else {
        fprintf(f, "{\"rule\": \"by document name: FNV-1a-64(name) mod 100 < 90 train, < 95 valid, else test "
                   "(datasets/README.md)\"}");
    }
}
