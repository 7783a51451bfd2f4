/* test_checkpoint.c — the JSON parser, the safetensors reader/writer and the
 * checkpoint loader: round trips (weights, config, AdamW, TrainState) for
 * every method, a battery of corrupted files that must each fail with one
 * line naming the file, a mutation fuzz loop (run it under ASan), and the
 * committed fixture tests/fixtures/ckpt/tiny_t5.safetensors (which
 * tests/bad_checkpoints.sh corrupts at the CLI level).
 *
 * POSBENCH_WRITE_CKPT_FIXTURE=1 rewrites that fixture (run from the repo root);
 * POSBENCH_FUZZ_ITERS=N runs N mutations instead of 2000 (400 with --quick).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "../model/checkpoint.h"
#include "../common/json.h"
#include "../common/util.h"

#define FIXTURE "tests/fixtures/ckpt/tiny_t5.safetensors"

static char tmpdir[64];

static const char *tpath(const char *name) {
    static char bufs[8][256];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, 256, "%s/%s", tmpdir, name);
    return b;
}

static void spit(const char *path, const void *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) die_internal("test: cannot write %s", path);
    if (n) fwrite(buf, 1, n, f);
    fclose(f);
}

/* N (u64 LE) + header + data */
static void write_st(const char *path, const char *header, size_t hlen, const char *data, size_t dlen) {
    char *buf = xmalloc(8 + hlen + dlen);
    for (int i = 0; i < 8; i++) buf[i] = (char)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, header, hlen);
    if (dlen) memcpy(buf + 8 + hlen, data, dlen);
    spit(path, buf, 8 + hlen + dlen);
    free(buf);
}

/* A valid file split into its header text and data area. */
typedef struct Parts { char *file; size_t size; char *header; size_t hlen; const char *data; size_t dlen; } Parts;

static void parts_read(Parts *p, const char *path) {
    char err[ERRLEN];
    p->file = read_file(path, &p->size, err, sizeof err);
    if (!p->file) die_internal("test: %s", err);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | (unsigned char)p->file[i];
    p->hlen = (size_t)n;
    p->header = xmalloc(p->hlen + 1);
    memcpy(p->header, p->file + 8, p->hlen);
    p->header[p->hlen] = 0;
    p->data = p->file + 8 + p->hlen;
    p->dlen = p->size - 8 - p->hlen;
}

static void parts_free(Parts *p) {
    free(p->file);
    free(p->header);
}

/* s with the first `from` replaced by `to` (malloc'd), or NULL if absent. */
static char *replace1(const char *s, const char *from, const char *to) {
    const char *at = strstr(s, from);
    if (!at) return NULL;
    size_t a = (size_t)(at - s), lf = strlen(from), lt = strlen(to), ls = strlen(s);
    char *r = xmalloc(ls - lf + lt + 1);
    memcpy(r, s, a);
    memcpy(r + a, to, lt);
    memcpy(r + a + lt, at + lf, ls - a - lf + 1);
    return r;
}

/* Turn a posbench-2 header into the older posbench-1 form (no checksum), so each check of the
 * loader can be hit by an edit that the checksum would otherwise catch first. */
static void legacy_header(Parts *p) {
    char *f = replace1(p->header, "\"format\":\"posbench-2\"", "\"format\":\"posbench-1\"");
    if (!f) die_internal("test: no posbench-2 format in the header");
    char *c = strstr(f, ",\"checksum\":\"h64:");
    if (!c) die_internal("test: no checksum in the header");
    memmove(c, c + 34, strlen(c + 34) + 1);   /* ,"checksum":"h64:" + 16 hex + " */
    free(p->header);
    p->header = f;
    p->hlen = strlen(f);
}

/* The message is one line that starts with "PATH: ". */
static int names_file(const char *err, const char *path) {
    size_t k = strlen(path);
    return strncmp(err, path, k) == 0 && err[k] == ':' && err[k + 1] == ' ' && !strchr(err, '\n') && strlen(err) > k + 4;
}

static void expect_load_fail(const char *what, const char *path, const char *want) {
    Model m;
    char err[ERRLEN] = "";
    int rc = checkpoint_load(path, &m, NULL, NULL, err, sizeof err);
    CHECK(rc == -1, "%s: load should fail", what);
    if (rc == 0) { model_free(&m); return; }
    CHECK(strstr(err, want) != NULL, "%s: message \"%s\" should mention \"%s\"", what, err, want);
    CHECK(names_file(err, path), "%s: message \"%s\" should be one line starting with the file name", what, err);
}

/* Write header (a replacement applied to the valid one) + data, expect failure. */
static void expect_header_fail(const char *what, const Parts *p, const char *from, const char *to, const char *want) {
    char *h = replace1(p->header, from, to);
    CHECK(h != NULL, "%s: test setup: \"%s\" not found in the header", what, from);
    if (!h) return;
    const char *path = tpath("bad.safetensors");
    write_st(path, h, strlen(h), p->data, p->dlen);
    expect_load_fail(what, path, want);
    free(h);
}

/* ---- JSON --------------------------------------------------------------------- */

static void test_json_valid(void) {
    JsonDoc d;
    char err[ERRLEN];
    const char *s = " {\"a\": 1, \"b\" : [true, false, null, -0, 1.5e3, -2.25E-1],\n"
                    "  \"c\": \"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\xc3\xa9\", \"d\": {}, \"e\": [] }\r\n";
    CHECK(json_parse(&d, s, strlen(s), err, sizeof err) == 0, "json: valid document rejected: %s", err);
    if (d.root.type == JSON_OBJECT) {
        int64_t v;
        CHECK(d.root.n == 5, "json: 5 members, got %u", d.root.n);
        CHECK(json_int64(json_get(&d.root, "a"), &v) == 0 && v == 1, "json: a == 1");
        const JsonValue *b = json_get(&d.root, "b");
        CHECK(b && b->type == JSON_ARRAY && b->n == 6, "json: b is an array of 6");
        CHECK(json_at(b, 0)->type == JSON_TRUE && json_at(b, 1)->type == JSON_FALSE && json_at(b, 2)->type == JSON_NULL,
              "json: literals");
        CHECK(json_int64(json_at(b, 3), &v) == 0 && v == 0, "json: -0 is the integer 0");
        CHECK(json_int64(json_at(b, 4), &v) == -1 && json_number(json_at(b, 4)) == 1500.0, "json: 1.5e3 is 1500, not an integer");
        CHECK(json_number(json_at(b, 5)) == -0.225, "json: -2.25E-1");
        const JsonValue *c = json_get(&d.root, "c");
        const char *want = "q\"b\\s/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xa9";
        CHECK(c && c->type == JSON_STRING && strcmp(c->u.str, want) == 0 && c->n == strlen(want),
              "json: escapes and \\u (incl. a surrogate pair) decode to UTF-8");
        CHECK(json_get(&d.root, "d")->type == JSON_OBJECT && json_get(&d.root, "d")->n == 0, "json: empty object");
        CHECK(json_get(&d.root, "e")->type == JSON_ARRAY && json_get(&d.root, "e")->n == 0, "json: empty array");
        CHECK(json_get(&d.root, "zz") == NULL && !strcmp(json_key(&d.root, 2), "c"), "json: lookup and member order");
    }
    json_doc_free(&d);

    static const struct { const char *text; int64_t i; int is_int; double num; } nums[] = {
        {"0", 0, 1, 0},
        {"-9223372036854775808", INT64_MIN, 1, 0},
        {"9223372036854775807", INT64_MAX, 1, 0},
        {"9223372036854775808", 0, 0, 9223372036854775808.0},
        {"1e2", 0, 0, 100},
        {"123456789012", 123456789012LL, 1, 0},
        {"-1.0", 0, 0, -1},
        {"5e-400", 0, 0, 0},   /* underflow to 0 is fine */
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        int rc = json_parse(&d, nums[i].text, strlen(nums[i].text), err, sizeof err);
        int64_t v = 0;
        int ok = rc == 0 && d.root.type == JSON_NUMBER &&
                 (nums[i].is_int ? json_int64(&d.root, &v) == 0 && v == nums[i].i
                                 : json_int64(&d.root, &v) == -1 && json_number(&d.root) == nums[i].num);
        CHECK(ok, "json: number %s", nums[i].text);
        json_doc_free(&d);
    }
    /* nesting up to the limit is fine */
    char deep[2 * JSON_MAX_DEPTH + 1];
    for (int i = 0; i < JSON_MAX_DEPTH; i++) deep[i] = '[', deep[2 * JSON_MAX_DEPTH - 1 - i] = ']';
    CHECK(json_parse(&d, deep, 2 * JSON_MAX_DEPTH, err, sizeof err) == 0, "json: %d levels accepted: %s", JSON_MAX_DEPTH, err);
    json_doc_free(&d);

    /* not NUL-terminated: the parser reads only len bytes */
    char *exact = xmalloc(7);
    memcpy(exact, "[1,2,3]", 7);
    CHECK(json_parse(&d, exact, 7, err, sizeof err) == 0 && d.root.n == 3, "json: parses exactly len bytes");
    json_doc_free(&d);
    CHECK(json_parse(&d, exact, 6, err, sizeof err) == -1, "json: a cut document is an error");
    free(exact);

    /* escaping round trip: every control character, quotes, backslash, UTF-8 */
    char raw[64];
    int k = 0;
    for (int c = 1; c < 32; c++) raw[k++] = (char)c;
    memcpy(raw + k, "\"\\/\xc3\xa9z", 7);
    raw[k + 7] = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    json_append_string(&buf, &len, &cap, raw);
    CHECK(json_parse(&d, buf, len, err, sizeof err) == 0 && d.root.type == JSON_STRING && !strcmp(d.root.u.str, raw),
          "json: json_append_string output parses back to the same string");
    json_doc_free(&d);
    free(buf);

    char small[16];
    CHECK(!strcmp(json_printable(small, sizeof small, "a\nb"), "a\\x0ab"), "json_printable escapes control bytes");
    CHECK(!strcmp(json_printable(small, sizeof small, "abcdefghijklmnopqrstuvwxyz"), "abcdefghijkl..."),
          "json_printable truncates with ...: got %s", small);
}

static void test_json_invalid(void) {
    static const struct { const char *text; size_t len; } bad[] = {
        {"", 0}, {"   ", 3}, {"{", 1}, {"[", 1}, {"[1,]", 4}, {"{\"a\":1,}", 8}, {"{\"a\" 1}", 7}, {"{a:1}", 5},
        {"{\"a\":}", 6}, {"{,}", 3}, {"[,1]", 4}, {"[1 2]", 5}, {"01", 2}, {"-01", 3}, {"1.", 2}, {".5", 2},
        {"+1", 2}, {"1e", 2}, {"1e+", 3}, {"-", 1}, {"--1", 3}, {"NaN", 3}, {"Infinity", 8}, {"-Infinity", 9},
        {"tru", 3}, {"nul", 3}, {"True", 4}, {"\"abc", 4}, {"\"a\\x\"", 5}, {"\"\\u12\"", 6}, {"\"\\u12g4\"", 8},
        {"\"\\ud800\"", 8}, {"\"\\udc00\"", 8}, {"\"\\ud800\\u0041\"", 14}, {"\"\\ud800x\"", 9}, {"\"\\u0000\"", 8},
        {"\"tab\there\"", 10}, {"\"nl\nx\"", 6}, {"[1] x", 5}, {"{\"a\":1}{}", 9}, {"1 2", 3},
        {"{\"a\":1,\"a\":2}", 13}, {"\"\xff\"", 3}, {"\"\xc0\xaf\"", 4}, {"\"\xed\xa0\x80\"", 5},
        {"\"\xf4\x90\x80\x80\"", 6}, {"\"\xe2\x82\"", 4}, {"\"\xc3\"", 3}, {"1e999", 5}, {"-1e999", 6}, {"'a'", 3},
        {"// c\n1", 6}, {"[1]\0", 4}, {"\0", 1}, {"{\"a\":1 \"b\":2}", 13}, {"[\"a\":1]", 7}, {"\xef\xbb\xbf{}", 5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        JsonDoc d;
        char err[ERRLEN] = "";
        int rc = json_parse(&d, bad[i].text, bad[i].len, err, sizeof err);
        char shown[64];
        json_printable(shown, sizeof shown, bad[i].text);
        CHECK(rc == -1 && strncmp(err, "invalid JSON at byte ", 21) == 0 && !strchr(err, '\n'),
              "json: invalid #%zu '%s' should fail with a one-line message (rc %d, '%s')", i, shown, rc, err);
        if (rc == 0) json_doc_free(&d);
    }
    /* a duplicate among many keys (the sorted path) */
    char big[1024];
    size_t o = (size_t)snprintf(big, sizeof big, "{");
    for (int i = 0; i < 40; i++) o += (size_t)snprintf(big + o, sizeof big - o, "\"k%d\":%d,", i, i);
    snprintf(big + o, sizeof big - o, "\"k17\":0}");
    JsonDoc d;
    char err[ERRLEN] = "";
    CHECK(json_parse(&d, big, strlen(big), err, sizeof err) == -1 && strstr(err, "duplicate key \"k17\""),
          "json: duplicate key among 41 found: %s", err);
    /* one level too deep */
    char deep[2 * JSON_MAX_DEPTH + 3];
    for (int i = 0; i <= JSON_MAX_DEPTH; i++) deep[i] = '[', deep[2 * JSON_MAX_DEPTH + 1 - i] = ']';
    CHECK(json_parse(&d, deep, 2 * JSON_MAX_DEPTH + 2, err, sizeof err) == -1 && strstr(err, "deeper"),
          "json: %d levels rejected: %s", JSON_MAX_DEPTH + 1, err);
    /* messages point at the byte */
    CHECK(json_parse(&d, "[1,2,x]", 7, err, sizeof err) == -1 && strstr(err, "byte 5") && strstr(err, "'x'"),
          "json: message names byte 5 and the character: %s", err);
    /* a failure deep inside leaks nothing (ASan/LSan) */
    const char *leaky = "{\"a\":[[1,2],{\"b\":[3,{\"c\":\"d\"}]}],\"e\":[[[[}";
    CHECK(json_parse(&d, leaky, strlen(leaky), err, sizeof err) == -1, "json: nested failure");
}

/* ---- safetensors --------------------------------------------------------------- */

static void test_st_roundtrip(void) {
    float a[6] = {1, -2, 3.5f, 1e-30f, -0.0f, 65504}, s0[1] = {42}, z[1] = {0};
    int64_t sa[2] = {2, 3}, sz[2] = {0, 3};
    StWriter w;
    st_writer_init(&w);
    st_writer_meta(&w, "k\"ey\n", "v\xc3\xa4lue\t\\");
    st_writer_meta(&w, "plain", "x");
    st_writer_add(&w, "a", a, 2, sa);
    st_writer_add(&w, "scalar", s0, 0, NULL);
    st_writer_add(&w, "empty", z, 2, sz);
    st_writer_add(&w, "odd \"name\"", a, 1, (int64_t[]){5});
    const char *path = tpath("rt.safetensors");
    char err[ERRLEN];
    CHECK(st_writer_write(&w, path, err, sizeof err) == 0, "st: write: %s", err);
    st_writer_free(&w);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    CHECK(!path_exists(tmp), "st: no temporary file left behind");

    StFile f;
    CHECK(st_read(&f, path, err, sizeof err) == 0, "st: read back: %s", err);
    if (!f.buf) return;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | (unsigned char)f.buf[i];
    CHECK((8 + n) % 8 == 0, "st: header padded so data starts at a multiple of 8 (N = %llu)", (unsigned long long)n);
    CHECK(!strncmp(f.buf + 8, "{\"__metadata__\":{", 17), "st: __metadata__ comes first");
    CHECK(f.n_tensors == 4 && f.n_meta == 3, "st: 4 tensors, 2 metadata entries and the checksum");
    CHECK(st_meta(&f, ST_CHECKSUM_KEY) && !strncmp(st_meta(&f, ST_CHECKSUM_KEY), "h64:", 4), "st: checksum written");
    CHECK(st_meta(&f, "k\"ey\n") && !strcmp(st_meta(&f, "k\"ey\n"), "v\xc3\xa4lue\t\\"), "st: metadata escapes round-trip");
    CHECK(st_meta(&f, "absent") == NULL, "st: absent metadata is NULL");
    const StTensor *t = st_find(&f, "a");
    CHECK(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && !strcmp(t->dtype, "F32") && t->begin == 0 &&
          t->end == 24 && t->data && !memcmp(t->data, a, sizeof a), "st: tensor a round-trips");
    t = st_find(&f, "scalar");
    CHECK(t && t->ndim == 0 && t->end - t->begin == 4 && t->data && t->data[0] == 42, "st: 0-d tensor");
    t = st_find(&f, "empty");
    CHECK(t && t->ndim == 2 && t->shape[0] == 0 && t->begin == t->end, "st: zero-size tensor");
    t = st_find(&f, "odd \"name\"");
    CHECK(t && t->shape[0] == 5 && !memcmp(t->data, a, 5 * sizeof(float)), "st: quoted name");
    for (int i = 0; i < f.n_tensors; i++)
        CHECK(!f.tensors[i].data || (uintptr_t)f.tensors[i].data % 4 == 0, "st: data pointer aligned");
    st_free(&f);
    st_free(&f);   /* idempotent */

    /* a data area at an odd address, and an F32 tensor at offset 2 after an F16 one */
    char hdr[256];
    snprintf(hdr, sizeof hdr, "{\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                              "\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[2,14]}}");
    while ((8 + strlen(hdr)) % 4 != 1) strcat(hdr, " ");
    char data[14] = {0x00, 0x3c};
    float xv[3] = {1.25f, -7, 3e8f};
    memcpy(data + 2, xv, sizeof xv);
    path = tpath("misaligned.safetensors");
    write_st(path, hdr, strlen(hdr), data, sizeof data);
    CHECK(st_read(&f, path, err, sizeof err) == 0, "st: misaligned file reads: %s", err);
    t = f.buf ? st_find(&f, "x") : NULL;
    CHECK(t && t->data && (uintptr_t)t->data % 4 == 0 && !memcmp(t->data, xv, sizeof xv),
          "st: misaligned F32 data copied to an aligned place, values intact");
    t = f.buf ? st_find(&f, "h") : NULL;
    CHECK(t && !t->data && !strcmp(t->dtype, "F16"), "st: non-F32 tensors get no data pointer");
    st_free(&f);

    /* a header with no tensors and no data is a valid (empty) file */
    path = tpath("empty_obj.safetensors");
    write_st(path, "{}      ", 8, NULL, 0);
    CHECK(st_read(&f, path, err, sizeof err) == 0 && f.n_tensors == 0, "st: {} is a valid empty file: %s", err);
    st_free(&f);

    /* the 100 MB header limit (needs a >100 MB buffer: skipped under --quick) */
    if (!check_quick) {
        size_t size = 8 + 100u * 1000u * 1000u + 8;
        char *big = xcalloc(size, 1);
        uint64_t hl = 100u * 1000u * 1000u + 1;
        for (int i = 0; i < 8; i++) big[i] = (char)(hl >> (8 * i));
        CHECK(st_parse(&f, big, size, "big", err, sizeof err) == -1 && strstr(err, "100 MB"),
              "st: header over 100 MB rejected: %s", err);
    }
}

/* Reader-level failures, from a hand-written header over a small data area. */
static void expect_st_fail(const char *what, const char *header, size_t dlen, const char *want) {
    static const char zeros[64];
    const char *path = tpath("st_bad.safetensors");
    write_st(path, header, strlen(header), zeros, dlen);
    StFile f;
    char err[ERRLEN] = "";
    int rc = st_read(&f, path, err, sizeof err);
    CHECK(rc == -1, "%s: st_read should fail", what);
    if (rc == 0) { st_free(&f); return; }
    CHECK(strstr(err, want) != NULL, "%s: message \"%s\" should mention \"%s\"", what, err, want);
    CHECK(names_file(err, path), "%s: message \"%s\" should be one line naming the file", what, err);
}

static void test_st_invalid(void) {
#define T1(dt, shape, off) "{\"t\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":" off "}}"
    expect_st_fail("st: entry not an object", "{\"t\":[1]}", 0, "expected an object");
    expect_st_fail("st: dtype missing", "{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "\"dtype\" is missing");
    expect_st_fail("st: dtype not a string", "{\"t\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                   "\"dtype\" is number");
    expect_st_fail("st: unknown dtype", T1("F33", "[1]", "[0,4]"), 4, "unknown dtype \"F33\"");
    expect_st_fail("st: shape missing", "{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "\"shape\" is missing");
    expect_st_fail("st: shape not an array", T1("F32", "4", "[0,4]"), 4, "\"shape\" is number");
    expect_st_fail("st: negative shape", T1("F32", "[-1]", "[0,4]"), 4, "shape entry 0 is not a non-negative integer");
    expect_st_fail("st: float shape", T1("F32", "[1.0]", "[0,4]"), 4, "shape entry 0 is not a non-negative integer");
    expect_st_fail("st: string shape", T1("F32", "[\"1\"]", "[0,4]"), 4, "not a non-negative integer");
    expect_st_fail("st: 5 dims", T1("F32", "[1,1,1,1,1]", "[0,4]"), 4, "5 dimensions");
    expect_st_fail("st: numel overflow", T1("F32", "[4294967296,4294967296]", "[0,4]"), 4, "too many elements");
    expect_st_fail("st: numel x 4 overflow", T1("F32", "[4611686018427387904]", "[0,4]"), 4, "too many elements");
    expect_st_fail("st: size mismatch", T1("F32", "[2]", "[0,4]"), 4, "needs 8 bytes");
    expect_st_fail("st: offsets missing", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "data_offsets");
    expect_st_fail("st: offsets of 3", T1("F32", "[1]", "[0,4,8]"), 4, "[begin, end]");
    expect_st_fail("st: negative offset", T1("F32", "[1]", "[-4,0]"), 4, "[begin, end]");
    expect_st_fail("st: begin > end", T1("F32", "[0]", "[4,0]"), 4, "end before they begin");
    expect_st_fail("st: offsets beyond data", T1("F32", "[1]", "[0,4]"), 3, "beyond the data area");
    expect_st_fail("st: huge offsets", T1("F32", "[1]", "[18446744073709551612,18446744073709551616]"), 4, "data_offsets");
    expect_st_fail("st: overlap",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap");
    expect_st_fail("st: same range twice",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "overlap");
    expect_st_fail("st: gap", T1("F32", "[1]", "[4,8]"), 8, "unused bytes before tensor t");
    expect_st_fail("st: trailing data", T1("F32", "[1]", "[0,4]"), 12, "8 bytes after the last tensor");
    expect_st_fail("st: duplicate tensor",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                   "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "duplicate key \"a\"");
    expect_st_fail("st: metadata not an object", "{\"__metadata__\":[\"a\"]}", 0, "__metadata__ is a array");
    expect_st_fail("st: metadata value not a string", "{\"__metadata__\":{\"vocab\":256}}", 0,
                   "value of \"vocab\" is a number");
    expect_st_fail("st: metadata value null", "{\"__metadata__\":{\"a\":\"b\",\"c\":null}}", 0, "is a null");
    expect_st_fail("st: header not JSON", "hello world", 0, "header is not valid JSON");
    expect_st_fail("st: header a JSON array", "[1,2]", 0, "header is a JSON array, expected an object");
    expect_st_fail("st: header with trailing garbage", "{} x", 0, "unexpected data after the JSON value");
    expect_st_fail("st: newline in a tensor name stays one line",
                   "{\"a\\nb\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "a\\x0ab");
#undef T1

    StFile f;
    char err[ERRLEN] = "";
    const char *path = tpath("absent.safetensors");
    CHECK(st_read(&f, path, err, sizeof err) == -1 && names_file(err, path) && strstr(err, "cannot open"),
          "st: missing file: %s", err);
    CHECK(st_read(&f, tmpdir, err, sizeof err) == -1 && names_file(err, tmpdir), "st: a folder: %s", err);
}

/* ---- checkpoints ----------------------------------------------------------------- */

static void fill_random(float *p, size_t n, Rng *r, float scale) {
    for (size_t i = 0; i < n; i++) p[i] = scale * rng_normal(r);
}

static int build(Model *m, const char *method, int vocab, int n_layer, int n_head, int d_model, uint64_t seed) {
    ModelConfig cfg = {.vocab = vocab, .n_layer = n_layer, .n_head = n_head, .d_model = d_model, .train_len = 64};
    snprintf(cfg.method, sizeof cfg.method, "%s", method);
    char err[ERRLEN];
    if (model_build(m, &cfg, err, sizeof err) != 0) {
        CHECK(0, "model_build(%s): %s", method, err);
        return -1;
    }
    model_init_weights(m, seed);
    Rng r;
    rng_seed(&r, seed + 1);
    if (m->pos_numel) fill_random(m->params + m->pos_offset, m->pos_numel, &r, 0.5f);   /* not just zeros */
    return 0;
}

static void test_ckpt_roundtrip(void) {
    char err[ERRLEN];
    for (int k = 0; k < pos_method_count; k++) {
        const char *method = pos_methods[k]->name;
        Model m, m2;
        if (build(&m, method, 64, 2, 2, 16, 100 + (uint64_t)k) != 0) continue;
        AdamW opt, opt2;
        adamw_init(&opt, &m, 0.1f);
        Rng r;
        rng_seed(&r, 7);
        fill_random(opt.m, m.n_params, &r, 1e-3f);
        for (size_t i = 0; i < m.n_params; i++) opt.v[i] = fabsf(rng_normal(&r)) * 1e-6f;
        opt.step = 7;
        opt.beta2 = 0.99f;
        TrainState ts = {.step = 123, .data_rng = 0xDEADBEEFCAFEF00Dull}, ts2;
        snprintf(ts.extra_json, sizeof ts.extra_json, "{\"lr\":0.001,\"name\":\"x\\\"y\",\"lens\":[64,128]}");
        const char *path = tpath("full.safetensors");
        CHECK(checkpoint_save(path, &m, &opt, &ts, err, sizeof err) == 0, "%s: save: %s", method, err);
        int rc = checkpoint_load(path, &m2, &opt2, &ts2, err, sizeof err);
        CHECK(rc == 0, "%s: load: %s", method, err);
        if (rc == 0) {
            CHECK(!memcmp(&m.cfg, &m2.cfg, sizeof m.cfg), "%s: config round-trips", method);
            CHECK(m2.n_params == m.n_params && m2.n_tensors == m.n_tensors && m2.pos == m.pos, "%s: same model", method);
            CHECK(!memcmp(m.params, m2.params, m.n_params * sizeof(float)), "%s: weights bit-exact", method);
            CHECK(!memcmp(opt.m, opt2.m, m.n_params * sizeof(float)) && !memcmp(opt.v, opt2.v, m.n_params * sizeof(float)),
                  "%s: AdamW m and v bit-exact", method);
            CHECK(opt2.step == 7 && opt2.beta1 == opt.beta1 && opt2.beta2 == 0.99f && opt2.eps == opt.eps &&
                  opt2.weight_decay == 0.1f, "%s: AdamW step and hyperparameters", method);
            CHECK(ts2.step == 123 && ts2.data_rng == 0xDEADBEEFCAFEF00Dull && !strcmp(ts2.extra_json, ts.extra_json),
                  "%s: TrainState round-trips", method);
            adamw_free(&opt2);
            model_free(&m2);
        }
        /* the same file, weights only */
        rc = checkpoint_load(path, &m2, NULL, NULL, err, sizeof err);
        CHECK(rc == 0 && !memcmp(m.params, m2.params, m.n_params * sizeof(float)), "%s: weights-only load of a full file: %s",
              method, err);
        if (rc == 0) model_free(&m2);
        /* a weights-only file cannot resume */
        const char *wpath = tpath("weights.safetensors");
        CHECK(checkpoint_save(wpath, &m, NULL, NULL, err, sizeof err) == 0, "%s: save weights: %s", method, err);
        rc = checkpoint_load(wpath, &m2, &opt2, NULL, err, sizeof err);
        CHECK(rc == -1 && strstr(err, "no optimiser state") && names_file(err, wpath) && m2.params == NULL &&
              opt2.m == NULL, "%s: resume from weights-only fails cleanly: %s", method, err);
        rc = checkpoint_load(wpath, &m2, NULL, &ts2, err, sizeof err);
        CHECK(rc == -1 && strstr(err, "\"step\""), "%s: TrainState from weights-only fails: %s", method, err);
        /* the model file has exactly the table's names in order; the state file opt.m.*, opt.v.* */
        StFile f;
        if (st_read(&f, path, err, sizeof err) == 0) {
            int ok = f.n_tensors == m.n_tensors;
            for (int i = 0; ok && i < m.n_tensors; i++) ok = !strcmp(f.tensors[i].name, m.tensors[i].name);
            CHECK(ok, "%s: model file tensor names follow the model's table, nothing else", method);
            CHECK(!strcmp(st_meta(&f, "format"), "posbench-2") && !strcmp(st_meta(&f, "method"), method) &&
                  !st_meta(&f, "data_rng") && !st_meta(&f, "adamw_step") && st_meta(&f, "checksum"),
                  "%s: model metadata strings", method);
            StFile sf;
            char spath[300];
            checkpoint_state_path(path, spath, sizeof spath);
            if (st_read(&sf, spath, err, sizeof err) == 0) {
                ok = sf.n_tensors == 2 * m.n_tensors && !strncmp(sf.tensors[0].name, "opt.m.", 6);
                CHECK(ok, "%s: state file holds opt.m.*, opt.v.*", method);
                CHECK(!strcmp(st_meta(&sf, "data_rng"), "16045690984503111693") &&
                      !strcmp(st_meta(&sf, "model_checksum"), st_meta(&f, "checksum")), "%s: state metadata", method);
                st_free(&sf);
            } else CHECK(0, "%s: state file: %s", method, err);
            st_free(&f);
        }
        adamw_free(&opt);
        model_free(&m);
    }

    /* a run config that is not a JSON object is refused at save time, leaving no file */
    Model m;
    if (build(&m, "alibi", 16, 1, 2, 8, 1) == 0) {
        TrainState ts = {.step = 1};
        snprintf(ts.extra_json, sizeof ts.extra_json, "{\"a\":");
        const char *path = tpath("never.safetensors");
        CHECK(checkpoint_save(path, &m, NULL, &ts, err, sizeof err) == -1 && !path_exists(path),
              "save refuses a bad run config: %s", err);
        CHECK(checkpoint_save("/nonexistent-dir/x.safetensors", &m, NULL, NULL, err, sizeof err) == -1 &&
              strstr(err, "/nonexistent-dir/x.safetensors: cannot write"), "save to a bad folder: %s", err);
        model_free(&m);
    }
}

/* A posbench-2 file (p): a flipped data bit, an edited header value, a removed checksum. */
static void test_ckpt_checksum(const Parts *p) {
    const char *bad = tpath("bad.safetensors");
    char *data = xmalloc(p->dlen);
    memcpy(data, p->data, p->dlen);
    data[p->dlen / 2] ^= 0x10;
    write_st(bad, p->header, p->hlen, data, p->dlen);
    expect_load_fail("one flipped bit in the data area", bad, "checksum mismatch");
    free(data);
    expect_header_fail("an edited header value", p, "\"train_len\":\"64\"", "\"train_len\":\"32\"", "checksum mismatch");
    expect_header_fail("an edited checksum", p, "\"checksum\":\"h64:", "\"checksum\":\"h65:", "checksum mismatch");
    char *h = replace1(p->header, "\"checksum\":", "\"chexksum\":");
    if (h) {
        write_st(bad, h, strlen(h), p->data, p->dlen);
        expect_load_fail("posbench-2 without its checksum", bad, "has no \"checksum\"");
        free(h);
    }
}

/* NaN / infinite weights or optimiser state, and training state that belongs to another model. */
static void test_ckpt_values(void) {
    char err[ERRLEN];
    Model m, m2;
    if (build(&m, "alibi", 32, 1, 2, 8, 3) != 0) return;
    AdamW opt, o2;
    adamw_init(&opt, &m, 0.1f);
    TrainState ts = {.step = 5, .data_rng = 9, .extra_json = "{}"}, t2;
    const char *path = tpath("vals.safetensors");
    m.params[3] = NAN;
    CHECK(checkpoint_save(path, &m, &opt, &ts, err, sizeof err) == 0, "values: save: %s", err);
    int rc = checkpoint_load(path, &m2, NULL, NULL, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "NaN or infinite") && names_file(err, path), "NaN weight refused: %s", err);
    m.params[3] = INFINITY;
    checkpoint_save(path, &m, &opt, &ts, err, sizeof err);
    rc = checkpoint_load(path, &m2, NULL, NULL, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "NaN or infinite"), "infinite weight refused: %s", err);
    m.params[3] = 0.5f;
    opt.m[7] = NAN;
    checkpoint_save(path, &m, &opt, &ts, err, sizeof err);
    rc = checkpoint_load(path, &m2, NULL, NULL, err, sizeof err);
    CHECK(rc == 0, "finite weights load without the state: %s", err);
    if (rc == 0) model_free(&m2);
    char spath[300];
    checkpoint_state_path(path, spath, sizeof spath);
    rc = checkpoint_load(path, &m2, &o2, &t2, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "opt.m.") && names_file(err, spath) && !m2.params, "NaN in AdamW m refused: %s", err);
    opt.m[7] = 0;
    opt.v[2] = -1;
    checkpoint_save(path, &m, &opt, &ts, err, sizeof err);
    rc = checkpoint_load(path, &m2, &o2, &t2, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "opt.v.") && strstr(err, "negative"), "negative AdamW v refused: %s", err);
    opt.v[2] = 0;
    /* a state file from another save (another step) beside this model */
    const char *other = tpath("other.safetensors");
    char ospath[300];
    checkpoint_state_path(other, ospath, sizeof ospath);
    checkpoint_save(path, &m, &opt, &ts, err, sizeof err);
    ts.step = 6;
    checkpoint_save(other, &m, &opt, &ts, err, sizeof err);
    rc = checkpoint_load(path, &m2, &o2, &t2, err, sizeof err);
    CHECK(rc == 0 && t2.step == 5 && t2.data_rng == 9 && !strcmp(t2.state_file, spath), "the matching pair loads: %s", err);
    if (rc == 0) { adamw_free(&o2); model_free(&m2); }
    rename(ospath, spath);
    rc = checkpoint_load(path, &m2, &o2, &t2, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "does not belong to") && names_file(err, spath), "mixed model and state refused: %s", err);
    unlink(spath);
    rc = checkpoint_load(path, &m2, &o2, &t2, err, sizeof err);
    CHECK(rc == -1 && !checkpoint_state_present(path) && strstr(err, "no optimiser state") && names_file(err, path), "missing state file: %s", err);
    /* a save killed after renaming the model but before its state: the state staged as ".next" is taken */
    char next[320], kept[320];
    snprintf(next, sizeof next, "%s.next", spath);
    snprintf(kept, sizeof kept, "%s.kept", spath);
    ts.step = 5;
    checkpoint_save(path, &m, &opt, &ts, err, sizeof err);
    CHECK(path_exists(spath) && !path_exists(next), "a whole save leaves no .next behind");
    rename(spath, kept);
    ts.step = 7;
    checkpoint_save(path, &m, &opt, &ts, err, sizeof err);
    rename(spath, next);
    rename(kept, spath);   /* model at step 7, its state as .next, the step-5 state in place */
    rc = checkpoint_load(path, &m2, &o2, &t2, err, sizeof err);
    CHECK(rc == 0 && t2.step == 7 && t2.data_rng == 9, "the interrupted save's staged state is taken: %s", err);
    if (rc == 0) { adamw_free(&o2); model_free(&m2); }
    unlink(spath);
    rc = checkpoint_load(path, &m2, &o2, &t2, err, sizeof err);
    CHECK(rc == 0 && t2.step == 7 && !strcmp(t2.state_file, next) && checkpoint_state_present(path),
          "a staged state alone is taken, and named: %s", err);
    if (rc == 0) { adamw_free(&o2); model_free(&m2); }
    checkpoint_save(path, &m, &opt, &ts, err, sizeof err);
    CHECK(path_exists(spath) && !path_exists(next), "the next save renames the staged state away");
    /* killed before the model was renamed: a staged state for another model is left alone */
    ts.step = 8;
    checkpoint_save(other, &m, &opt, &ts, err, sizeof err);
    rename(ospath, next);
    rc = checkpoint_load(path, &m2, &o2, &t2, err, sizeof err);
    CHECK(rc == 0 && t2.step == 7, "a staged state of a model never renamed is ignored: %s", err);
    if (rc == 0) { adamw_free(&o2); model_free(&m2); }
    rename(next, spath);
    rc = checkpoint_load(path, &m2, &o2, &t2, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "does not belong to") && names_file(err, spath), "neither state belongs: refused: %s", err);
    unlink(spath);
    ts.step = 5;
    /* an older combined file (posbench-1: AdamW beside the weights) still resumes */
    StWriter w;
    st_writer_init(&w);
    static const char *meta[][2] = {{"format", "posbench-1"}, {"vocab", "32"}, {"n_layer", "1"}, {"n_head", "2"},
        {"d_model", "8"}, {"train_len", "64"}, {"method", "alibi"}, {"step", "5"}, {"data_rng", "9"},
        {"run_config", "{}"}, {"adamw_step", "5"}};
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) st_writer_meta(&w, meta[i][0], meta[i][1]);
    char names[3][64][MODEL_NAME_LEN + 16];
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < m.n_tensors && i < 64; i++) {
            const Tensor *t = &m.tensors[i];
            int64_t shape[ST_MAX_DIMS];
            for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
            snprintf(names[k][i], sizeof names[k][i], "%s%s", k == 0 ? "" : k == 1 ? "opt.m." : "opt.v.", t->name);
            st_writer_add(&w, names[k][i], (k == 0 ? m.params : k == 1 ? opt.m : opt.v) + t->offset, t->ndim, shape);
        }
    const char *old = tpath("old.safetensors");
    CHECK(st_writer_write(&w, old, err, sizeof err) == 0, "write a posbench-1 file: %s", err);
    st_writer_free(&w);
    Parts p;
    parts_read(&p, old);
    char *c = strstr(p.header, ",\"checksum\":\"h64:");
    if (c) memmove(c, c + 34, strlen(c + 34) + 1);
    write_st(old, p.header, strlen(p.header), p.data, p.dlen);
    parts_free(&p);
    rc = checkpoint_load(old, &m2, &o2, &t2, err, sizeof err);
    CHECK(rc == 0 && t2.step == 5 && t2.data_rng == 9 && o2.step == 5 && !memcmp(o2.m, opt.m, m.n_params * 4),
          "an older combined checkpoint still loads with its optimiser state: %s", err);
    if (rc == 0) { adamw_free(&o2); model_free(&m2); }
    unlink(old);
    unlink(path);
    unlink(other);
    adamw_free(&opt);
    model_free(&m);
}

/* Corrupt a valid t5 checkpoint (1 layer, d 8, 2 heads, vocab 256) every way
 * the loader must notice. */
static void test_ckpt_corrupt(void) {
    char err[ERRLEN];
    Model m;
    if (build(&m, "t5", 256, 1, 2, 8, 5) != 0) return;
    const char *good = tpath("good.safetensors");
    TrainState ts = {.step = 9, .data_rng = 77, .extra_json = "{}"};
    CHECK(checkpoint_save(good, &m, NULL, &ts, err, sizeof err) == 0, "corrupt: save the good file: %s", err);
    model_free(&m);
    Parts p;
    parts_read(&p, good);
    const char *bad = tpath("bad.safetensors");
    Model m2;
    CHECK(checkpoint_load(good, &m2, NULL, NULL, err, sizeof err) == 0, "corrupt: the good file loads: %s", err);
    model_free(&m2);
    test_ckpt_checksum(&p);
    legacy_header(&p);
    char *with_rng = replace1(p.header, "\"step\":\"9\"", "\"step\":\"9\",\"data_rng\":\"77\"");   /* as posbench-1 wrote it */
    if (!with_rng) die_internal("test: no step in the header");
    free(p.header);
    p.header = with_rng;
    p.hlen = strlen(with_rng);
    write_st(bad, p.header, p.hlen, p.data, p.dlen);
    CHECK(checkpoint_load(bad, &m2, NULL, NULL, err, sizeof err) == 0, "corrupt: the posbench-1 form loads: %s", err);
    if (m2.params) model_free(&m2);

    spit(bad, "", 0);
    expect_load_fail("empty file", bad, "0 bytes, too short");
    spit(bad, p.file, 7);
    expect_load_fail("7 bytes", bad, "7 bytes, too short");
    spit(bad, p.file, 8);
    expect_load_fail("8 bytes (length only)", bad, "is larger than the file");

    char *copy = xmalloc(p.size);
    memcpy(copy, p.file, p.size);
    uint64_t n = p.size;   /* one more than fits */
    for (int i = 0; i < 8; i++) copy[i] = (char)(n >> (8 * i));
    spit(bad, copy, p.size);
    expect_load_fail("header length larger than the file", bad, "is larger than the file");
    n = 1ull << 63;
    for (int i = 0; i < 8; i++) copy[i] = (char)(n >> (8 * i));
    spit(bad, copy, p.size);
    expect_load_fail("header length 2^63", bad, "header length 9223372036854775808 is larger than the file");
    memset(copy, 0xff, 8);
    spit(bad, copy, p.size);
    expect_load_fail("header length 2^64-1", bad, "is larger than the file");
    memcpy(copy, p.file, 8);
    n = (uint64_t)(strrchr(p.header, '}') - p.header);   /* the closing brace falls outside */
    for (int i = 0; i < 8; i++) copy[i] = (char)(n >> (8 * i));
    spit(bad, copy, p.size);
    expect_load_fail("header length cuts the JSON", bad, "header is not valid JSON");
    free(copy);

    spit(bad, p.file, p.size - 100);
    expect_load_fail("truncated data area", bad, "beyond the data area");
    spit(bad, p.file, 8 + p.hlen / 2);
    expect_load_fail("truncated header", bad, "is larger than the file");
    char *longer = xcalloc(p.size + 4, 1);
    memcpy(longer, p.file, p.size);
    spit(bad, longer, p.size + 4);
    expect_load_fail("trailing bytes", bad, "4 bytes after the last tensor");
    free(longer);

    write_st(bad, "hello, world    ", 16, p.data, p.dlen);
    expect_load_fail("non-JSON header", bad, "header is not valid JSON");
    write_st(bad, "[\"__metadata__\"]", 16, p.data, p.dlen);
    expect_load_fail("JSON not an object", bad, "expected an object");
    write_st(bad, "\"just a string\" ", 16, p.data, p.dlen);
    expect_load_fail("JSON string header", bad, "header is a JSON string");

    /* tensor-level corruptions of the header text */
    expect_header_fail("wrong dtype (same size)", &p, "\"tok_emb\":{\"dtype\":\"F32\"", "\"tok_emb\":{\"dtype\":\"I32\"",
                       "tensor tok_emb has dtype I32, expected F32");
    expect_header_fail("wrong dtype (size mismatch)", &p, "\"tok_emb\":{\"dtype\":\"F32\"", "\"tok_emb\":{\"dtype\":\"F16\"",
                       "tensor tok_emb: shape [256, 8] of F16 needs 4096 bytes");
    expect_header_fail("unknown dtype", &p, "\"dtype\":\"F32\"", "\"dtype\":\"Q4_K\"", "unknown dtype \"Q4_K\"");
    expect_header_fail("wrong shape (transposed)", &p, "\"shape\":[24,8]", "\"shape\":[8,24]",
                       "tensor blocks.0.attn.qkv.weight has shape [8, 24], expected [24, 8]");
    expect_header_fail("wrong shape (rank)", &p, "\"shape\":[24,8]", "\"shape\":[192]",
                       "tensor blocks.0.attn.qkv.weight has shape [192], expected [24, 8]");
    expect_header_fail("shape disagrees with offsets", &p, "\"shape\":[24,8]", "\"shape\":[24,9]", "needs 864 bytes");
    expect_header_fail("negative shape", &p, "\"shape\":[24,8]", "\"shape\":[-24,8]", "not a non-negative integer");
    expect_header_fail("float shape", &p, "\"shape\":[24,8]", "\"shape\":[24,8.0]", "shape entry 1");
    expect_header_fail("missing tensor", &p, "\"ln_f.bias\"", "\"ln_f.xxxx\"", "tensor ln_f.bias is missing");
    expect_header_fail("missing method tensor", &p, "\"pos.t5.table\"", "\"pos.t5.tablf\"", "tensor pos.t5.table is missing");
    expect_header_fail("unknown tensor as opt.*", &p, "\"pos.t5.table\"", "\"opt.m.nothing\"", "pos.t5.table is missing");
    expect_header_fail("duplicate key", &p, "\"ln_f.bias\"", "\"ln_f.weight\"", "duplicate key \"ln_f.weight\"");

    {   /* extra tensors: an unknown name with real data appended, and an unknown opt.* */
        StFile f;
        if (st_read(&f, good, err, sizeof err) == 0) {
            const StTensor *last = &f.tensors[f.n_tensors - 1];
            size_t end = last->end;
            char ext[160];
            snprintf(ext, sizeof ext, ",\"extra.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[%zu,%zu]}}", end,
                     end + 16);
            char *h = xmalloc(p.hlen + sizeof ext);
            snprintf(h, p.hlen + sizeof ext, "%s", p.header);
            char *close = strrchr(h, '}');
            snprintf(close, sizeof ext, "%s", ext);
            char *data = xcalloc(p.dlen + 16, 1);
            memcpy(data, p.data, p.dlen);
            write_st(bad, h, strlen(h), data, p.dlen + 16);
            expect_load_fail("extra unknown tensor", bad, "unexpected tensor extra.weight: not part of a t5 model");
            snprintf(ext, sizeof ext, ",\"opt.v.blocks.3.ln1.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[%zu,%zu]}}",
                     end, end + 16);
            snprintf(h, p.hlen + sizeof ext, "%s", p.header);
            close = strrchr(h, '}');
            snprintf(close, sizeof ext, "%s", ext);
            write_st(bad, h, strlen(h), data, p.dlen + 16);
            expect_load_fail("extra opt.* tensor of no model tensor", bad, "unexpected tensor opt.v.blocks.3.ln1.weight");
            free(h);
            free(data);

            /* offsets: overlapping, beyond the data, reversed */
            const StTensor *w = st_find(&f, "ln_f.weight"), *b = st_find(&f, "ln_f.bias");
            char from[96], to[96];
            snprintf(from, sizeof from, "\"data_offsets\":[%zu,%zu]", b->begin, b->end);
            snprintf(to, sizeof to, "\"data_offsets\":[%zu,%zu]", w->begin, w->end);
            expect_header_fail("overlapping offsets", &p, from, to, "overlap");
            snprintf(from, sizeof from, "\"data_offsets\":[%zu,%zu]", last->begin, last->end);
            snprintf(to, sizeof to, "\"data_offsets\":[%zu,%zu]", last->begin + 4, last->end + 4);
            expect_header_fail("offsets beyond the data", &p, from, to, "beyond the data area");
            snprintf(to, sizeof to, "\"data_offsets\":[%zu,%zu]", last->end, last->begin);
            expect_header_fail("reversed offsets", &p, from, to, "end before they begin");
            snprintf(to, sizeof to, "\"data_offsets\":[%zu,%zu,0]", last->begin, last->end);
            expect_header_fail("three offsets", &p, from, to, "[begin, end]");
            st_free(&f);
        }
    }

    /* metadata */
    expect_header_fail("metadata non-string", &p, "\"vocab\":\"256\"", "\"vocab\":256", "value of \"vocab\" is a number");
    expect_header_fail("metadata not an object", &p, "\"__metadata__\":{\"format\":\"posbench-1\",",
                       "\"__metadata__\":[\"format\",\"posbench-1\"],\"x\":{", "__metadata__ is a array");
    expect_header_fail("no format", &p, "\"format\":\"posbench-1\"", "\"fmt\":\"posbench-1\"", "has no \"format\"");
    expect_header_fail("other format", &p, "\"format\":\"posbench-1\"", "\"format\":\"gguf-3\"",
                       "format \"gguf-3\" is not supported");
    expect_header_fail("missing train_len", &p, "\"train_len\":", "\"train_xen\":", "has no \"train_len\"");
    expect_header_fail("missing method", &p, "\"method\":", "\"methox\":", "has no \"method\"");
    expect_header_fail("n_head not a number", &p, "\"n_head\":\"2\"", "\"n_head\":\"two\"", "\"n_head\" is \"two\", expected a whole number");
    expect_header_fail("n_head 2.0", &p, "\"n_head\":\"2\"", "\"n_head\":\"2.0\"", "\"n_head\" is \"2.0\"");
    expect_header_fail("n_head with a space", &p, "\"n_head\":\"2\"", "\"n_head\":\" 2\"", "\"n_head\" is \" 2\"");
    expect_header_fail("n_head empty", &p, "\"n_head\":\"2\"", "\"n_head\":\"\"", "\"n_head\" is \"\"");
    expect_header_fail("vocab beyond int", &p, "\"vocab\":\"256\"", "\"vocab\":\"99999999999\"", "\"vocab\" is \"99999999999\"");
    expect_header_fail("n_head not dividing d_model", &p, "\"n_head\":\"2\"", "\"n_head\":\"3\"", "bad config in __metadata__: d_model");
    expect_header_fail("vocab 0", &p, "\"vocab\":\"256\"", "\"vocab\":\"0\"", "vocab = 0 is out of range");
    expect_header_fail("n_layer -1", &p, "\"n_layer\":\"1\"", "\"n_layer\":\"-1\"", "n_layer = -1 is out of range");
    expect_header_fail("unknown method", &p, "\"method\":\"t5\"", "\"method\":\"t6\"", "unknown method \"t6\" (valid: nope, ");
    expect_header_fail("long method", &p, "\"method\":\"t5\"",
                       "\"method\":\"t5t5t5t5t5t5t5t5t5t5t5t5t5t5t5t5t5t5t5t5\"", "unknown method");
    expect_header_fail("other method, same tensors", &p, "\"method\":\"t5\"", "\"method\":\"alibi\"",
                       "unexpected tensor pos.t5.table: not part of a alibi model");
    expect_header_fail("d_model disagrees with tensors", &p, "\"d_model\":\"8\"", "\"d_model\":\"16\"",
                       "tensor tok_emb has shape [256, 8], expected [256, 16]");
    expect_header_fail("n_layer disagrees with tensors", &p, "\"n_layer\":\"1\"", "\"n_layer\":\"2\"",
                       "tensor blocks.1.ln1.weight is missing");

    {   /* training state */
        char *h = replace1(p.header, "\"data_rng\":\"77\"", "\"data_rng\":\"-77\"");
        write_st(bad, h, strlen(h), p.data, p.dlen);
        free(h);
        TrainState t2;
        int rc = checkpoint_load(bad, &m2, NULL, &t2, err, sizeof err);
        CHECK(rc == -1 && strstr(err, "\"data_rng\" is \"-77\"") && names_file(err, bad) && !m2.params,
              "bad data_rng: %s", err);
        h = replace1(p.header, "\"run_config\":\"{}\"", "\"run_config\":\"[1]\"");
        write_st(bad, h, strlen(h), p.data, p.dlen);
        free(h);
        rc = checkpoint_load(bad, &m2, NULL, &t2, err, sizeof err);
        CHECK(rc == -1 && strstr(err, "run_config\" is not a JSON object"), "bad run_config: %s", err);
        rc = checkpoint_load(bad, &m2, NULL, NULL, err, sizeof err);   /* not asked for: ignored */
        CHECK(rc == 0, "weights load even if the unused run_config is odd: %s", err);
        if (rc == 0) model_free(&m2);
    }

    /* garbage: deterministic random bytes, with and without a plausible length */
    Rng r;
    rng_seed(&r, 2024);
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (char)rng_u64(&r);
    spit(bad, junk, sizeof junk);
    expect_load_fail("garbage bytes", bad, "");
    junk[0] = 100; memset(junk + 1, 0, 7);
    spit(bad, junk, sizeof junk);
    expect_load_fail("garbage header", bad, "header is not valid JSON");
    expect_load_fail("missing file", tpath("no-such.safetensors"), "cannot open");
    parts_free(&p);
}

/* Random mutations and truncations of a valid checkpoint: every outcome is 0
 * or -1 with a one-line message naming the file, never a crash (ASan catches
 * out-of-bounds reads). */
static void test_ckpt_fuzz(void) {
    char err[ERRLEN];
    Model m;
    if (build(&m, "t5", 256, 1, 2, 8, 11) != 0) return;
    AdamW opt;
    adamw_init(&opt, &m, 0.1f);
    TrainState ts = {.step = 3, .data_rng = 5, .extra_json = "{\"x\":[1,2,{\"y\":\"z\"}]}"};
    const char *good = tpath("fuzz_good.safetensors");
    CHECK(checkpoint_save(good, &m, &opt, &ts, err, sizeof err) == 0, "fuzz: save: %s", err);
    adamw_free(&opt);
    model_free(&m);
    Parts p;
    parts_read(&p, good);
    const char *path = tpath("fuzz.safetensors");
    static const char interesting[] = "{}[],:\"0123456789-.eE \\u\x00\x7f\xff";
    int iters = check_quick ? 400 : 2000, n_ok = 0, n_fail = 0, bad_msg = 0;
    long more;
    if (getenv("POSBENCH_FUZZ_ITERS") && parse_int(getenv("POSBENCH_FUZZ_ITERS"), 1, 100000000, &more) == 0) iters = (int)more;
    char first_bad[ERRLEN + 32] = "";
    Rng r;
    rng_seed(&r, 99);
    char *buf = xmalloc(p.size + 64);
    for (int it = 0; it < iters; it++) {
        memcpy(buf, p.file, p.size);
        size_t size = p.size;
        int kind = (int)(rng_u64(&r) % 6), muts = 1 + (int)(rng_u64(&r) % 3);
        for (int k = 0; k < muts; k++) {
            size_t span = (rng_u64(&r) % 10) < 8 ? 8 + p.hlen : size;   /* mostly the length and header */
            size_t at = (size_t)(rng_u64(&r) % (span ? span : 1));
            if (at >= size) at = size ? size - 1 : 0;
            switch (kind) {
            case 0: if (size) buf[at] = (char)rng_u64(&r); break;
            case 1: if (size) buf[at] = interesting[rng_u64(&r) % (sizeof interesting - 1)]; break;
            case 2: size = (size_t)(rng_u64(&r) % (size + 1)); break;                    /* truncate */
            case 3: if (size) { memmove(buf + at, buf + at + 1, size - at - 1); size--; } break;   /* delete a byte */
            case 4: if (size) buf[at] ^= (char)(1u << (rng_u64(&r) % 8)); break;        /* flip a bit */
            default: if (size >= 8) buf[rng_u64(&r) % 8] = (char)rng_u64(&r); break;    /* the length */
            }
        }
        spit(path, buf, size);
        Model fm;
        AdamW fo;
        TrainState fts;
        int with_state = it % 2;
        int rc = checkpoint_load(path, &fm, with_state ? &fo : NULL, with_state ? &fts : NULL, err, sizeof err);
        if (rc == 0) {
            n_ok++;
            if (with_state) adamw_free(&fo);
            model_free(&fm);
        } else {
            n_fail++;
            if (rc != -1 || !names_file(err, path)) {
                if (!bad_msg++) snprintf(first_bad, sizeof first_bad, "rc %d: %s", rc, err);
            }
        }
        /* the bare parsers on the same bytes, from a buffer of exactly that size */
        StFile f;
        char *exact = xmalloc(size ? size : 1);
        memcpy(exact, buf, size);
        if (st_parse(&f, exact, size, "fuzz", err, sizeof err) == 0) st_free(&f);
        if (size > 8) {
            JsonDoc d;
            size_t hl = size - 8 < p.hlen ? size - 8 : p.hlen;
            if (json_parse(&d, buf + 8, hl, err, sizeof err) == 0) json_doc_free(&d);
        }
    }
    free(buf);
    CHECK(n_ok + n_fail == iters && bad_msg == 0, "fuzz: %d mutated files: %d loaded, %d refused; %d bad messages (first: %s)",
          iters, n_ok, n_fail, bad_msg, first_bad);
    CHECK(n_fail > iters / 2, "fuzz: most mutations are caught (%d of %d)", n_fail, iters);
    parts_free(&p);
}

/* The committed fixture: 1 layer, d 8, 2 heads, vocab 256, t5, with TrainState. */
static void fixture_values(Model *m) {
    model_init_weights(m, 1234);
    for (size_t i = 0; i < m->pos_numel; i++) m->params[m->pos_offset + i] = 0.01f * (float)i - 0.3f;
}

static void test_ckpt_fixture(void) {
    char err[ERRLEN];
    TrainState want = {.step = 50, .data_rng = 42};
    snprintf(want.extra_json, sizeof want.extra_json, "{\"note\":\"tests/fixtures/ckpt: made by tests/test_checkpoint.c\"}");
    if (getenv("POSBENCH_WRITE_CKPT_FIXTURE")) {
        Model m;
        if (build(&m, "t5", 256, 1, 2, 8, 0) == 0) {
            fixture_values(&m);
            CHECK(checkpoint_save(FIXTURE, &m, NULL, &want, err, sizeof err) == 0, "fixture: write: %s", err);
            printf("wrote %s\n", FIXTURE);
            model_free(&m);
        }
    }
    Model m;
    TrainState ts;
    int rc = checkpoint_load(FIXTURE, &m, NULL, &ts, err, sizeof err);
    CHECK(rc == 0, "fixture: %s loads (run the tests from the repository root): %s", FIXTURE, err);
    if (rc != 0) return;
    CHECK(m.cfg.vocab == 256 && m.cfg.n_layer == 1 && m.cfg.n_head == 2 && m.cfg.d_model == 8 && m.cfg.train_len == 64 &&
          !strcmp(m.cfg.method, "t5"), "fixture: config");
    CHECK(ts.step == want.step && ts.data_rng == want.data_rng && !strcmp(ts.extra_json, want.extra_json),
          "fixture: TrainState");
    const Tensor *t = model_find_tensor(&m, "pos.t5.table");
    int ok = t && t->numel == 64;
    /* 1e-6, not ==: gcc contracts the expression into an FMA when the fixture is written, clang may not */
    for (size_t i = 0; ok && i < t->numel; i++) ok = fabsf(m.params[t->offset + i] - (0.01f * (float)i - 0.3f)) <= 1e-6f;
    CHECK(ok, "fixture: pos.t5.table holds 0.01 i - 0.3");
    t = model_find_tensor(&m, "ln_f.weight");
    ok = t != NULL;
    for (size_t i = 0; ok && i < t->numel; i++) ok = m.params[t->offset + i] == 1.0f;
    CHECK(ok, "fixture: ln_f.weight is ones");
    model_free(&m);
}

static void rm_tmpdir(void) {
    static const char *names[] = {"rt.safetensors", "misaligned.safetensors", "empty_obj.safetensors", "st_bad.safetensors",
                                  "full.safetensors", "full.train_state.safetensors", "weights.safetensors", "fuzz_good.train_state.safetensors", "good.safetensors", "bad.safetensors",
                                  "fuzz_good.safetensors", "fuzz.safetensors"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(tpath(names[i]));
    rmdir(tmpdir);
}

void test_checkpoint(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/posbench_ckpt_XXXXXX");
    if (!mkdtemp(tmpdir)) die_internal("test: cannot create a temporary folder");
    test_json_valid();
    test_json_invalid();
    test_st_roundtrip();
    test_st_invalid();
    test_ckpt_roundtrip();
    test_ckpt_corrupt();
    test_ckpt_values();
    test_ckpt_fuzz();
    test_ckpt_fixture();
    rm_tmpdir();
}
