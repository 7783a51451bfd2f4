/* bpe.h — byte-level BPE: training (incremental pair counts), encoding, decoding, bpe.txt.
 *
 * Tokens 0..255 are the bytes; token 256+i is merges[i] = (a, b), the concatenation of a and b.
 * Text is first cut into chunks (bpe_chunk) so merges never cross a word boundary; any byte
 * string encodes (invalid UTF-8 included) and decodes back exactly.
 * Training is deterministic: the most frequent pair wins, ties go to the smallest (a, b).
 */
#ifndef POSBENCH_BPE_H
#define POSBENCH_BPE_H
#include <stddef.h>
#include <stdint.h>

#define BPE_MAX_CHUNK 64        /* longer runs are cut into pieces of this many bytes */

typedef struct BpeCache BpeCache;

typedef struct Bpe {
    int vocab;                  /* requested size: 256 + merges, ids past the learnt merges are unused */
    int n_merges;
    uint32_t *merges;           /* (n_merges, 2) */
    uint32_t *tok_off;          /* (vocab + 1,) offsets of each token's bytes in tok_data */
    uint8_t *tok_data;
    /* pair -> merge rank, open addressing */
    uint64_t *rank_keys;        /* (rank_cap,) key = a << 32 | b, plus 1 so 0 means empty */
    uint32_t *rank_vals;
    size_t rank_cap;
    BpeCache *cache;            /* chunk -> tokens memo for encoding */
} Bpe;

/* Length of the chunk that starts at s[0] (1..BPE_MAX_CHUNK; 0 only when n == 0). */
size_t bpe_chunk(const uint8_t *s, size_t n);

/* Train on texts; learns up to vocab - 256 merges (stops early when no pair occurs twice). */
void bpe_train(Bpe *bpe, const uint8_t *const *texts, const size_t *lens, int n_texts, int vocab);
/* Encode n bytes into out (room for n tokens); returns the token count. */
size_t bpe_encode(Bpe *bpe, const uint8_t *text, size_t n, uint16_t *out);
size_t bpe_decode(const Bpe *bpe, const uint16_t *tokens, size_t n, uint8_t *out, size_t cap);
static inline uint32_t bpe_token_len(const Bpe *bpe, int t) { return bpe->tok_off[t + 1] - bpe->tok_off[t]; }

/* bpe.txt: "posbench-bpe 1", "vocab V", "merges M", then M lines "a b". */
int bpe_save(const Bpe *bpe, const char *path, char *err, size_t errlen);
int bpe_load(Bpe *bpe, const char *path, char *err, size_t errlen);
void bpe_free(Bpe *bpe);

#endif
