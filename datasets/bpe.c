/* bpe.c — byte-level BPE trained in C (see bpe.h for the contract).
 *
 * Training works on unique chunks ("words") weighted by their counts. Pair counts are kept
 * incrementally: merging (a, b) -> z only revisits the words that contain (a, b) (each pair keeps
 * the list of words it occurs in); for each such word the word's pair contributions are
 * subtracted, the merge is applied left to right, and the contributions are added back. A max-heap
 * with lazy deletion picks the next pair: an entry whose count is stale is re-pushed with the
 * current count, so the first entry that matches its pair's count is the true maximum
 * (ties: smallest a, then smallest b). Only pairs containing z can grow, so only those are pushed.
 *
 * Encoding a chunk applies the lowest-ranked merge present, all its occurrences left to right,
 * until none applies — the same segmentation training produced (a pair can only become adjacent
 * through a newer merge, so ranks are applied in order). A memo maps chunks to their tokens.
 */
#include "bpe.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"
#include "../common/util.h"

/* ---------------------------------------------------------------- chunking */

enum { CH_LETTER, CH_DIGIT, CH_SPACE, CH_WS, CH_PUNCT };

static int char_class(uint8_t c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80) return CH_LETTER;
    if (c >= '0' && c <= '9') return CH_DIGIT;
    if (c == ' ') return CH_SPACE;
    if (c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f') return CH_WS;
    return CH_PUNCT;
}

static int is_wordish(int c) { return c == CH_LETTER || c == CH_DIGIT || c == CH_PUNCT; }

/* A chunk is: one space + a run of letters (bytes >= 0x80 count as letters), digits or punctuation;
 * or a run of one class. A run of spaces leaves its last space to lead the next word. */
size_t bpe_chunk(const uint8_t *s, size_t n) {
    if (n == 0) return 0;
    size_t max = n < BPE_MAX_CHUNK ? n : BPE_MAX_CHUNK, i;
    int c0 = char_class(s[0]);
    if (c0 == CH_SPACE && n > 1 && is_wordish(char_class(s[1]))) {
        int c1 = char_class(s[1]);
        for (i = 2; i < max && char_class(s[i]) == c1; i++) {}
        return i;
    }
    for (i = 1; i < max && char_class(s[i]) == c0; i++) {}
    if (c0 == CH_SPACE && i > 1 && i < n && is_wordish(char_class(s[i]))) i--;
    return i;
}

/* ---------------------------------------------------------------- chunk table (bytes -> id) */

typedef struct ChunkTable {
    uint64_t *hash;        /* (cap,) 0 = empty slot */
    uint32_t *id;          /* (cap,) */
    size_t cap, n;
    uint8_t *bytes;        /* arena of chunk bytes */
    size_t bytes_len, bytes_cap;
    uint32_t *off, *len;   /* (n,) per id */
    size_t ids_cap;
} ChunkTable;

static uint64_t chunk_hash(const uint8_t *s, size_t n) {
    uint64_t h = data_fnv1a64(s, n);
    return h ? h : 1;
}

static void ct_init(ChunkTable *t, size_t cap) {
    memset(t, 0, sizeof *t);
    t->cap = cap;
    t->hash = xcalloc(cap, sizeof *t->hash);
    t->id = xcalloc(cap, sizeof *t->id);
}

static void ct_free(ChunkTable *t) {
    free(t->hash); free(t->id); free(t->bytes); free(t->off); free(t->len);
    memset(t, 0, sizeof *t);
}

static void ct_grow(ChunkTable *t) {
    size_t ncap = t->cap * 2;
    uint64_t *nh = xcalloc(ncap, sizeof *nh);
    uint32_t *ni = xcalloc(ncap, sizeof *ni);
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->hash[i]) continue;
        size_t j = t->hash[i] & (ncap - 1);
        while (nh[j]) j = (j + 1) & (ncap - 1);
        nh[j] = t->hash[i];
        ni[j] = t->id[i];
    }
    free(t->hash); free(t->id);
    t->hash = nh; t->id = ni; t->cap = ncap;
}

/* Returns the id of chunk s, inserting it if new (*is_new set). */
static uint32_t ct_get(ChunkTable *t, const uint8_t *s, size_t n, int insert, int *found) {
    uint64_t h = chunk_hash(s, n);
    size_t j = h & (t->cap - 1);
    while (t->hash[j]) {
        if (t->hash[j] == h) {
            uint32_t id = t->id[j];
            if (t->len[id] == n && memcmp(t->bytes + t->off[id], s, n) == 0) { *found = 1; return id; }
        }
        j = (j + 1) & (t->cap - 1);
    }
    *found = 0;
    if (!insert) return 0;
    if (t->n == t->ids_cap) {
        t->ids_cap = t->ids_cap ? t->ids_cap * 2 : 1024;
        t->off = xrealloc(t->off, t->ids_cap * sizeof *t->off);
        t->len = xrealloc(t->len, t->ids_cap * sizeof *t->len);
    }
    if (t->bytes_len + n > t->bytes_cap) {
        while (t->bytes_len + n > t->bytes_cap) t->bytes_cap = t->bytes_cap ? t->bytes_cap * 2 : 65536;
        t->bytes = xrealloc(t->bytes, t->bytes_cap);
    }
    uint32_t id = (uint32_t)t->n++;
    memcpy(t->bytes + t->bytes_len, s, n);
    t->off[id] = (uint32_t)t->bytes_len;
    t->len[id] = (uint32_t)n;
    t->bytes_len += n;
    t->hash[j] = h;
    t->id[j] = id;
    if (t->n * 2 > t->cap) ct_grow(t);
    return id;
}

/* ---------------------------------------------------------------- training */

typedef struct Pair {
    uint64_t key;          /* a << 32 | b */
    int64_t count;         /* sum over words of freq x adjacent occurrences */
    int32_t *words;        /* words the pair occurred in (may hold stale entries) */
    int32_t n_words, cap_words;
    uint32_t stamp;        /* last merge that touched it as a new pair */
} Pair;

typedef struct PairTable {
    uint64_t *keys;        /* (cap,) key + 1, 0 = empty */
    int32_t *idx;
    size_t cap;
    Pair *pairs;
    size_t n, pairs_cap;
} PairTable;

typedef struct HeapEntry { int64_t count; uint64_t key; int32_t idx; } HeapEntry;
typedef struct Heap { HeapEntry *e; size_t n, cap; } Heap;

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull; x ^= x >> 33;
    return x;
}

static void pt_grow(PairTable *t) {
    size_t ncap = t->cap ? t->cap * 2 : 1 << 16;
    uint64_t *nk = xcalloc(ncap, sizeof *nk);
    int32_t *ni = xmalloc(ncap * sizeof *ni);
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i]) continue;
        size_t j = mix64(t->keys[i]) & (ncap - 1);
        while (nk[j]) j = (j + 1) & (ncap - 1);
        nk[j] = t->keys[i];
        ni[j] = t->idx[i];
    }
    free(t->keys); free(t->idx);
    t->keys = nk; t->idx = ni; t->cap = ncap;
}

static int32_t pt_get(PairTable *t, uint32_t a, uint32_t b, int insert) {
    uint64_t key = ((uint64_t)a << 32 | b) + 1;
    size_t j = mix64(key) & (t->cap - 1);
    while (t->keys[j]) {
        if (t->keys[j] == key) return t->idx[j];
        j = (j + 1) & (t->cap - 1);
    }
    if (!insert) return -1;
    if (t->n == t->pairs_cap) {
        t->pairs_cap = t->pairs_cap ? t->pairs_cap * 2 : 1 << 14;
        t->pairs = xrealloc(t->pairs, t->pairs_cap * sizeof *t->pairs);
    }
    int32_t id = (int32_t)t->n++;
    memset(&t->pairs[id], 0, sizeof t->pairs[id]);
    t->pairs[id].key = key - 1;
    t->keys[j] = key;
    t->idx[j] = id;
    if (t->n * 2 > t->cap) pt_grow(t);
    return id;
}

static void pair_add_word(Pair *p, int32_t w) {
    if (p->n_words && p->words[p->n_words - 1] == w) return;
    if (p->n_words == p->cap_words) {
        p->cap_words = p->cap_words ? p->cap_words * 2 : 4;
        p->words = xrealloc(p->words, (size_t)p->cap_words * sizeof *p->words);
    }
    p->words[p->n_words++] = w;
}

/* heap order: larger count first, then smaller key */
static int heap_before(const HeapEntry *x, const HeapEntry *y) {
    return x->count > y->count || (x->count == y->count && x->key < y->key);
}

static void heap_push(Heap *h, HeapEntry e) {
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 1 << 14;
        h->e = xrealloc(h->e, h->cap * sizeof *h->e);
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_before(&e, &h->e[parent])) break;
        h->e[i] = h->e[parent];
        i = parent;
    }
    h->e[i] = e;
}

static HeapEntry heap_pop(Heap *h) {
    HeapEntry top = h->e[0], last = h->e[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && heap_before(&h->e[c + 1], &h->e[c])) c++;
        if (!heap_before(&h->e[c], &last)) break;
        h->e[i] = h->e[c];
        i = c;
    }
    if (h->n) h->e[i] = last;
    return top;
}

static void bpe_build_tables(Bpe *bpe) {
    size_t total = 256;
    /* token lengths first, then bytes */
    uint32_t *len = xcalloc((size_t)bpe->vocab, sizeof *len);
    for (int t = 0; t < 256; t++) len[t] = 1;
    for (int i = 0; i < bpe->n_merges; i++) {
        len[256 + i] = len[bpe->merges[2 * i]] + len[bpe->merges[2 * i + 1]];
        total += len[256 + i];
    }
    bpe->tok_off = xmalloc(((size_t)bpe->vocab + 1) * sizeof *bpe->tok_off);
    bpe->tok_data = xmalloc(total);
    uint32_t off = 0;
    for (int t = 0; t < bpe->vocab; t++) {
        bpe->tok_off[t] = off;
        if (t < 256) bpe->tok_data[off] = (uint8_t)t;
        else if (t < 256 + bpe->n_merges) {
            uint32_t a = bpe->merges[2 * (t - 256)], b = bpe->merges[2 * (t - 256) + 1];
            memcpy(bpe->tok_data + off, bpe->tok_data + bpe->tok_off[a], len[a]);
            memcpy(bpe->tok_data + off + len[a], bpe->tok_data + bpe->tok_off[b], len[b]);
        }
        off += len[t];
    }
    bpe->tok_off[bpe->vocab] = off;
    free(len);
    /* rank map */
    bpe->rank_cap = 1024;
    while (bpe->rank_cap < (size_t)bpe->n_merges * 4) bpe->rank_cap *= 2;
    bpe->rank_keys = xcalloc(bpe->rank_cap, sizeof *bpe->rank_keys);
    bpe->rank_vals = xcalloc(bpe->rank_cap, sizeof *bpe->rank_vals);
    for (int i = 0; i < bpe->n_merges; i++) {
        uint64_t key = ((uint64_t)bpe->merges[2 * i] << 32 | bpe->merges[2 * i + 1]) + 1;
        size_t j = mix64(key) & (bpe->rank_cap - 1);
        while (bpe->rank_keys[j]) j = (j + 1) & (bpe->rank_cap - 1);
        bpe->rank_keys[j] = key;
        bpe->rank_vals[j] = (uint32_t)i;
    }
}

/* Every chunk of the texts into ct; returns each chunk's count (malloc'd, by chunk id). */
static int64_t *count_chunks(ChunkTable *ct, const uint8_t *const *texts, const size_t *lens, int n_texts) {
    int64_t *freq = NULL;
    size_t freq_cap = 0;
    for (int d = 0; d < n_texts; d++) {
        const uint8_t *s = texts[d];
        size_t n = lens[d], i = 0;
        while (i < n) {
            size_t k = bpe_chunk(s + i, n - i);
            int found;
            uint32_t id = ct_get(ct, s + i, k, 1, &found);
            if (id >= freq_cap) {
                size_t old = freq_cap;
                freq_cap = freq_cap ? freq_cap * 2 : 1024;
                freq = xrealloc(freq, freq_cap * sizeof *freq);
                memset(freq + old, 0, (freq_cap - old) * sizeof *freq);
            }
            freq[id]++;
            i += k;
        }
    }
    return freq;
}

/* The most frequent pair still current in the heap (stale entries re-pushed or
 * dropped), or -1 when none occurs at least twice. */
static int32_t pop_best(Heap *heap, const PairTable *pt) {
    while (heap->n) {
        HeapEntry e = heap_pop(heap);
        int64_t cur = pt->pairs[e.idx].count;
        if (cur != e.count) {
            if (cur > 0) heap_push(heap, (HeapEntry){cur, e.key, e.idx});
            continue;
        }
        return cur >= 2 ? e.idx : -1;
    }
    return -1;
}

/* Pairs whose count rose during one merge (to re-enter the heap). */
typedef struct Touched {
    int32_t *idx;
    size_t n, cap;
} Touched;

/* A word being merged: its symbols (shrinking in place), its length, its count, its id. */
typedef struct Word {
    uint32_t *s, *len;
    int64_t freq;
    int32_t id;
} Word;

/* Replace every (a, b) in the word by z, moving its pair counts; pairs with z
 * are stamped and noted in t once per merge. */
static void merge_word(PairTable *pt, Word *wd, uint32_t a, uint32_t b, uint32_t z, uint32_t stamp, Touched *t) {
    uint32_t *s = wd->s, len = *wd->len;
    int has = 0;
    for (uint32_t i = 0; i + 1 < len; i++)
        if (s[i] == a && s[i + 1] == b) { has = 1; break; }
    if (!has) return;
    for (uint32_t i = 0; i + 1 < len; i++) pt->pairs[pt_get(pt, s[i], s[i + 1], 0)].count -= wd->freq;
    uint32_t o = 0;
    for (uint32_t i = 0; i < len;) {
        if (i + 1 < len && s[i] == a && s[i + 1] == b) { s[o++] = z; i += 2; }
        else s[o++] = s[i++];
    }
    *wd->len = len = o;
    for (uint32_t i = 0; i + 1 < len; i++) {
        int32_t p = pt_get(pt, s[i], s[i + 1], 1);
        Pair *pp = &pt->pairs[p];
        pp->count += wd->freq;
        pair_add_word(pp, wd->id);
        if ((s[i] == z || s[i + 1] == z) && pp->stamp != stamp) {
            pp->stamp = stamp;
            if (t->n == t->cap) {
                t->cap = t->cap ? t->cap * 2 : 1024;
                t->idx = xrealloc(t->idx, t->cap * sizeof *t->idx);
            }
            t->idx[t->n++] = p;
        }
    }
}

void bpe_train(Bpe *bpe, const uint8_t *const *texts, const size_t *lens, int n_texts, int vocab) {
    memset(bpe, 0, sizeof *bpe);
    bpe->vocab = vocab;
    int max_merges = vocab - 256;

    /* 1. unique chunks and their counts */
    ChunkTable ct;
    ct_init(&ct, 1 << 16);
    int64_t *freq = count_chunks(&ct, texts, lens, n_texts);
    size_t n_words = ct.n;

    /* 2. words as symbol arrays (shrinking in place as merges apply) */
    uint32_t *syms = xmalloc((ct.bytes_len ? ct.bytes_len : 1) * sizeof *syms);
    uint32_t *wstart = xmalloc((n_words ? n_words : 1) * sizeof *wstart);
    uint32_t *wlen = xmalloc((n_words ? n_words : 1) * sizeof *wlen);
    uint32_t *wseen = xcalloc(n_words ? n_words : 1, sizeof *wseen);
    for (size_t w = 0; w < n_words; w++) {
        wstart[w] = ct.off[w];
        wlen[w] = ct.len[w];
        for (uint32_t i = 0; i < ct.len[w]; i++) syms[ct.off[w] + i] = ct.bytes[ct.off[w] + i];
    }

    /* 3. initial pair counts */
    PairTable pt = {0};
    pt_grow(&pt);
    for (size_t w = 0; w < n_words; w++) {
        uint32_t *s = syms + wstart[w];
        for (uint32_t i = 0; i + 1 < wlen[w]; i++) {
            int32_t p = pt_get(&pt, s[i], s[i + 1], 1);
            pt.pairs[p].count += freq[w];
            pair_add_word(&pt.pairs[p], (int32_t)w);
        }
    }
    Heap heap = {0};
    for (size_t p = 0; p < pt.n; p++)
        heap_push(&heap, (HeapEntry){pt.pairs[p].count, pt.pairs[p].key, (int32_t)p});

    /* 4. merges */
    bpe->merges = xmalloc((size_t)(max_merges > 0 ? max_merges : 1) * 2 * sizeof *bpe->merges);
    Touched tl = {0};
    for (int m = 0; m < max_merges; m++) {
        int32_t best = pop_best(&heap, &pt);
        if (best < 0) break;
        uint32_t a = (uint32_t)(pt.pairs[best].key >> 32), b = (uint32_t)pt.pairs[best].key;
        uint32_t z = 256u + (uint32_t)m, stamp = (uint32_t)m + 1;
        bpe->merges[2 * m] = a;
        bpe->merges[2 * m + 1] = b;
        bpe->n_merges = m + 1;

        int32_t *list = pt.pairs[best].words, n_list = pt.pairs[best].n_words;
        pt.pairs[best].words = NULL;
        pt.pairs[best].n_words = pt.pairs[best].cap_words = 0;
        tl.n = 0;
        for (int32_t li = 0; li < n_list; li++) {
            int32_t w = list[li];
            if (wseen[w] == stamp) continue;
            wseen[w] = stamp;
            Word wd = {syms + wstart[w], &wlen[w], freq[w], w};
            merge_word(&pt, &wd, a, b, z, stamp, &tl);
        }
        free(list);
        for (size_t i = 0; i < tl.n; i++) {
            Pair *pp = &pt.pairs[tl.idx[i]];
            if (pp->count > 0) heap_push(&heap, (HeapEntry){pp->count, pp->key, tl.idx[i]});
        }
    }

    for (size_t p = 0; p < pt.n; p++) free(pt.pairs[p].words);
    free(pt.pairs); free(pt.keys); free(pt.idx);
    free(heap.e); free(tl.idx);
    free(syms); free(wstart); free(wlen); free(wseen); free(freq);
    ct_free(&ct);
    bpe_build_tables(bpe);
}

/* ---------------------------------------------------------------- encoding */

struct BpeCache {
    ChunkTable chunks;     /* chunk bytes -> id */
    uint32_t *tok_off, *tok_n;
    uint16_t *toks;
    size_t toks_len, toks_cap, ids_cap;
};

#define BPE_CACHE_MAX_CHUNKS (1u << 22)

static uint32_t rank_of(const Bpe *bpe, uint32_t a, uint32_t b) {
    uint64_t key = ((uint64_t)a << 32 | b) + 1;
    size_t j = mix64(key) & (bpe->rank_cap - 1);
    while (bpe->rank_keys[j]) {
        if (bpe->rank_keys[j] == key) return bpe->rank_vals[j];
        j = (j + 1) & (bpe->rank_cap - 1);
    }
    return UINT32_MAX;
}

static size_t encode_chunk(const Bpe *bpe, const uint8_t *s, size_t n, uint16_t *out) {
    uint32_t sym[BPE_MAX_CHUNK];
    size_t len = n;
    for (size_t i = 0; i < n; i++) sym[i] = s[i];
    while (len > 1) {
        uint32_t best = UINT32_MAX;
        for (size_t i = 0; i + 1 < len; i++) {
            uint32_t r = rank_of(bpe, sym[i], sym[i + 1]);
            if (r < best) best = r;
        }
        if (best == UINT32_MAX) break;
        uint32_t a = bpe->merges[2 * best], b = bpe->merges[2 * best + 1], z = 256 + best;
        size_t o = 0;
        for (size_t i = 0; i < len;) {
            if (i + 1 < len && sym[i] == a && sym[i + 1] == b) { sym[o++] = z; i += 2; }
            else sym[o++] = sym[i++];
        }
        len = o;
    }
    for (size_t i = 0; i < len; i++) out[i] = (uint16_t)sym[i];
    return len;
}

size_t bpe_encode(Bpe *bpe, const uint8_t *text, size_t n, uint16_t *out) {
    if (!bpe->cache) {
        bpe->cache = xcalloc(1, sizeof *bpe->cache);
        ct_init(&bpe->cache->chunks, 1 << 16);
    }
    BpeCache *c = bpe->cache;
    size_t i = 0, o = 0;
    while (i < n) {
        size_t k = bpe_chunk(text + i, n - i);
        int found;
        int insert = c->chunks.n < BPE_CACHE_MAX_CHUNKS;
        uint32_t id = ct_get(&c->chunks, text + i, k, insert, &found);
        if (found) {
            memcpy(out + o, c->toks + c->tok_off[id], c->tok_n[id] * sizeof *out);
            o += c->tok_n[id];
        } else {
            size_t m = encode_chunk(bpe, text + i, k, out + o);
            if (insert) {
                if (id >= c->ids_cap) {
                    c->ids_cap = c->ids_cap ? c->ids_cap * 2 : 1024;
                    c->tok_off = xrealloc(c->tok_off, c->ids_cap * sizeof *c->tok_off);
                    c->tok_n = xrealloc(c->tok_n, c->ids_cap * sizeof *c->tok_n);
                }
                if (c->toks_len + m > c->toks_cap) {
                    while (c->toks_len + m > c->toks_cap) c->toks_cap = c->toks_cap ? c->toks_cap * 2 : 65536;
                    c->toks = xrealloc(c->toks, c->toks_cap * sizeof *c->toks);
                }
                memcpy(c->toks + c->toks_len, out + o, m * sizeof *out);
                c->tok_off[id] = (uint32_t)c->toks_len;
                c->tok_n[id] = (uint32_t)m;
                c->toks_len += m;
            }
            o += m;
        }
        i += k;
    }
    return o;
}

size_t bpe_decode(const Bpe *bpe, const uint16_t *tokens, size_t n, uint8_t *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int t = tokens[i];
        if (t >= bpe->vocab) continue;
        uint32_t len = bpe_token_len(bpe, t);
        if (o + len > cap) break;
        memcpy(out + o, bpe->tok_data + bpe->tok_off[t], len);
        o += len;
    }
    return o;
}

/* ---------------------------------------------------------------- files */

int bpe_save(const Bpe *bpe, const char *path, char *err, size_t errlen) {
    AtomicFile af;
    if (atomic_open(&af, path, "w", err, errlen) != 0) return -1;
    fprintf(af.fp, "posbench-bpe 1\nvocab %d\nmerges %d\n", bpe->vocab, bpe->n_merges);
    for (int i = 0; i < bpe->n_merges; i++) fprintf(af.fp, "%u %u\n", bpe->merges[2 * i], bpe->merges[2 * i + 1]);
    return atomic_commit(&af, err, errlen);
}

int bpe_load(Bpe *bpe, const char *path, char *err, size_t errlen) {
    memset(bpe, 0, sizeof *bpe);
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text) return -1;
    int vocab, n_merges, pos = 0;
    if (sscanf(text, "posbench-bpe 1 vocab %d merges %d%n", &vocab, &n_merges, &pos) != 2 || vocab < 257 ||
        vocab > 65536 || n_merges < 0 || n_merges > vocab - 256) {
        snprintf(err, errlen, "%s: not a posbench BPE file (bad header)", path);
        free(text);
        return -1;
    }
    bpe->vocab = vocab;
    bpe->n_merges = n_merges;
    bpe->merges = xmalloc((size_t)(n_merges ? n_merges : 1) * 2 * sizeof *bpe->merges);
    const char *p = text + pos;
    for (int i = 0; i < n_merges; i++) {
        char *end;
        errno = 0;
        unsigned long a = strtoul(p, &end, 10);
        if (end == p) goto bad;
        p = end;
        unsigned long b = strtoul(p, &end, 10);
        if (end == p || errno || a >= 256ul + (unsigned long)i || b >= 256ul + (unsigned long)i) goto bad;
        p = end;
        bpe->merges[2 * i] = (uint32_t)a;
        bpe->merges[2 * i + 1] = (uint32_t)b;
        continue;
    bad:
        snprintf(err, errlen, "%s: merge %d is malformed", path, i + 1);
        free(text);
        bpe_free(bpe);
        return -1;
    }
    while (*p == '\n' || *p == ' ') p++;
    if (*p) {
        snprintf(err, errlen, "%s: trailing data after %d merges", path, n_merges);
        free(text);
        bpe_free(bpe);
        return -1;
    }
    free(text);
    bpe_build_tables(bpe);
    return 0;
}

void bpe_free(Bpe *bpe) {
    free(bpe->merges); free(bpe->tok_off); free(bpe->tok_data);
    free(bpe->rank_keys); free(bpe->rank_vals);
    if (bpe->cache) {
        ct_free(&bpe->cache->chunks);
        free(bpe->cache->tok_off); free(bpe->cache->tok_n); free(bpe->cache->toks);
        free(bpe->cache);
    }
    memset(bpe, 0, sizeof *bpe);
}
