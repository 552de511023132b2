/* A growable byte buffer with a hard maximum (curl's dynbuf): every buffer
 * that grows from outside input (request bodies, Docker responses, frames,
 * captured logs) says how large it may become. */
#ifndef LAMBDA_BUF_H
#define LAMBDA_BUF_H

#include <stddef.h>

#include "err.h"

struct buf {
	char *data; /* NUL-terminated when len > 0 (a spare byte is kept) */
	size_t len; /* bytes used, not counting the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* hard maximum of len */
};

/* Initialises b empty with the given hard maximum (no allocation yet). */
void buf_init(struct buf *b, size_t max);
/* Appends n bytes.  On overflow of max, nothing is appended and ERR_TOO_LARGE
 * is returned: the buffer keeps what it had. */
int buf_append(struct buf *b, const void *p, size_t n, struct err **e);
int buf_appendf(struct buf *b, struct err **e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends as much of p as fits; returns the number of bytes dropped. */
size_t buf_append_trunc(struct buf *b, const void *p, size_t n);
void buf_reset(struct buf *b);
/* Hands the data over to the caller (who frees it); b becomes empty. */
char *buf_take(struct buf *b);
void buf_free(struct buf *b);

#endif
