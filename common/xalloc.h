/* Allocation that never returns NULL: on failure it logs and aborts, so
 * callers never test the result (STYLE 12). */
#ifndef LAMBDA_XALLOC_H
#define LAMBDA_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated printf-formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
