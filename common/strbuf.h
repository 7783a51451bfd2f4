/* strbuf.h — a growing, NUL-terminated string for text assembled piece by piece
 * (report cells, notes, command lines). Zero-initialise (Sb b = {0}), append
 * with sb_printf, read with sb_str, release with free(b.s).
 */
#ifndef POSBENCH_STRBUF_H
#define POSBENCH_STRBUF_H
#include <stddef.h>

typedef struct Sb {
    char *s;         /* NULL until the first append */
    size_t n, cap;   /* length without the NUL; allocated bytes */
} Sb;

void sb_printf(Sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *sb_str(const Sb *b); /* "" before the first append */

#endif
