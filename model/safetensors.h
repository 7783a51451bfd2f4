/* safetensors.h — strict reader and atomic writer of the safetensors format
 * (8-byte little-endian header length, JSON header, raw little-endian data).
 * Only F32 tensors are written; the reader rejects anything it cannot trust:
 * header length beyond the file, invalid JSON, unknown dtype, shapes whose
 * byte size disagrees with the offsets, offsets outside the data area or
 * overlapping, or a checksum that does not match. Nothing here exits; errors come back as one line in err.
 */
#ifndef POSBENCH_SAFETENSORS_H
#define POSBENCH_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>

#include "../common/util.h"

#define ST_MAX_DIMS 4
/* __metadata__ key of the checksum ("h64:" + 16 hex digits) over every other metadata entry, every
 * tensor entry and the whole data area; a file without it (another writer's) is read unchecked. */
#define ST_CHECKSUM_KEY "checksum"

typedef struct StTensor {
    char *name;
    char dtype[8];            /* "F32", ... as in the file */
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t begin, end;        /* byte offsets into the data area */
    const float *data;        /* points into StFile.buf when dtype is F32 */
} StTensor;

typedef struct StMeta { char *key, *value; } StMeta;

typedef struct StFile {
    char *buf;                /* the whole file */
    size_t size;
    int n_tensors;
    StTensor *tensors;
    int n_meta;
    StMeta *meta;             /* __metadata__ (string values only, as the format says) */
} StFile;

/* 0 on success, -1 with "PATH: reason" in err. */
int st_read(StFile *f, const char *path, char *err, size_t errlen);
/* Same, from a buffer the StFile takes ownership of (malloc'd). */
int st_parse(StFile *f, char *buf, size_t size, const char *name, char *err, size_t errlen);
void st_free(StFile *f);
const StTensor *st_find(const StFile *f, const char *name);
const char *st_meta(const StFile *f, const char *key);   /* NULL if absent */

/* Writer: add tensors (data borrowed until st_write), then write atomically. */
typedef struct StWriter {
    int n, cap;
    struct { char name[128]; int ndim; int64_t shape[ST_MAX_DIMS]; const float *data; } *t;
    int n_meta, cap_meta;
    StMeta *meta;
} StWriter;
void st_writer_init(StWriter *w);
void st_writer_add(StWriter *w, const char *name, const float *data, int ndim, const int64_t *shape);
void st_writer_meta(StWriter *w, const char *key, const char *value);
/* Writes a checksum into __metadata__ (ST_CHECKSUM_KEY) first; st_parse verifies it when present. */
int st_writer_write(StWriter *w, const char *path, char *err, size_t errlen);
/* The same up to the rename: *af holds the finished temporary file; atomic_rename puts it in place
 * (or atomic_abort drops it), so several files can be written first and renamed together. */
int st_writer_stage(StWriter *w, const char *path, AtomicFile *af, char *err, size_t errlen);
void st_writer_free(StWriter *w);

#endif
