/* json.h — a small strict JSON parser (RFC 8259) for file headers and configs.
 *
 * Strict means: one value, surrounded only by whitespace; no comments, no
 * trailing commas, no NaN/Infinity, no leading zeros or '+' signs; strings are
 * valid UTF-8 with no raw control characters, escapes incl. \uXXXX surrogate
 * pairs are decoded (a \u0000 is refused, so every string is a C string);
 * duplicate keys in an object are an error; nesting is limited to
 * JSON_MAX_DEPTH. Errors name the byte offset: "invalid JSON at byte 17: ...".
 *
 * The tree is compact (16 bytes a node) because safetensors headers may be
 * large: a string's bytes live in one arena owned by the JsonDoc, and the
 * members of an object are stored as key, value, key, value, ...
 * Nothing here exits; the parser allocates with the x* wrappers of util.h.
 */
#ifndef POSBENCH_JSON_H
#define POSBENCH_JSON_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 64

typedef enum JsonType {
    JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT
} JsonType;

typedef struct JsonValue {
    unsigned char type;        /* JsonType */
    unsigned char is_int;      /* NUMBER written without fraction or exponent that fits int64 */
    unsigned n;                /* STRING: bytes; ARRAY: elements; OBJECT: members */
    union {
        double num;            /* NUMBER when !is_int */
        int64_t i;             /* NUMBER when is_int */
        const char *str;       /* STRING: decoded UTF-8, NUL-terminated (in the doc's arena) */
        struct JsonValue *items; /* ARRAY: n values; OBJECT: 2n values (key STRING, value) */
    } u;
} JsonValue;

typedef struct JsonDoc {
    JsonValue root;
    char *strings;             /* arena holding every decoded string */
} JsonDoc;

/* Parse text[0..len) (need not be NUL-terminated). 0, or -1 with the reason in
 * err and doc zeroed. json_doc_free is safe on a zeroed doc. */
int json_parse(JsonDoc *doc, const char *text, size_t len, char *err, size_t errlen);
void json_doc_free(JsonDoc *doc);

/* Object access: member i's key and value; lookup by key (NULL if absent or not an object). */
const char *json_key(const JsonValue *obj, unsigned i);
const JsonValue *json_value(const JsonValue *obj, unsigned i);
const JsonValue *json_get(const JsonValue *obj, const char *key);
/* Array element i (NULL when out of range or not an array). */
const JsonValue *json_at(const JsonValue *arr, unsigned i);

/* 0 and *out if v is an integer number (no fraction/exponent, fits int64), else -1. */
int json_int64(const JsonValue *v, int64_t *out);
/* Numeric value of a NUMBER (0 for other types). */
double json_number(const JsonValue *v);
/* "null", "false", "true", "number", "string", "array", "object" */
const char *json_type_name(int type);

/* Copy s into out[n] for an error message: control bytes become \xNN, long
 * strings end in "...", so a message stays one line. Returns out. */
char *json_printable(char *out, size_t n, const char *s);

/* Write s as a JSON string literal (quotes, escapes) to f / append to a buffer. */
void json_fput_string(FILE *f, const char *s);
/* Appends to *buf (realloc'd, NUL-terminated), growing *cap; *len is updated. */
void json_append_string(char **buf, size_t *len, size_t *cap, const char *s);

#endif
