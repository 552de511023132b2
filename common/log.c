#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int log_level_current = LOG_LVL_INFO;
static const char *log_name = "lambda";
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_init(const char *name, int level)
{
	log_name = name;
	log_level_current = level;
}

int log_level_parse(const char *word)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(word, level_names[i]) == 0)
			return (int)i;
	return -1;
}

static void log_vemit(int level, int errnum, const char *func, const char *fmt, va_list ap)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s[%d] %s %s: ", ts.tv_nsec / 1000000,
	             log_name, (int)getpid(), level_names[level], func);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	if (errnum != 0 && n < sizeof(line) - 1) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(errnum));
		if (r > 0)
			n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line so that lines of concurrent threads do not mix. */
	if (write(STDERR_FILENO, line, n) < 0) {
		/* stderr is gone: nowhere left to report it */
	}
}

void log_emit(int level, int with_errno, const char *func, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, with_errno ? saved : 0, func, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_fatal(int with_errno, const char *func, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LVL_ERR, with_errno ? saved : 0, func, fmt, ap);
	va_end(ap);
	exit(1);
}
