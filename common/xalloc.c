#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif

#include "xalloc.h"

static void oom(size_t n)
{
	char msg[96];
	int len = snprintf(msg, sizeof(msg), "fatal: out of memory allocating %zu bytes\n", n);

	if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0) {
		/* nothing left to do */
	}
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom(strlen(s) + 1);
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		oom(n + 1);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom(0);
	return p;
}

int xalloc_trim(void)
{
#if defined(HAVE_MALLOC_TRIM) && defined(HAVE_MALLOC_H)
	return malloc_trim(0);
#else
	return 0;
#endif
}

/* A sanitizer that replaces malloc (ASan, as configure's --enable-sanitizers
 * builds; TSan, MSan) brings its own allocator: the mallopt we would call
 * is its stub, which refuses M_ARENA_MAX, and there are no glibc arenas to
 * cap.  gcc says so with __SANITIZE_*__, clang with __has_feature. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define XALLOC_SANITIZER_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#define XALLOC_SANITIZER_MALLOC 1
#endif
#endif

int xalloc_arenas(int n)
{
#if defined(XALLOC_SANITIZER_MALLOC)
	(void)n;
	return 1;
#elif defined(HAVE_MALLOPT) && defined(HAVE_MALLOC_H) && defined(M_ARENA_MAX)
	return mallopt(M_ARENA_MAX, n) == 1 ? 0 : -1;
#else
	(void)n;
	return -1;
#endif
}

#define TCACHE_TUNABLE "glibc.malloc.tcache_count"

void xalloc_tcache_off(char **argv)
{
	const char *cur = getenv("GLIBC_TUNABLES");
	char *val, self[4096];
	ssize_t n;

	if (cur != NULL && strstr(cur, TCACHE_TUNABLE) != NULL)
		return;
	val = cur != NULL && *cur != '\0' ? xasprintf("%s:%s=0", cur, TCACHE_TUNABLE)
	                                  : xstrdup(TCACHE_TUNABLE "=0");
	/* by its own path, not /proc/self/exe, whose name would become the
	 * process name ("exe") that scripts/stack.sh and pgrep look for */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0 && (size_t)n < sizeof(self) - 1 && setenv("GLIBC_TUNABLES", val, 1) == 0) {
		self[n] = '\0';
		execv(self, argv);
	}
	fprintf(stderr, "%s: cannot execute again with %s: %s\n", argv[0], val, strerror(errno));
	if (cur != NULL)
		setenv("GLIBC_TUNABLES", cur, 1);
	else
		unsetenv("GLIBC_TUNABLES");
	free(val);
}
