#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static void buf_reserve(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;

	if (need + 1 <= b->cap)
		return;
	while (cap < need + 1)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

int buf_append(struct buf *b, const void *p, size_t n, struct err **e)
{
	if (n > b->max - b->len)
		return err_set(e, ERR_TOO_LARGE, "buffer limit of %zu bytes exceeded", b->max);
	buf_reserve(b, b->len + n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

size_t buf_append_trunc(struct buf *b, const void *p, size_t n)
{
	size_t room = b->max - b->len;
	size_t take = n < room ? n : room;

	if (take > 0)
		buf_append(b, p, take, NULL);
	return n - take;
}

int buf_appendf(struct buf *b, struct err **e, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err_set(e, ERR_INTERNAL, "out of memory formatting");
	n = buf_append(b, s, (size_t)n, e);
	free(s);
	return n;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *buf_take(struct buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = xstrdup("");
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
