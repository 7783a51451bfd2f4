/* places.c — the bottom of datasets/: where corpora and prepared data live
 * (POSBENCH_DATASETS, POSBENCH_DATA_CACHE), progress notes, the FNV-1a hash and
 * a quiet snprintf. bpe.c, corpora.c and data.c use these; this file uses none
 * of them, so the folder has no import circle (data.c -> corpora.c, bpe.c -> places.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "data.h"
#include "data_internal.h"

int data_verbose = 1;

void data_fmt(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

void data_note(const char *fmt, ...) {
    if (!data_verbose) return;
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
}

uint64_t data_fnv1a64(const void *p, size_t n) {
    const uint8_t *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ---------------------------------------------------------------- locations */

static char g_datasets[4096], g_cache[4096];
static int g_cache_set;

static int has_default(const char *dir) {
    char p[4200];
    data_fmt(p, sizeof p, "%s/default", dir);
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* POSBENCH_DATASETS, else datasets/ beside the binary (or one folder up, for build/), else ./datasets */
const char *data_datasets_dir(void) {
    if (g_datasets[0]) return g_datasets;
    const char *env = getenv("POSBENCH_DATASETS");
    if (env && *env) {
        data_fmt(g_datasets, sizeof g_datasets, "%s", env);
        return g_datasets;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        char cand[4200];
        data_fmt(cand, sizeof cand, "%s/datasets", exe);
        if (has_default(cand)) { data_fmt(g_datasets, sizeof g_datasets, "%s", cand); return g_datasets; }
        data_fmt(cand, sizeof cand, "%s/../datasets", exe);
        if (has_default(cand)) { data_fmt(g_datasets, sizeof g_datasets, "%s", cand); return g_datasets; }
    }
    data_fmt(g_datasets, sizeof g_datasets, "datasets");
    return g_datasets;
}

void data_set_cache_dir(const char *dir) {
    g_cache_set = dir != NULL;
    if (dir) data_fmt(g_cache, sizeof g_cache, "%s", dir);
}

const char *data_cache_dir(void) {
    if (g_cache_set) return g_cache;
    const char *env = getenv("POSBENCH_DATA_CACHE");
    if (env && *env) data_fmt(g_cache, sizeof g_cache, "%s", env);
    else data_fmt(g_cache, sizeof g_cache, "%s/cache", data_datasets_dir());
    return g_cache;
}
