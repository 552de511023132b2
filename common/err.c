#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

static int err_vset(struct err **e, int code, int errnum, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t n;

	if (e == NULL || *e != NULL)
		return -1;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (errnum != 0) {
		n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, ": %s", strerror(errnum));
	}
	*e = xmalloc(sizeof(**e));
	(*e)->code = code;
	(*e)->msg = xstrdup(buf);
	return -1;
}

int err_set_(struct err **e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int err_setsys_(struct err **e, int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, code, saved, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

int err_wrap_(struct err **e, const char *fmt, ...)
{
	char ctx[512];
	char *msg;
	size_t len;
	va_list ap;

	if (e == NULL || *e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	len = strlen(ctx) + 2 + strlen((*e)->msg) + 1;
	msg = xmalloc(len);
	snprintf(msg, len, "%s: %s", ctx, (*e)->msg);
	free((*e)->msg);
	(*e)->msg = msg;
	return -1;
}

void err_free(struct err **e)
{
	if (e == NULL || *e == NULL)
		return;
	free((*e)->msg);
	free(*e);
	*e = NULL;
}

const char *err_msg(const struct err *e)
{
	return e != NULL && e->msg != NULL ? e->msg : "unknown error";
}
