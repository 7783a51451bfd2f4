/* run_common.c — see run_common.h */
#include "run_common.h"
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
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

int run_try_lock(const char *path, char *holder, size_t n) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);   /* kept open while the lock is wanted */
    if (fd < 0) return -2;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32];
        ssize_t got = pread(fd, pid, sizeof pid - 1, 0);
        pid[got > 0 ? got : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        snprintf(holder, n, "%s", pid[0] ? pid : "unknown");
        close(fd);
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {}   /* the pid is for messages only */
    return fd;
}

int run_wait_lock_free(const char *dir, double seconds) {
    char path[4200], holder[32];
    snprintf(path, sizeof path, "%s/.posbench.lock", dir);
    for (int left = (int)(seconds * 20); ; left--) {
        int fd = run_try_lock(path, holder, sizeof holder);
        if (fd >= 0) close(fd);
        if (fd != -1) return 0;   /* free (or no folder yet: the child names the problem) */
        if (left <= 0) return -1;
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
}

void run_lock_folder(const char *dir, const char *flag) {
    char path[4200], holder[32];
    snprintf(path, sizeof path, "%s/.posbench.lock", dir);
    int fd = run_try_lock(path, holder, sizeof holder);   /* kept open until exit: the lock */
    if (fd == -2) die_input("%s: cannot lock %s (%s)", flag, path, strerror(errno));
    if (fd == -1)
        die_input("%s: %s is in use by another posbench process (pid %s); wait for it to end or choose another "
                      "folder", flag, dir, holder);
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

void run_check_out_path(const char *path, const char *flag, size_t reserve) {
    size_t n = strlen(path);
    if (n + reserve >= PATH_MAX)
        die_input("%s: the path is %zu characters; at most %zu fit (the system's limit PATH_MAX is %d, less room for "
                  "the files written inside)", flag, n, (size_t)PATH_MAX - reserve - 1, PATH_MAX);
}

void run_check_data_hash(const char *dir, const Dataset *ds, const char *spec) {
    char path[4200], err[ERRLEN], old[64] = "";
    snprintf(path, sizeof path, "%s/data_hash.txt", dir);
    char *text = read_file(path, NULL, err, sizeof err);
    if (text) {
        sscanf(text, "%63s", old);
        free(text);
        if (strcmp(old, data_hash(ds)))
            die_input("--data: %s now has hash %s, but the units in %s were trained on data with hash %s (%s); "
                      "the corpus changed: choose another folder", spec, data_hash(ds), dir, old, path);
        return;
    }
    AtomicFile af;
    if (atomic_open(&af, path, "w", err, sizeof err) != 0) die_input("--out: %s", err);
    fprintf(af.fp, "%s %s\n", data_hash(ds), spec);
    if (atomic_commit(&af, err, sizeof err) != 0) die_internal("%s", err);
}

void run_check_resume(const char *ckpt, const char *stored_json, const RunIdentity *now, const RunConfig *c, long L) {
    static const char *const schedule[] = {"steps", "warmup", "lr", "lr_min", "weight_decay", "clip", "batch",
                                           "batch_tokens", "train_copy_mix"};
    RunIdentity was;
    run_identity_parse(&was, stored_json);
    if (was.seed && was.seed != now->seed)
        die_input("--resume: %s was trained with seed %d, not %d", ckpt, was.seed, now->seed);
    if (was.dataset_hash[0] && strcmp(was.dataset_hash, now->dataset_hash))
        die_input("--resume: %s was trained on %s (data hash %s), not on %s (data hash %s)", ckpt, was.data,
                  was.dataset_hash, now->data, now->dataset_hash);
    if (strcmp(was.tokenizer, now->tokenizer))
        die_input("--resume: %s was trained with the %s tokenizer, not %s", ckpt, was.tokenizer, now->tokenizer);
    char *cur = NULL, err[ERRLEN];
    size_t len = 0;
    FILE *mem = open_memstream(&cur, &len);
    config_write_json(c, mem);
    fclose(mem);
    JsonDoc a, b;
    if (json_parse(&a, stored_json, strlen(stored_json), err, sizeof err) != 0) die_input("--resume: %s: %s", ckpt, err);
    if (json_parse(&b, cur, len, err, sizeof err) != 0) die_internal("%s", err);
    const JsonValue *ca = json_get(&a.root, "config"), *cb = &b.root;
    for (size_t i = 0; ca && cb && i < sizeof schedule / sizeof schedule[0]; i++) {
        const JsonValue *x = json_get(ca, schedule[i]), *y = json_get(cb, schedule[i]);
        if (!x || !y || x->type != JSON_NUMBER || y->type != JSON_NUMBER) continue;   /* an older checkpoint */
        if (json_number(x) != json_number(y))
            die_input("--resume: %s was trained with %s = %g, this command has %g (another schedule would not "
                      "continue the same run; L %ld)", ckpt, schedule[i], json_number(x), json_number(y), L);
    }
    /* the products' precision: a run started in one does not continue in the other (older checkpoints: fp32) */
    const JsonValue *pa = ca ? json_get(ca, "precision") : NULL;
    const char *was_p = pa && pa->type == JSON_STRING ? pa->u.str : "fp32";
    if (strcmp(was_p, c->precision))
        die_input("--resume: %s was trained with precision = %s, this command has %s (L %ld)", ckpt, was_p,
                  c->precision, L);
    json_doc_free(&a);
    json_doc_free(&b);
    free(cur);
}

void run_check_out_file(const char *path, const char *flag) {
    struct stat st;
    run_check_out_path(path, flag, 32);
    if (!*path) die_input("%s: empty file name", flag);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) die_input("%s: %s is a folder; name a file to write", flag, path);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash) return;
    if (slash == parent) slash[1] = 0;
    else *slash = 0;
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) die_input("%s: %s: no such folder", flag, parent);
}
