#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "xalloc.h"

void request_init(struct request *r, const char *method, const char *uri, char *const *env)
{
	const char *q = strchr(uri, '?');

	memset(r, 0, sizeof(*r));
	r->method = method;
	r->uri = uri;
	r->env = env;
	r->path = q != NULL ? xstrndup(uri, (size_t)(q - uri)) : xstrdup(uri);
	r->query = q != NULL ? q + 1 : "";
	r->body = "";
	r->remote_addr = "";
}

void request_free(struct request *r)
{
	free(r->path);
	r->path = NULL;
	for (int i = 0; i < r->nparams; i++) {
		free(r->params[i]);
		r->params[i] = NULL;
	}
	r->nparams = 0;
}

const char *request_env(const struct request *r, const char *name)
{
	size_t n = strlen(name);

	if (r->env == NULL)
		return NULL;
	for (char *const *p = r->env; *p != NULL; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

const char *request_header(const struct request *r, const char *name)
{
	char cgi[128];
	size_t o = 0;

	if (strcasecmp(name, "Content-Type") != 0 && strcasecmp(name, "Content-Length") != 0) {
		memcpy(cgi, "HTTP_", 5);
		o = 5;
	}
	for (const char *c = name; *c != '\0'; c++) {
		if (o + 1 >= sizeof(cgi))
			return NULL;
		cgi[o++] = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
	}
	cgi[o] = '\0';
	return request_env(r, cgi);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int url_decode(const char *s, size_t n, int plus_space, char **out, struct err **e)
{
	char *d = xmalloc(n + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				free(d);
				return err_set(e, ERR_INVALID, "bad percent-escape");
			}
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == '\0') {
			free(d);
			return err_set(e, ERR_INVALID, "NUL byte in the URL");
		}
		d[o++] = c;
	}
	d[o] = '\0';
	*out = d;
	return 0;
}

/* The raw value of the first parameter called name (vlen bytes), or NULL. */
static const char *query_find(const char *q, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);

	while (*q != '\0') {
		const char *amp = strchr(q, '&');
		size_t len = amp != NULL ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		size_t klen = eq != NULL ? (size_t)(eq - q) : len;

		if (klen == nlen && memcmp(q, name, nlen) == 0) {
			*vlen = eq != NULL ? len - klen - 1 : 0;
			return eq != NULL ? eq + 1 : q + len;
		}
		q += len;
		if (*q == '&')
			q++;
	}
	return NULL;
}

int request_query_has(const struct request *r, const char *name)
{
	size_t vlen;

	return query_find(r->query, name, &vlen) != NULL;
}

int request_query(const struct request *r, const char *name, char **out, struct err **e)
{
	size_t vlen;
	const char *v = query_find(r->query, name, &vlen);

	if (v == NULL) {
		*out = NULL;
		return 0;
	}
	if (url_decode(v, vlen, 1, out, e) < 0)
		return err_wrap(e, "query parameter '%s'", name);
	return 0;
}
