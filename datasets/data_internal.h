/* data_internal.h — what data.c (prepare, open, batches) and corpora.c (reading sources)
 * share. Not part of the harness's API. */
#ifndef POSBENCH_DATA_INTERNAL_H
#define POSBENCH_DATA_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

enum { SPLIT_TRAIN, SPLIT_VALID, SPLIT_TEST, SPLIT_ALL, N_SPLIT_KINDS };
extern const char *const data_split_names[N_SPLIT_KINDS];

/* One document of a source, already normalised (multi-document sources end each document
 * with a newline; a single file's parts are verbatim slices). */
typedef struct SrcDoc {
    char *name;
    const uint8_t *text;
    size_t len;
    int split;             /* SPLIT_TRAIN..SPLIT_TEST, or SPLIT_ALL for a document only in "all" */
    int in_all;            /* also part of the "all" split */
} SrcDoc;

typedef struct Source {
    char name[64];         /* display name: corpus name or base name of the path */
    char cache_dir[4096];  /* prepared folders go to cache_dir/<tokenizer> */
    char origin[4096];     /* where the text was read from */
    int has_all;
    int n_docs, cap_docs;
    SrcDoc *docs;
    void **bufs;           /* owned buffers */
    int n_bufs, cap_bufs;
} Source;

/* Resolve spec. Returns 0 with a loaded source; 1 when spec is a prepared folder (its path in
 * prepared, nothing loaded); -1 for bad input (err names the path or corpus). */
int data_source_load(Source *src, const char *spec, char *prepared, size_t prepared_cap, char *err, size_t errlen);
void data_source_free(Source *src);
uint64_t data_source_hash(const Source *src);


/* snprintf that may truncate quietly (paths are bounded by PATH_MAX-sized buffers). */
void data_fmt(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void data_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int data_read_origin(const char *name, char *out, size_t cap);   /* wikitext103's remembered folder */
int data_write_origin(const char *cache_dir, const char *origin, char *err, size_t errlen);

#endif
