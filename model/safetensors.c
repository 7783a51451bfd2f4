/* safetensors.c — strict reader and atomic writer of safetensors files.
 *
 * Layout: u64 little-endian N, then N bytes of JSON header, then the data area.
 * The header maps tensor names to {dtype, shape, data_offsets: [begin, end]}
 * (offsets relative to the data area) plus an optional "__metadata__" object
 * of string values. The reader accepts exactly what the reference library
 * (huggingface/safetensors) accepts: N <= 100 MB and within the file, byte
 * sizes that match shape x dtype, tensors that tile the data area with no
 * gap, overlap or trailing bytes. Only F32 tensors get a data pointer; it is
 * 4-byte aligned (a misaligned tensor is copied to an aligned tail of the
 * buffer). Assumes a little-endian host, like the rest of posbench.
 *
 * The writer puts __metadata__ first and the tensors in insertion order,
 * contiguous, and pads the header with spaces so the data area starts at a
 * multiple of 8, as the reference writer does.
 */
#include "safetensors.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../common/json.h"
#include "../common/util.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "posbench reads and writes little-endian F32 data in place; a big-endian host needs byte swapping here"
#endif

#define ST_MAX_HEADER (100u * 1000u * 1000u)

static const struct { const char *name; int bytes; } st_dtypes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
    {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1}, {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1},
    {"BOOL", 1},
};

static int dtype_bytes(const char *name) {
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (!strcmp(st_dtypes[i].name, name)) return st_dtypes[i].bytes;
    return 0;
}

/* "[2, 3]" */
static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t o = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && o < n; i++) o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (o < n) snprintf(buf + o, n - o, "]");
}

void st_free(StFile *f) {
    for (int i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta[i].key);
        free(f->meta[i].value);
    }
    free(f->tensors);
    free(f->meta);
    free(f->buf);
    memset(f, 0, sizeof *f);
}

/* One header entry -> StTensor (name set by the caller). data_size bounds the offsets. */
static int parse_entry(StTensor *t, const JsonValue *v, size_t data_size, const char *path, const char *pname,
                       char *err, size_t errlen) {
    if (v->type != JSON_OBJECT) {
        snprintf(err, errlen, "%s: tensor %s: entry is a %s, expected an object", path, pname, json_type_name(v->type));
        return -1;
    }
    const JsonValue *dt = json_get(v, "dtype"), *sh = json_get(v, "shape"), *off = json_get(v, "data_offsets");
    if (!dt || dt->type != JSON_STRING) {
        snprintf(err, errlen, "%s: tensor %s: \"dtype\" is %s, expected a string", path, pname,
                 dt ? json_type_name(dt->type) : "missing");
        return -1;
    }
    int esize = dtype_bytes(dt->u.str);
    if (!esize) {
        char d[40];
        snprintf(err, errlen, "%s: tensor %s has unknown dtype \"%s\"", path, pname, json_printable(d, sizeof d, dt->u.str));
        return -1;
    }
    snprintf(t->dtype, sizeof t->dtype, "%s", dt->u.str);
    if (!sh || sh->type != JSON_ARRAY) {
        snprintf(err, errlen, "%s: tensor %s: \"shape\" is %s, expected an array of integers", path, pname,
                 sh ? json_type_name(sh->type) : "missing");
        return -1;
    }
    if (sh->n > ST_MAX_DIMS) {
        snprintf(err, errlen, "%s: tensor %s has %u dimensions (at most %d supported)", path, pname, sh->n, ST_MAX_DIMS);
        return -1;
    }
    t->ndim = (int)sh->n;
    uint64_t numel = 1;
    int overflow = 0;
    for (unsigned i = 0; i < sh->n; i++) {
        int64_t d;
        if (json_int64(json_at(sh, i), &d) || d < 0) {
            snprintf(err, errlen, "%s: tensor %s: shape entry %u is not a non-negative integer", path, pname, i);
            return -1;
        }
        t->shape[i] = d;
        if (d && numel > UINT64_MAX / (uint64_t)d) overflow = 1;
        else numel *= (uint64_t)d;
    }
    if (overflow || numel > SIZE_MAX / (size_t)esize) {
        char s[128];
        shape_str(s, sizeof s, t->ndim, t->shape);
        snprintf(err, errlen, "%s: tensor %s: shape %s has too many elements", path, pname, s);
        return -1;
    }
    int64_t b, e;
    if (!off || off->type != JSON_ARRAY || off->n != 2 || json_int64(json_at(off, 0), &b) ||
        json_int64(json_at(off, 1), &e) || b < 0 || e < 0) {
        snprintf(err, errlen, "%s: tensor %s: \"data_offsets\" must be [begin, end], two non-negative integers", path, pname);
        return -1;
    }
    if (b > e) {
        snprintf(err, errlen, "%s: tensor %s: data_offsets [%lld, %lld] end before they begin", path, pname,
                 (long long)b, (long long)e);
        return -1;
    }
    if ((uint64_t)e > data_size) {
        snprintf(err, errlen, "%s: tensor %s: data_offsets [%lld, %lld] reach beyond the data area (%zu bytes; truncated file?)",
                 path, pname, (long long)b, (long long)e, data_size);
        return -1;
    }
    t->begin = (size_t)b;
    t->end = (size_t)e;
    if ((size_t)numel * (size_t)esize != t->end - t->begin) {
        char s[128];
        shape_str(s, sizeof s, t->ndim, t->shape);
        snprintf(err, errlen, "%s: tensor %s: shape %s of %s needs %zu bytes but data_offsets [%zu, %zu] hold %zu",
                 path, pname, s, t->dtype, (size_t)numel * (size_t)esize, t->begin, t->end, t->end - t->begin);
        return -1;
    }
    return 0;
}

static int cmp_begin(const void *a, const void *b) {
    const StTensor *x = *(const StTensor *const *)a, *y = *(const StTensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The tensors must tile [0, data_size) exactly (the reference library's rule). */
static int check_layout(StFile *f, size_t data_size, const char *path, char *err, size_t errlen) {
    StTensor **order = xmalloc((size_t)(f->n_tensors ? f->n_tensors : 1) * sizeof *order);
    for (int i = 0; i < f->n_tensors; i++) order[i] = &f->tensors[i];
    qsort(order, (size_t)f->n_tensors, sizeof *order, cmp_begin);
    size_t at = 0;
    int rc = 0;
    char a[96], b[96];
    for (int i = 0; i < f->n_tensors && !rc; i++) {
        const StTensor *t = order[i];
        if (t->begin < at) {
            snprintf(err, errlen, "%s: tensors %s [%zu, %zu) and %s [%zu, %zu) overlap", path,
                     json_printable(a, sizeof a, order[i - 1]->name), order[i - 1]->begin, order[i - 1]->end,
                     json_printable(b, sizeof b, t->name), t->begin, t->end);
            rc = -1;
        } else if (t->begin > at) {
            snprintf(err, errlen, "%s: %zu unused bytes before tensor %s at data offset %zu (offsets must be contiguous)",
                     path, t->begin - at, json_printable(b, sizeof b, t->name), at);
            rc = -1;
        }
        at = t->end;
    }
    if (!rc && at != data_size) {
        snprintf(err, errlen, "%s: %zu bytes after the last tensor's data (file is %zu bytes, tensors end at %zu)", path,
                 data_size - at, f->size, f->size - (data_size - at));
        rc = -1;
    }
    free(order);
    return rc;
}

/* Point F32 tensors at their data; copy any that sit at a misaligned address
 * to an aligned tail appended to the buffer. */
static void place_data(StFile *f, size_t data_start) {
    size_t tail = (f->size + 63) / 64 * 64, extra = 0;
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].dtype, "F32") && (data_start + f->tensors[i].begin) % 4 != 0)
            extra += (f->tensors[i].end - f->tensors[i].begin + 63) / 64 * 64;
    if (extra) f->buf = xrealloc(f->buf, tail + extra);   /* malloc alignment >= 16 */
    size_t o = tail;
    for (int i = 0; i < f->n_tensors; i++) {
        StTensor *t = &f->tensors[i];
        t->data = NULL;
        if (strcmp(t->dtype, "F32") != 0) continue;
        const char *src = f->buf + data_start + t->begin;
        if ((data_start + t->begin) % 4 == 0) {
            t->data = (const float *)(const void *)src;
        } else {
            memcpy(f->buf + o, src, t->end - t->begin);
            t->data = (const float *)(const void *)(f->buf + o);
            o += (t->end - t->begin + 63) / 64 * 64;
        }
    }
}

/* ---- checksum --------------------------------------------------------------- */

static uint64_t hash_str(uint64_t h, const char *s) { return hash64_mix(h, hash64_bytes(s, strlen(s), 7)); }

/* One metadata entry or one tensor entry (name, dtype, shape, offsets) into h. */
static uint64_t hash_meta(uint64_t h, const char *key, const char *value) {
    return strcmp(key, ST_CHECKSUM_KEY) ? hash_str(hash_str(h, key), value) : h;
}

static uint64_t hash_entry(uint64_t h, const char *name, const char *dtype, int ndim, const int64_t *shape,
                           size_t begin, size_t end, const void *bytes) {
    h = hash_str(hash_str(h, name), dtype);
    h = hash64_mix(h, (uint64_t)ndim);
    for (int i = 0; i < ndim; i++) h = hash64_mix(h, (uint64_t)shape[i]);
    h = hash64_mix(hash64_mix(h, begin), end);
    return hash64_mix(h, hash64_bytes(bytes, end - begin, 8));
}

static void checksum_text(char *out, size_t n, uint64_t h) { snprintf(out, n, "h64:%016llx", (unsigned long long)h); }

/* Every metadata value but the checksum, every tensor entry in header order with its bytes. */
static uint64_t file_checksum(const StFile *f, size_t data_start) {
    uint64_t h = hash64_bytes("posbench-st-checksum 1", 22, 0);
    for (int i = 0; i < f->n_meta; i++) h = hash_meta(h, f->meta[i].key, f->meta[i].value);
    for (int i = 0; i < f->n_tensors; i++) {
        const StTensor *t = &f->tensors[i];
        h = hash_entry(h, t->name, t->dtype, t->ndim, t->shape, t->begin, t->end, f->buf + data_start + t->begin);
    }
    return h;
}

static int verify_checksum(const StFile *f, size_t data_start, const char *path, char *err, size_t errlen) {
    const char *want = st_meta(f, ST_CHECKSUM_KEY);
    if (!want) return 0;
    char got[32], p[48];
    checksum_text(got, sizeof got, file_checksum(f, data_start));
    if (strcmp(want, got) == 0) return 0;
    snprintf(err, errlen, "%s: checksum mismatch (header says %s, contents give %s): the file changed after it was "
             "written (a flipped bit, a damaged copy or an edited header)", path, json_printable(p, sizeof p, want), got);
    return -1;
}

int st_parse(StFile *f, char *buf, size_t size, const char *name, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    f->buf = buf;
    f->size = size;
    if (size < 8) {
        snprintf(err, errlen, "%s: file is %zu bytes, too short for a safetensors header (8-byte length first)", name, size);
        st_free(f);
        return -1;
    }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | (unsigned char)buf[i];
    if (n > size - 8) {
        snprintf(err, errlen, "%s: header length %llu is larger than the file (%zu bytes); truncated or not a safetensors file",
                 name, (unsigned long long)n, size);
        st_free(f);
        return -1;
    }
    if (n > ST_MAX_HEADER) {
        snprintf(err, errlen, "%s: header length %llu exceeds the 100 MB limit", name, (unsigned long long)n);
        st_free(f);
        return -1;
    }
    size_t data_start = 8 + (size_t)n, data_size = size - data_start;
    JsonDoc doc;
    char jerr[ERRLEN];
    if (json_parse(&doc, buf + 8, (size_t)n, jerr, sizeof jerr) != 0) {
        snprintf(err, errlen, "%s: header is not valid JSON (%s)", name, jerr);
        st_free(f);
        return -1;
    }
    const JsonValue *root = &doc.root;
    int rc = 0;
    if (root->type != JSON_OBJECT) {
        snprintf(err, errlen, "%s: header is a JSON %s, expected an object", name, json_type_name(root->type));
        rc = -1;
    }
    int n_tensors = 0;
    for (unsigned i = 0; !rc && i < root->n; i++)
        if (strcmp(json_key(root, i), "__metadata__") != 0) n_tensors++;
    if (!rc) f->tensors = xcalloc((size_t)(n_tensors ? n_tensors : 1), sizeof *f->tensors);
    for (unsigned i = 0; !rc && i < root->n; i++) {
        const char *key = json_key(root, i);
        const JsonValue *v = json_value(root, i);
        char pname[96];
        if (!strcmp(key, "__metadata__")) {
            if (v->type != JSON_OBJECT) {
                snprintf(err, errlen, "%s: __metadata__ is a %s, expected an object of strings", name, json_type_name(v->type));
                rc = -1;
                break;
            }
            f->meta = xcalloc(v->n ? v->n : 1, sizeof *f->meta);
            for (unsigned k = 0; k < v->n; k++) {
                const JsonValue *mv = json_value(v, k);
                if (mv->type != JSON_STRING) {
                    snprintf(err, errlen, "%s: __metadata__ value of \"%s\" is a %s, expected a string", name,
                             json_printable(pname, sizeof pname, json_key(v, k)), json_type_name(mv->type));
                    rc = -1;
                    break;
                }
                f->meta[f->n_meta].key = xstrdup(json_key(v, k));
                f->meta[f->n_meta].value = xstrdup(mv->u.str);
                f->n_meta++;
            }
            continue;
        }
        StTensor *t = &f->tensors[f->n_tensors];
        rc = parse_entry(t, v, data_size, name, json_printable(pname, sizeof pname, key), err, errlen);
        if (!rc) {
            t->name = xstrdup(key);
            f->n_tensors++;
        }
    }
    json_doc_free(&doc);
    if (!rc) rc = check_layout(f, data_size, name, err, errlen);
    if (!rc) rc = verify_checksum(f, data_start, name, err, errlen);
    if (rc) {
        st_free(f);
        return -1;
    }
    place_data(f, data_start);
    return 0;
}

int st_read(StFile *f, const char *path, char *err, size_t errlen) {
    size_t len;
    struct stat sb;
    memset(f, 0, sizeof *f);
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: is a folder, not a checkpoint file", path);
        return -1;
    }
    char *buf = read_file(path, &len, err, errlen);
    if (!buf) return -1;
    return st_parse(f, buf, len, path, err, errlen);
}

const StTensor *st_find(const StFile *f, const char *name) {
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

const char *st_meta(const StFile *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta[i].key, key)) return f->meta[i].value;
    return NULL;
}

/* Writer ------------------------------------------------------------------ */

void st_writer_init(StWriter *w) { memset(w, 0, sizeof *w); }

void st_writer_add(StWriter *w, const char *name, const float *data, int ndim, const int64_t *shape) {
    if (strlen(name) >= sizeof w->t[0].name) die_internal("safetensors: tensor name '%s' is too long", name);
    if (ndim < 0 || ndim > ST_MAX_DIMS) die_internal("safetensors: tensor %s has %d dimensions", name, ndim);
    if (!strcmp(name, "__metadata__")) die_internal("safetensors: '__metadata__' is not a tensor name");
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->t[i].name, name)) die_internal("safetensors: tensor %s added twice", name);
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 64;
        w->t = xrealloc(w->t, (size_t)w->cap * sizeof *w->t);
    }
    snprintf(w->t[w->n].name, sizeof w->t[w->n].name, "%s", name);
    w->t[w->n].ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) die_internal("safetensors: tensor %s has a negative dimension", name);
        w->t[w->n].shape[i] = shape[i];
    }
    w->t[w->n].data = data;
    w->n++;
}

void st_writer_meta(StWriter *w, const char *key, const char *value) {
    for (int i = 0; i < w->n_meta; i++)
        if (!strcmp(w->meta[i].key, key)) {   /* last value wins */
            free(w->meta[i].value);
            w->meta[i].value = xstrdup(value);
            return;
        }
    if (w->n_meta == w->cap_meta) {
        w->cap_meta = w->cap_meta ? 2 * w->cap_meta : 16;
        w->meta = xrealloc(w->meta, (size_t)w->cap_meta * sizeof *w->meta);
    }
    w->meta[w->n_meta].key = xstrdup(key);
    w->meta[w->n_meta].value = xstrdup(value);
    w->n_meta++;
}

static size_t writer_numel(const StWriter *w, int i) {
    size_t n = 1;
    for (int k = 0; k < w->t[i].ndim; k++) {
        size_t d = (size_t)w->t[i].shape[k];
        if (d && n > SIZE_MAX / 4 / d) die_internal("safetensors: tensor %s is too large", w->t[i].name);
        n *= d;
    }
    return n;
}

static void append(char **buf, size_t *len, size_t *cap, const char *s) {
    size_t k = strlen(s);
    if (*len + k + 1 > *cap) {
        *cap = *len + k + 1 > 2 * *cap ? *len + k + 1 : 2 * *cap;
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, s, k + 1);
    *len += k;
}

/* The checksum file_checksum will compute from the written file. */
static void writer_stamp(StWriter *w) {
    uint64_t h = hash64_bytes("posbench-st-checksum 1", 22, 0);
    for (int i = 0; i < w->n_meta; i++) h = hash_meta(h, w->meta[i].key, w->meta[i].value);
    size_t at = 0;
    for (int i = 0; i < w->n; i++) {
        size_t bytes = writer_numel(w, i) * 4;
        h = hash_entry(h, w->t[i].name, "F32", w->t[i].ndim, w->t[i].shape, at, at + bytes, w->t[i].data);
        at += bytes;
    }
    char text[32];
    checksum_text(text, sizeof text, h);
    st_writer_meta(w, ST_CHECKSUM_KEY, text);
}

int st_writer_write(StWriter *w, const char *path, char *err, size_t errlen) {
    AtomicFile af;
    if (st_writer_stage(w, path, &af, err, errlen) != 0) return -1;
    return atomic_rename(&af, err, errlen);
}

int st_writer_stage(StWriter *w, const char *path, AtomicFile *af_out, char *err, size_t errlen) {
    writer_stamp(w);
    char *h = NULL, num[64];
    size_t len = 0, cap = 0, at = 0;
    append(&h, &len, &cap, "{");
    if (w->n_meta) {
        append(&h, &len, &cap, "\"__metadata__\":{");
        for (int i = 0; i < w->n_meta; i++) {
            if (i) append(&h, &len, &cap, ",");
            json_append_string(&h, &len, &cap, w->meta[i].key);
            append(&h, &len, &cap, ":");
            json_append_string(&h, &len, &cap, w->meta[i].value);
        }
        append(&h, &len, &cap, "}");
    }
    for (int i = 0; i < w->n; i++) {
        if (i || w->n_meta) append(&h, &len, &cap, ",");
        json_append_string(&h, &len, &cap, w->t[i].name);
        append(&h, &len, &cap, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int k = 0; k < w->t[i].ndim; k++) {
            snprintf(num, sizeof num, "%s%lld", k ? "," : "", (long long)w->t[i].shape[k]);
            append(&h, &len, &cap, num);
        }
        size_t bytes = writer_numel(w, i) * 4;
        snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", at, at + bytes);
        append(&h, &len, &cap, num);
        at += bytes;
    }
    append(&h, &len, &cap, "}");
    while ((8 + len) % 8) append(&h, &len, &cap, " ");   /* data area 8-aligned */

    AtomicFile af;
    if (atomic_open(&af, path, "wb", err, errlen) != 0) {
        free(h);
        return -1;
    }
    *af_out = af;
    unsigned char n8[8];
    for (int i = 0; i < 8; i++) n8[i] = (unsigned char)((uint64_t)len >> (8 * i));
    fwrite(n8, 1, 8, af.fp);
    fwrite(h, 1, len, af.fp);
    free(h);
    for (int i = 0; i < w->n; i++) {
        size_t k = writer_numel(w, i);
        if (k && fwrite(w->t[i].data, sizeof(float), k, af.fp) != k) break;   /* ferror is checked at finish */
    }
    int rc = atomic_finish(&af, err, errlen);
    *af_out = af;
    return rc;
}

void st_writer_free(StWriter *w) {
    for (int i = 0; i < w->n_meta; i++) {
        free(w->meta[i].key);
        free(w->meta[i].value);
    }
    free(w->meta);
    free(w->t);
    memset(w, 0, sizeof *w);
}
