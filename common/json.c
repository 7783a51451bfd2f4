/* json.c — strict recursive-descent JSON parser and string escaping (see json.h).
 *
 * Containers are built on one shared stack: a value's children are pushed as
 * they are parsed, and when the container closes they are copied into an
 * exact-size array. On failure every completed value still on the stack is
 * freed, so a bad document leaks nothing. Strings decode into one arena of
 * len+1 bytes: a decoded string plus its NUL never needs more bytes than its
 * quoted source, so the arena cannot overflow.
 */
#include "json.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

typedef struct Parser {
    const char *s;
    size_t len, pos;
    int depth;
    char *err;
    size_t errlen;
    JsonValue *stack;          /* children of the containers being parsed */
    size_t sn, scap;
    char *arena;               /* decoded strings */
    size_t an;
} Parser;

static int fail(Parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(Parser *p, size_t at, const char *fmt, ...) {
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "invalid JSON at byte %zu: %s", at, why);
    return -1;
}

/* "unexpected character 'x'" / "unexpected byte 0x8f" / "unexpected end of input" */
static int fail_unexpected(Parser *p, const char *wanted) {
    if (p->pos >= p->len) return fail(p, p->pos, "unexpected end of input, expected %s", wanted);
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c >= 0x21 && c < 0x7f) return fail(p, p->pos, "unexpected character '%c', expected %s", c, wanted);
    return fail(p, p->pos, "unexpected byte 0x%02x, expected %s", c, wanted);
}

static void skip_ws(Parser *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static void push(Parser *p, const JsonValue *v) {
    if (p->sn == p->scap) {
        p->scap = p->scap ? 2 * p->scap : 64;
        p->stack = xrealloc(p->stack, p->scap * sizeof *p->stack);
    }
    p->stack[p->sn++] = *v;
}

static void free_value(JsonValue *v) {
    if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
        size_t n = v->type == JSON_OBJECT ? 2 * (size_t)v->n : v->n;
        for (size_t i = 0; i < n; i++) free_value(&v->u.items[i]);
        free(v->u.items);
    }
    v->type = JSON_NULL;
}

/* Move stack[base..sn) into v's own array. */
static void pop_children(Parser *p, JsonValue *v, size_t base, size_t count) {
    size_t k = p->sn - base;
    v->n = (unsigned)count;
    v->u.items = NULL;
    if (k) {
        v->u.items = xmalloc(k * sizeof *v->u.items);
        memcpy(v->u.items, p->stack + base, k * sizeof *v->u.items);
    }
    p->sn = base;
}

static int parse_value(Parser *p, JsonValue *out);

static int hex4(Parser *p, size_t at, unsigned *out) {
    if (p->len - at < 4) return fail(p, at, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[at + i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return fail(p, at + i, "bad hex digit in \\u escape");
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 0;
}

/* Length of the valid UTF-8 sequence at s[pos] (lead byte >= 0x80), or 0 (Unicode table 3-7). */
static int utf8_len(const unsigned char *s, size_t avail) {
    unsigned c = s[0];
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) { n = 3; lo = 0xA0; }
    else if (c == 0xED) { n = 3; hi = 0x9F; }
    else if (c >= 0xE1 && c <= 0xEF) n = 3;
    else if (c == 0xF0) { n = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else if (c == 0xF4) { n = 4; hi = 0x8F; }
    else return 0;
    if (avail < (size_t)n) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return n;
}

static char *put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) *o++ = (char)cp;
    else if (cp < 0x800) { *o++ = (char)(0xC0 | cp >> 6); *o++ = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12); *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18); *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

static int parse_string(Parser *p, JsonValue *out) {
    size_t start = p->pos++;   /* the opening quote */
    char *begin = p->arena + p->an, *o = begin;
    for (;;) {
        if (p->pos >= p->len) return fail(p, start, "unterminated string");
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') { p->pos++; break; }
        if (c < 0x20) return fail(p, p->pos, "raw control character 0x%02x in a string (must be escaped)", c);
        if (c == '\\') {
            if (p->pos + 1 >= p->len) return fail(p, start, "unterminated string");
            char e = p->s[p->pos + 1];
            p->pos += 2;
            switch (e) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '/': *o++ = '/'; break;
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;
            case 't': *o++ = '\t'; break;
            case 'u': {
                unsigned cp;
                if (hex4(p, p->pos, &cp)) return -1;
                p->pos += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(p, p->pos - 6, "lone low surrogate \\u%04X", cp);
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
                        return fail(p, p->pos - 6, "high surrogate \\u%04X not followed by a low surrogate", cp);
                    if (hex4(p, p->pos + 2, &lo)) return -1;
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return fail(p, p->pos, "high surrogate \\u%04X not followed by a low surrogate", cp);
                    p->pos += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (cp == 0) return fail(p, p->pos - 6, "\\u0000 in a string is not supported");
                o = put_utf8(o, cp);
                break;
            }
            default:
                if ((unsigned char)e >= 0x20 && (unsigned char)e < 0x7f)
                    return fail(p, p->pos - 2, "unknown escape '\\%c'", e);
                return fail(p, p->pos - 2, "unknown escape (byte 0x%02x after '\\')", (unsigned char)e);
            }
            continue;
        }
        if (c < 0x80) { *o++ = (char)c; p->pos++; continue; }
        int n = utf8_len((const unsigned char *)p->s + p->pos, p->len - p->pos);
        if (!n) return fail(p, p->pos, "invalid UTF-8 in a string");
        memcpy(o, p->s + p->pos, (size_t)n);
        o += n;
        p->pos += (size_t)n;
    }
    *o++ = 0;
    out->type = JSON_STRING;
    out->is_int = 0;
    out->n = (unsigned)(o - begin - 1);
    out->u.str = begin;
    p->an += (size_t)(o - begin);
    return 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int parse_number(Parser *p, JsonValue *out) {
    size_t start = p->pos;
    int neg = 0, frac = 0;
    if (p->s[p->pos] == '-') { neg = 1; p->pos++; }
    if (p->pos >= p->len || !is_digit(p->s[p->pos])) return fail_unexpected(p, "a digit");
    if (p->s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && is_digit(p->s[p->pos])) return fail(p, start, "number with a leading zero");
    } else {
        while (p->pos < p->len && is_digit(p->s[p->pos])) p->pos++;
    }
    size_t int_end = p->pos;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        frac = 1;
        p->pos++;
        if (p->pos >= p->len || !is_digit(p->s[p->pos])) return fail_unexpected(p, "a digit after '.'");
        while (p->pos < p->len && is_digit(p->s[p->pos])) p->pos++;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        frac = 1;
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        if (p->pos >= p->len || !is_digit(p->s[p->pos])) return fail_unexpected(p, "a digit in the exponent");
        while (p->pos < p->len && is_digit(p->s[p->pos])) p->pos++;
    }
    out->type = JSON_NUMBER;
    if (!frac) {
        /* exact integer if it fits int64 */
        uint64_t mag = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        int fits = 1;
        for (size_t i = start + (size_t)neg; i < int_end; i++) {
            unsigned d = (unsigned)(p->s[i] - '0');
            if (mag > (limit - d) / 10) { fits = 0; break; }
            mag = mag * 10 + d;
        }
        if (fits) {
            out->is_int = 1;
            out->n = 0;
            out->u.i = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
            return 0;
        }
    }
    size_t k = p->pos - start;
    char small[64], *buf = k < sizeof small ? small : xmalloc(k + 1);
    memcpy(buf, p->s + start, k);
    buf[k] = 0;
    errno = 0;
    double v = strtod(buf, NULL);
    if (buf != small) free(buf);
    if (isinf(v)) return fail(p, start, "number out of range");
    out->is_int = 0;
    out->n = 0;
    out->u.num = v;
    return 0;
}

static int cmp_key(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Members are stack[base..sn) as key, value pairs; -1 on a repeated key. */
static int check_duplicates(Parser *p, size_t base, size_t count, size_t at) {
    const char *dup = NULL;
    if (count <= 16) {
        for (size_t i = 0; i < count && !dup; i++)
            for (size_t j = i + 1; j < count; j++)
                if (!strcmp(p->stack[base + 2 * i].u.str, p->stack[base + 2 * j].u.str)) { dup = p->stack[base + 2 * i].u.str; break; }
    } else {
        const char **keys = xmalloc(count * sizeof *keys);
        for (size_t i = 0; i < count; i++) keys[i] = p->stack[base + 2 * i].u.str;
        qsort(keys, count, sizeof *keys, cmp_key);
        for (size_t i = 1; i < count && !dup; i++)
            if (!strcmp(keys[i - 1], keys[i])) dup = keys[i];
        free(keys);
    }
    if (!dup) return 0;
    char name[96];
    return fail(p, at, "duplicate key \"%s\" in an object", json_printable(name, sizeof name, dup));
}

static int parse_container(Parser *p, JsonValue *out, int is_object) {
    size_t start = p->pos++;
    if (++p->depth > JSON_MAX_DEPTH) return fail(p, start, "nested deeper than %d levels", JSON_MAX_DEPTH);
    size_t base = p->sn, count = 0;
    char close = is_object ? '}' : ']';
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            JsonValue v;
            if (is_object) {
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != '"') return fail_unexpected(p, "a string key");
                if (parse_string(p, &v)) return -1;
                push(p, &v);
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':') return fail_unexpected(p, "':' after an object key");
                p->pos++;
            }
            if (parse_value(p, &v)) return -1;
            push(p, &v);
            count++;
            skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
            if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; break; }
            return fail_unexpected(p, is_object ? "',' or '}'" : "',' or ']'");
        }
    }
    if (count > UINT_MAX) return fail(p, start, "too many elements");
    if (is_object && check_duplicates(p, base, count, start)) return -1;
    out->type = is_object ? JSON_OBJECT : JSON_ARRAY;
    out->is_int = 0;
    pop_children(p, out, base, count);
    p->depth--;
    return 0;
}

static int literal(Parser *p, JsonValue *out, const char *word, JsonType t) {
    size_t k = strlen(word);
    if (p->len - p->pos < k || memcmp(p->s + p->pos, word, k) != 0) return fail_unexpected(p, "a JSON value");
    p->pos += k;
    out->type = (unsigned char)t;
    out->is_int = 0;
    out->n = 0;
    out->u.items = NULL;
    return 0;
}

static int parse_value(Parser *p, JsonValue *out) {
    skip_ws(p);
    if (p->pos >= p->len) return fail_unexpected(p, "a JSON value");
    char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_container(p, out, 1);
    case '[': return parse_container(p, out, 0);
    case '"': return parse_string(p, out);
    case 't': return literal(p, out, "true", JSON_TRUE);
    case 'f': return literal(p, out, "false", JSON_FALSE);
    case 'n': return literal(p, out, "null", JSON_NULL);
    default:
        if (c == '-' || is_digit(c)) return parse_number(p, out);
        return fail_unexpected(p, "a JSON value");
    }
}

int json_parse(JsonDoc *doc, const char *text, size_t len, char *err, size_t errlen) {
    memset(doc, 0, sizeof *doc);
    Parser p = {.s = text, .len = len, .err = err, .errlen = errlen};
    if (len >= UINT_MAX) {
        snprintf(err, errlen, "invalid JSON: input of %zu bytes is too large", len);
        return -1;
    }
    p.arena = xmalloc(len + 1);
    int rc = parse_value(&p, &doc->root);
    if (rc == 0) {
        skip_ws(&p);
        if (p.pos < p.len) {
            free_value(&doc->root);
            rc = fail(&p, p.pos, "unexpected data after the JSON value");
        }
    }
    if (rc != 0) {
        for (size_t i = 0; i < p.sn; i++) free_value(&p.stack[i]);
        free(p.stack);
        free(p.arena);
        memset(doc, 0, sizeof *doc);
        return -1;
    }
    free(p.stack);
    doc->strings = p.arena;
    return 0;
}

void json_doc_free(JsonDoc *doc) {
    free_value(&doc->root);
    free(doc->strings);
    memset(doc, 0, sizeof *doc);
}

const char *json_key(const JsonValue *obj, unsigned i) {
    if (!obj || obj->type != JSON_OBJECT || i >= obj->n) return NULL;
    return obj->u.items[2 * (size_t)i].u.str;
}

const JsonValue *json_value(const JsonValue *obj, unsigned i) {
    if (!obj || obj->type != JSON_OBJECT || i >= obj->n) return NULL;
    return &obj->u.items[2 * (size_t)i + 1];
}

const JsonValue *json_get(const JsonValue *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT) return NULL;
    for (unsigned i = 0; i < obj->n; i++)
        if (!strcmp(obj->u.items[2 * (size_t)i].u.str, key)) return &obj->u.items[2 * (size_t)i + 1];
    return NULL;
}

const JsonValue *json_at(const JsonValue *arr, unsigned i) {
    if (!arr || arr->type != JSON_ARRAY || i >= arr->n) return NULL;
    return &arr->u.items[i];
}

int json_int64(const JsonValue *v, int64_t *out) {
    if (!v || v->type != JSON_NUMBER || !v->is_int) return -1;
    *out = v->u.i;
    return 0;
}

double json_number(const JsonValue *v) {
    if (!v || v->type != JSON_NUMBER) return 0;
    return v->is_int ? (double)v->u.i : v->u.num;
}

const char *json_type_name(int type) {
    static const char *const names[] = {"null", "false", "true", "number", "string", "array", "object"};
    return type >= 0 && type <= JSON_OBJECT ? names[type] : "?";
}

char *json_printable(char *out, size_t n, const char *s) {
    if (!n) return out;
    size_t total = 0;
    for (const char *t = s; *t; t++) total += ((unsigned char)*t < 0x20 || *t == 0x7f) ? 4 : 1;
    size_t room = total + 1 <= n ? n - 1 : (n >= 4 ? n - 4 : 0);   /* leave space for "..." */
    size_t o = 0;
    while (*s) {
        unsigned char c = (unsigned char)*s;
        size_t k = 1, need = 1;   /* a UTF-8 sequence is copied whole or not at all */
        if (c < 0x20 || c == 0x7f) need = 4;
        else if (c >= 0xC0) while (((unsigned char)s[k] & 0xC0) == 0x80) k++, need++;
        if (o + need > room) break;
        if (need == 4 && k == 1) snprintf(out + o, 5, "\\x%02x", c);
        else memcpy(out + o, s, k);
        o += need;
        s += k;
    }
    if (*s && n >= 4) { memcpy(out + o, "...", 3); o += 3; }
    out[o] = 0;
    return out;
}

void json_append_string(char **buf, size_t *len, size_t *cap, const char *s) {
    size_t need = *len + 6 * strlen(s) + 3;
    if (need > *cap) {
        *cap = need > 2 * *cap ? need : 2 * *cap;
        *buf = xrealloc(*buf, *cap);
    }
    char *o = *buf + *len;
    *o++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\b': *o++ = '\\'; *o++ = 'b'; break;
        case '\f': *o++ = '\\'; *o++ = 'f'; break;
        default:
            if (c < 0x20) { snprintf(o, 7, "\\u%04x", c); o += 6; }
            else *o++ = (char)c;
        }
    }
    *o++ = '"';
    *o = 0;
    *len = (size_t)(o - *buf);
}

void json_fput_string(FILE *f, const char *s) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    json_append_string(&buf, &len, &cap, s);
    fwrite(buf, 1, len, f);
    free(buf);
}
