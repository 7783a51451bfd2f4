/* data.c — preparing, verifying and memory-mapping token files; batches; bits-per-byte.
 *
 * A prepared folder (<cache>/<corpus>/<byte|bpeV>/) holds manifest.txt, one <split>.tok per split
 * and, for BPE, bpe.txt. Every file is written to a temporary name and renamed; manifest.txt is
 * written last. Opening checks everything that could make a stale or broken cache look good:
 * manifest fields, each header against the manifest, the file size against the header, a hash
 * of the payload, the document offsets and the token range. Format: datasets/README.md.
 */
#include "data.h"
#include "bpe.h"
#include "data_internal.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const data_split_names[N_SPLIT_KINDS] = {"train", "valid", "test", "all"};

#define TOK_MAGIC "PBTOKENS"
#define TOK_VERSION 1
#define TOK_HEADER 128
enum { TOK_BYTE = 0, TOK_BPE = 1 };

/* ---------------------------------------------------------------- little-endian fields */

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get32(const uint8_t *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = v << 8 | p[i]; return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

static int host_is_little_endian(void) {
    uint16_t x = 1;
    uint8_t b;
    memcpy(&b, &x, 1);
    return b == 1;
}

/* ---------------------------------------------------------------- writing */

typedef struct TokFile {
    const char *split;
    int kind, vocab, n_docs;
    const uint64_t *offsets;   /* (n_docs + 1,) */
    const uint16_t *tokens;
    size_t n_tokens;
    uint64_t n_bytes, source_hash, tokenizer_hash;
} TokFile;

static uint64_t payload_hash(const uint64_t *offsets, int n_docs, const uint16_t *tokens, size_t n_tokens) {
    uint64_t h = hash64_bytes(offsets, ((size_t)n_docs + 1) * sizeof *offsets, 3);
    return hash64_mix(h, hash64_bytes(tokens, n_tokens * sizeof *tokens, 4));
}

static int write_tok(const char *path, const TokFile *t, char *err, size_t errlen) {
    uint8_t h[TOK_HEADER] = {0};
    memcpy(h, TOK_MAGIC, 8);
    put32(h + 8, TOK_VERSION);
    put32(h + 12, (uint32_t)t->kind);
    put32(h + 16, (uint32_t)t->vocab);
    put32(h + 20, (uint32_t)t->n_docs);
    put64(h + 24, t->n_tokens);
    put64(h + 32, t->n_bytes);
    put64(h + 40, t->source_hash);
    put64(h + 48, t->tokenizer_hash);
    put64(h + 56, payload_hash(t->offsets, t->n_docs, t->tokens, t->n_tokens));
    memcpy(h + 64, t->split, strlen(t->split));
    AtomicFile af;
    if (atomic_open(&af, path, "wb", err, errlen) != 0) return -1;
    fwrite(h, 1, sizeof h, af.fp);
    fwrite(t->offsets, sizeof *t->offsets, (size_t)t->n_docs + 1, af.fp);
    fwrite(t->tokens, sizeof *t->tokens, t->n_tokens, af.fp);
    return atomic_commit(&af, err, errlen);
}

static uint64_t file_hash(const char *path, char *err, size_t errlen, int *ok) {
    size_t len;
    char *s = read_file(path, &len, err, errlen);
    *ok = s != NULL;
    uint64_t h = s ? hash64_bytes(s, len, 5) : 0;
    free(s);
    return h;
}

/* bpe_from: encode with this bpe.txt (copied verbatim) instead of training one. */
static int prepare(const Source *src, const char *spec, int kind, int vocab, const char *bpe_from, const char *outdir,
                   uint64_t src_hash, char *err, size_t errlen) {
    double t0 = now_seconds();
    if (mkdir_p(outdir, err, errlen) != 0) return -1;
    remove_stale_tmp(outdir);
    Bpe bpe;
    uint64_t tok_hash = 0;
    if (kind == TOK_BPE && bpe_from) {
        size_t len;
        char *text = read_file(bpe_from, &len, err, errlen);
        if (!text) return -1;
        char path[4200];
        data_fmt(path, sizeof path, "%s/bpe.txt", outdir);
        AtomicFile af;
        if (atomic_open(&af, path, "wb", err, errlen) != 0) { free(text); return -1; }
        fwrite(text, 1, len, af.fp);
        free(text);
        if (atomic_commit(&af, err, errlen) != 0) return -1;
        if (bpe_load(&bpe, path, err, errlen) != 0) return -1;
        int ok;
        tok_hash = file_hash(path, err, errlen, &ok);
        if (!ok) { bpe_free(&bpe); return -1; }
    } else if (kind == TOK_BPE) {
        int n = 0;
        const uint8_t **texts = xmalloc((size_t)(src->n_docs ? src->n_docs : 1) * sizeof *texts);
        size_t *lens = xmalloc((size_t)(src->n_docs ? src->n_docs : 1) * sizeof *lens);
        size_t bytes = 0;
        for (int i = 0; i < src->n_docs; i++)
            if (src->docs[i].split == SPLIT_TRAIN) {
                texts[n] = src->docs[i].text;
                lens[n] = src->docs[i].len;
                bytes += lens[n++];
            }
        data_note("%s: training BPE, vocab %d, on %zu bytes of the train split", src->name, vocab, bytes);
        bpe_train(&bpe, texts, lens, n, vocab);
        free(texts);
        free(lens);
        if (bpe.n_merges < vocab - 256)
            data_note("%s: the train split only supports %d merges; ids %d..%d stay unused", src->name,
                      bpe.n_merges, 256 + bpe.n_merges, vocab - 1);
        char path[4200];
        data_fmt(path, sizeof path, "%s/bpe.txt", outdir);
        int ok;
        if (bpe_save(&bpe, path, err, errlen) != 0) { bpe_free(&bpe); return -1; }
        tok_hash = file_hash(path, err, errlen, &ok);
        if (!ok) { bpe_free(&bpe); return -1; }
    }
    char splits_line[64] = "";
    for (int s = 0; s < N_SPLIT_KINDS; s++) {
        if (s == SPLIT_ALL && !src->has_all) continue;
        int n_docs = 0;
        size_t total = 0;
        for (int i = 0; i < src->n_docs; i++) {
            const SrcDoc *d = &src->docs[i];
            if (s == SPLIT_ALL ? d->in_all : d->split == s) { n_docs++; total += d->len; }
        }
        uint16_t *tokens = xmalloc((total ? total : 1) * sizeof *tokens);
        uint64_t *offsets = xmalloc(((size_t)n_docs + 1) * sizeof *offsets);
        size_t n_tok = 0;
        int k = 0;
        for (int i = 0; i < src->n_docs; i++) {
            const SrcDoc *d = &src->docs[i];
            if (!(s == SPLIT_ALL ? d->in_all : d->split == s)) continue;
            offsets[k++] = n_tok;
            if (kind == TOK_BPE) n_tok += bpe_encode(&bpe, d->text, d->len, tokens + n_tok);
            else
                for (size_t j = 0; j < d->len; j++) tokens[n_tok++] = d->text[j];
        }
        offsets[k] = n_tok;
        char path[4200];
        data_fmt(path, sizeof path, "%s/%s.tok", outdir, data_split_names[s]);
        TokFile tf = {data_split_names[s], kind, vocab, n_docs, offsets, tokens, n_tok, total, src_hash, tok_hash};
        int rc = write_tok(path, &tf, err, errlen);
        free(tokens);
        free(offsets);
        if (rc != 0) {
            if (kind == TOK_BPE) bpe_free(&bpe);
            return -1;
        }
        size_t o = strlen(splits_line);
        data_fmt(splits_line + o, sizeof splits_line - o, "%s%s", o ? " " : "", data_split_names[s]);
    }
    if (kind == TOK_BPE) bpe_free(&bpe);
    char path[4200];
    data_fmt(path, sizeof path, "%s/manifest.txt", outdir);
    AtomicFile af;
    if (atomic_open(&af, path, "w", err, errlen) != 0) return -1;
    fprintf(af.fp, "posbench-data 1\nname %s\nspec %s\ntokenizer %s\nvocab %d\nsource_hash %016llx\n"
                   "tokenizer_hash %016llx\nsplits %s\n",
            src->name, spec, kind == TOK_BPE ? "bpe" : "byte", vocab, (unsigned long long)src_hash,
            (unsigned long long)tok_hash, splits_line);
    if (atomic_commit(&af, err, errlen) != 0) return -1;
    data_note("%s: prepared %s in %.1fs", src->name, outdir, now_seconds() - t0);
    return 0;
}

/* ---------------------------------------------------------------- reading and verifying */

enum { OPEN_OK = 0, OPEN_MISSING = -1, OPEN_STALE = -2, OPEN_CORRUPT = -3, OPEN_OTHER_TOKENIZER = -4 };

typedef struct Manifest {
    char name[64], spec[4096], tokenizer[8], splits[64];
    int vocab;
    uint64_t source_hash, tokenizer_hash;
} Manifest;

static int read_manifest(const char *dir, Manifest *m, char *err, size_t errlen) {
    char path[4200];
    data_fmt(path, sizeof path, "%s/manifest.txt", dir);
    if (!path_exists(path)) {
        data_fmt(err, errlen, "%s: not prepared (no manifest.txt)", dir);
        return OPEN_MISSING;
    }
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text) return OPEN_CORRUPT;
    memset(m, 0, sizeof *m);
    int got = 0, version = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *sp = strchr(line, ' ');
        if (!sp) continue;
        *sp = 0;
        const char *v = sp + 1;
        if (!strcmp(line, "posbench-data")) { version = atoi(v); got |= 1; }
        else if (!strcmp(line, "name")) { data_fmt(m->name, sizeof m->name, "%s", v); got |= 2; }
        else if (!strcmp(line, "spec")) { data_fmt(m->spec, sizeof m->spec, "%s", v); got |= 4; }
        else if (!strcmp(line, "tokenizer")) { data_fmt(m->tokenizer, sizeof m->tokenizer, "%s", v); got |= 8; }
        else if (!strcmp(line, "vocab")) { m->vocab = atoi(v); got |= 16; }
        else if (!strcmp(line, "source_hash")) { m->source_hash = strtoull(v, NULL, 16); got |= 32; }
        else if (!strcmp(line, "tokenizer_hash")) { m->tokenizer_hash = strtoull(v, NULL, 16); got |= 64; }
        else if (!strcmp(line, "splits")) { data_fmt(m->splits, sizeof m->splits, "%s", v); got |= 128; }
    }
    free(text);
    if (got != 255 || version != 1 || (strcmp(m->tokenizer, "byte") && strcmp(m->tokenizer, "bpe")) ||
        m->vocab < 256 || m->vocab > 65536) {
        data_fmt(err, errlen, "%s: manifest.txt is incomplete or of another version", dir);
        return OPEN_CORRUPT;
    }
    return OPEN_OK;
}

static void unmap_split(DataSplit *s) {
    if (s->map_) munmap(s->map_, s->map_len_);
    memset(s, 0, sizeof *s);
}

static int map_split(DataSplit *s, const char *dir, const char *split, const Manifest *m, const uint32_t *tok_len,
                     char *err, size_t errlen) {
    char path[4200];
    data_fmt(path, sizeof path, "%s/%s.tok", dir, split);
    memset(s, 0, sizeof *s);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        data_fmt(err, errlen, "%s: missing (%s)", path, strerror(errno));
        return OPEN_CORRUPT;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < TOK_HEADER) {
        close(fd);
        data_fmt(err, errlen, "%s: truncated (%lld bytes, header alone is %d)", path, (long long)st.st_size,
                 TOK_HEADER);
        return OPEN_CORRUPT;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        data_fmt(err, errlen, "%s: cannot map (%s)", path, strerror(errno));
        return OPEN_CORRUPT;
    }
    s->map_ = map;
    s->map_len_ = size;
    const uint8_t *h = map;
    char hsplit[9] = {0};
    memcpy(hsplit, h + 64, 8);
    int kind = strcmp(m->tokenizer, "bpe") == 0 ? TOK_BPE : TOK_BYTE;
    uint32_t n_docs = get32(h + 20);
    uint64_t n_tokens = get64(h + 24);
    const char *why = NULL;
    char whybuf[256];
    if (memcmp(h, TOK_MAGIC, 8) != 0) why = "not a posbench token file (bad magic)";
    else if (get32(h + 8) != TOK_VERSION) why = "token file of another version";
    else if (get32(h + 12) != (uint32_t)kind || get32(h + 16) != (uint32_t)m->vocab) why = "header tokenizer differs from manifest";
    else if (strcmp(hsplit, split) != 0) why = "header names another split";
    else if (get64(h + 40) != m->source_hash) why = "header source hash differs from manifest (a mix of two prepares)";
    else if (get64(h + 48) != m->tokenizer_hash) why = "header tokenizer hash differs from manifest";
    else if (n_docs > (1u << 30) || n_tokens > ((uint64_t)1 << 40) ||
             size != TOK_HEADER + 8 * ((uint64_t)n_docs + 1) + 2 * n_tokens) {
        data_fmt(whybuf, sizeof whybuf, "size %zu does not match header (%u documents, %llu tokens)", size, n_docs,
                 (unsigned long long)n_tokens);
        why = whybuf;
    }
    if (!why) {
        s->doc_offsets = (const uint64_t *)(h + TOK_HEADER);
        s->tokens = (const uint16_t *)(h + TOK_HEADER + 8 * ((size_t)n_docs + 1));
        s->n_tokens = (size_t)n_tokens;
        s->n_docs = (int)n_docs;
        s->n_bytes = get64(h + 32);
        if (payload_hash(s->doc_offsets, s->n_docs, s->tokens, s->n_tokens) != get64(h + 56))
            why = "payload hash mismatch (the file was changed or damaged)";
    }
    if (!why) {
        if (s->doc_offsets[0] != 0 || s->doc_offsets[n_docs] != n_tokens) why = "document offsets out of range";
        for (uint32_t d = 0; !why && d < n_docs; d++)
            if (s->doc_offsets[d] > s->doc_offsets[d + 1]) why = "document offsets not increasing";
        uint64_t bytes = 0;
        for (size_t i = 0; !why && i < s->n_tokens; i++) {
            if (s->tokens[i] >= m->vocab) why = "token id out of range";
            bytes += tok_len ? tok_len[s->tokens[i]] : 1;
        }
        if (!why && bytes != s->n_bytes) why = "byte count differs from the tokens' length";
    }
    if (why) {
        data_fmt(err, errlen, "%s: %s", path, why);
        unmap_split(s);
        return OPEN_CORRUPT;
    }
    data_fmt(s->name, sizeof s->name, "%s", split);
    data_fmt(s->dataset, sizeof s->dataset, "%s", m->name);
    return OPEN_OK;
}

/* Open a prepared folder. want_tok NULL: any tokenizer; want_vocab <= 0: any vocab;
 * check_hash: the manifest's source hash must equal want_hash. */
static int open_prepared(Dataset *ds, const char *dir, const char *want_tok, int want_vocab, int check_hash,
                         uint64_t want_hash, char *err, size_t errlen) {
    Manifest m;
    int rc = read_manifest(dir, &m, err, errlen);
    if (rc != OPEN_OK) return rc;
    if ((want_tok && strcmp(want_tok, m.tokenizer) != 0) ||
        (want_tok && !strcmp(want_tok, "bpe") && want_vocab > 0 && want_vocab != m.vocab)) {
        data_fmt(err, errlen, "%s: prepared with %s (vocab %d), not %s", dir, m.tokenizer, m.vocab, want_tok);
        return OPEN_OTHER_TOKENIZER;
    }
    if (check_hash && m.source_hash != want_hash) {
        data_fmt(err, errlen, "%s: the source changed since it was prepared", dir);
        return OPEN_STALE;
    }
    memset(ds, 0, sizeof *ds);
    data_fmt(ds->name, sizeof ds->name, "%s", m.name);
    data_fmt(ds->dir, sizeof ds->dir, "%s", dir);
    data_fmt(ds->tokenizer, sizeof ds->tokenizer, "%s", m.tokenizer);
    ds->vocab = m.vocab;
    ds->source_hash = m.source_hash;
    ds->tokenizer_hash = m.tokenizer_hash;
    data_fmt(ds->hash_hex, sizeof ds->hash_hex, "%016llx", (unsigned long long)m.source_hash);
    if (!strcmp(m.tokenizer, "bpe")) {
        char path[4200];
        data_fmt(path, sizeof path, "%s/bpe.txt", dir);
        int ok;
        uint64_t th = file_hash(path, err, errlen, &ok);
        if (!ok) { data_close(ds); return OPEN_CORRUPT; }
        if (th != m.tokenizer_hash) {
            data_fmt(err, errlen, "%s: hash differs from manifest (the file was changed or damaged)", path);
            data_close(ds);
            return OPEN_CORRUPT;
        }
        ds->bpe = xcalloc(1, sizeof *ds->bpe);
        if (bpe_load(ds->bpe, path, err, errlen) != 0 || ds->bpe->vocab != m.vocab) {
            if (ds->bpe->vocab != m.vocab && ds->bpe->vocab) data_fmt(err, errlen, "%s: vocab differs from manifest", path);
            data_close(ds);
            return OPEN_CORRUPT;
        }
        ds->tok_len = xmalloc((size_t)ds->vocab * sizeof *ds->tok_len);
        for (int t = 0; t < ds->vocab; t++) ds->tok_len[t] = bpe_token_len(ds->bpe, t);
    }
    char splits[64];
    data_fmt(splits, sizeof splits, "%s", m.splits);
    for (char *sp = strtok(splits, " "); sp; sp = strtok(NULL, " ")) {
        int known = 0;
        for (int k = 0; k < N_SPLIT_KINDS; k++) known |= !strcmp(sp, data_split_names[k]);
        if (!known || ds->n_splits == DATA_MAX_SPLITS) {
            data_fmt(err, errlen, "%s/manifest.txt: unknown split '%s'", dir, sp);
            data_close(ds);
            return OPEN_CORRUPT;
        }
        rc = map_split(&ds->splits[ds->n_splits], dir, sp, &m, ds->tok_len, err, errlen);
        if (rc != OPEN_OK) { data_close(ds); return rc; }
        ds->n_splits++;
    }
    if (!data_split(ds, "train") || !data_split(ds, "valid") || !data_split(ds, "test")) {
        data_fmt(err, errlen, "%s/manifest.txt: train, valid and test are not all listed", dir);
        data_close(ds);
        return OPEN_CORRUPT;
    }
    return OPEN_OK;
}

/* ---------------------------------------------------------------- the API */

/* The one implementation behind data_open, data_open_force and data_open_like.
 * like: encode with like's tokenizer (its bpe.txt) rather than training one. */
/* spec named a prepared folder: open it as it is (never rewritten); a corrupt one
 * says how to prepare it again; with like, its BPE must be like's. 0 or -1. */
static int open_named_prepared(Dataset *ds, const char *spec, const char *prepared, const char *tokenizer,
                               int bpe_vocab, const Dataset *like, char *err, size_t errlen) {
    int rc = open_prepared(ds, prepared, tokenizer, bpe_vocab, 0, 0, err, errlen);
    if (rc == OPEN_CORRUPT) {
        Manifest m;
        char e2[ERRLEN];
        size_t o = strlen(err);
        if (read_manifest(prepared, &m, e2, sizeof e2) == OPEN_OK)
            data_fmt(err + o, errlen - o, "; prepare it again: posbench data prepare %s --tokenizer %s%s", m.spec,
                     m.tokenizer, !strcmp(m.tokenizer, "bpe") ? " --vocab N" : "");
        else
            data_fmt(err + o, errlen - o, "; prepare it again from its source");
    }
    if (rc != OPEN_OK) return -1;
    if (like && like->bpe && ds->tokenizer_hash != like->tokenizer_hash) {
        data_fmt(err, errlen, "%s: its BPE is not the one of %s (prepare the text with that dataset's tokenizer)",
                 prepared, like->name);
        data_close(ds);
        return -1;
    }
    data_fmt(ds->spec, sizeof ds->spec, "%s", spec);
    return 0;
}

static int open_impl(Dataset *ds, const char *spec, const char *tokenizer, int bpe_vocab, int force,
                     const Dataset *like, char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    if (!host_is_little_endian()) {
        data_fmt(err, errlen, "token files are little-endian; this host is not");
        return -2;
    }
    if (!spec || !*spec) {
        data_fmt(err, errlen, "--data: empty dataset name or path");
        return -1;
    }
    if (tokenizer && strcmp(tokenizer, "byte") != 0 && strcmp(tokenizer, "bpe") != 0) {
        data_fmt(err, errlen, "--tokenizer: '%s' is not byte or bpe", tokenizer);
        return -1;
    }
    int kind = tokenizer && !strcmp(tokenizer, "bpe") ? TOK_BPE : TOK_BYTE;
    int vocab = 256;
    char bpe_from[4200] = "";
    if (like && like->bpe) {
        kind = TOK_BPE;
        tokenizer = "bpe";
        vocab = bpe_vocab = like->vocab;
        data_fmt(bpe_from, sizeof bpe_from, "%s/bpe.txt", like->dir);
    } else if (like) {
        tokenizer = "byte";
    } else if (kind == TOK_BPE) {
        vocab = bpe_vocab > 0 ? bpe_vocab : DATA_BPE_DEFAULT_VOCAB;
        if (vocab < 257 || vocab > 65536) {
            data_fmt(err, errlen, "--vocab: %d is out of range for bpe (257..65536)", vocab);
            return -1;
        }
    }
    Source src;
    char prepared[4096];
    int rc = data_source_load(&src, spec, prepared, sizeof prepared, err, errlen);
    if (rc < 0) { data_source_free(&src); return -1; }
    if (rc == 1) return open_named_prepared(ds, spec, prepared, tokenizer, kind == TOK_BPE ? bpe_vocab : 0, like, err,
                                            errlen);
    uint64_t hash = data_source_hash(&src);
    char outdir[4200], manifest_spec[4200], why[ERRLEN];
    if (kind == TOK_BPE) data_fmt(outdir, sizeof outdir, "%s/bpe%d", src.cache_dir, vocab);
    else data_fmt(outdir, sizeof outdir, "%s/byte", src.cache_dir);
    if (bpe_from[0]) {
        /* the source's own BPE folder serves if it holds the same tokenizer (e.g. the training corpus) */
        rc = force ? OPEN_MISSING : open_prepared(ds, outdir, "bpe", vocab, 1, hash, why, sizeof why);
        if (rc == OPEN_OK && ds->tokenizer_hash == like->tokenizer_hash) {
            data_source_free(&src);
            data_fmt(ds->spec, sizeof ds->spec, "%s", spec);
            return 0;
        }
        if (rc == OPEN_OK) data_close(ds);
        data_fmt(outdir, sizeof outdir, "%s/bpe%d-%08x", src.cache_dir, vocab,
             (unsigned)(like->tokenizer_hash & 0xffffffffu));
    }
    if (!strcmp(src.name, "wikitext103")) data_fmt(manifest_spec, sizeof manifest_spec, "wikitext103:%s", src.origin);
    else if (strchr(spec, '/') || path_exists(spec)) data_fmt(manifest_spec, sizeof manifest_spec, "%s", src.origin);
    else data_fmt(manifest_spec, sizeof manifest_spec, "%s", spec);
    const char *tk = kind == TOK_BPE ? "bpe" : "byte";
    rc = force ? OPEN_MISSING : open_prepared(ds, outdir, tk, vocab, 1, hash, why, sizeof why);
    if (rc == OPEN_OK && bpe_from[0] && ds->tokenizer_hash != like->tokenizer_hash) {
        data_close(ds);
        rc = OPEN_STALE;
    }
    if (rc != OPEN_OK) {
        if (force) data_note("%s: preparing %s (%s) again in %s", src.name, manifest_spec, tk, outdir);
        else if (rc == OPEN_CORRUPT) data_note("%s; preparing it again", why);
        else if (rc == OPEN_STALE) data_note("%s: source changed; preparing it again", outdir);
        else data_note("%s: preparing %s (%s) in %s", src.name, manifest_spec, tk, outdir);
        if (prepare(&src, manifest_spec, kind, vocab, bpe_from[0] ? bpe_from : NULL, outdir, hash, err, errlen) != 0) {
            data_source_free(&src);
            return -2;
        }
        if (!strcmp(src.name, "wikitext103") && data_write_origin(src.cache_dir, src.origin, err, errlen) != 0) {
            data_source_free(&src);
            return -2;
        }
        rc = open_prepared(ds, outdir, tk, vocab, 1, hash, why, sizeof why);
        if (rc != OPEN_OK) {
            data_fmt(err, errlen, "freshly prepared data fails its own check: %s", why);
            data_source_free(&src);
            return -2;
        }
    }
    data_source_free(&src);
    data_fmt(ds->spec, sizeof ds->spec, "%s", spec);
    return 0;
}

int data_open(Dataset *ds, const char *spec, const char *tokenizer, int bpe_vocab, char *err, size_t errlen) {
    return open_impl(ds, spec, tokenizer, bpe_vocab, 0, NULL, err, errlen);
}

int data_open_force(Dataset *ds, const char *spec, const char *tokenizer, int bpe_vocab, int force, char *err,
                    size_t errlen) {
    return open_impl(ds, spec, tokenizer, bpe_vocab, force, NULL, err, errlen);
}

int data_open_like(Dataset *ds, const char *spec, const Dataset *like, char *err, size_t errlen) {
    return open_impl(ds, spec, NULL, 0, 0, like, err, errlen);
}

void data_close(Dataset *ds) {
    for (int i = 0; i < ds->n_splits; i++) unmap_split(&ds->splits[i]);
    if (ds->bpe) {
        bpe_free(ds->bpe);
        free(ds->bpe);
    }
    free(ds->tok_len);
    memset(ds, 0, sizeof *ds);
}

const DataSplit *data_split(const Dataset *ds, const char *name) {
    for (int i = 0; i < ds->n_splits; i++)
        if (!strcmp(ds->splits[i].name, name)) return &ds->splits[i];
    return NULL;
}

int data_vocab(const Dataset *ds) { return ds->vocab; }
const char *data_tokenizer(const Dataset *ds) { return ds->tokenizer; }
const char *data_hash(const Dataset *ds) { return ds->hash_hex; }
const char *data_name(const Dataset *ds) { return ds->name; }

uint64_t data_bytes_of(const Dataset *ds, const uint16_t *tokens, size_t n) {
    if (!ds->tok_len) return n;
    uint64_t b = 0;
    for (size_t i = 0; i < n; i++) b += tokens[i] < ds->vocab ? ds->tok_len[tokens[i]] : 0;
    return b;
}

size_t data_decode(const Dataset *ds, const uint16_t *tokens, size_t n, uint8_t *out, size_t cap) {
    if (ds->bpe) return bpe_decode(ds->bpe, tokens, n, out, cap);
    size_t m = n < cap ? n : cap;
    for (size_t i = 0; i < m; i++) out[i] = (uint8_t)tokens[i];
    return m;
}

int data_check_window(const DataSplit *s, int T, char *err, size_t errlen) {
    if (T >= 1 && s->n_tokens >= (size_t)T + 1) return 0;
    data_fmt(err, errlen, "%s: split '%s' has %zu tokens; one window at length %d needs %d "
                          "(use a shorter length or a bigger corpus)",
             s->dataset, s->name, s->n_tokens, T, T + 1);
    return -1;
}

void data_batch(const DataSplit *s, Rng *rng, int B, int T, int *inputs, int *targets) {
    if (T < 1 || s->n_tokens < (size_t)T + 1)
        die_internal("data_batch: split '%s' has %zu tokens, fewer than T+1 = %d (call data_check_window first)",
                     s->name, s->n_tokens, T + 1);
    uint64_t starts = s->n_tokens - (size_t)T;   /* windows x[st .. st+T] for st in [0, starts) */
    for (int b = 0; b < B; b++) {
        size_t st = (size_t)(rng_u64(rng) % starts);
        const uint16_t *x = s->tokens + st;
        for (int t = 0; t < T; t++) {
            inputs[(size_t)b * T + t] = x[t];
            targets[(size_t)b * T + t] = x[t + 1];
        }
    }
}
