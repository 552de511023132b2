/* One logging module for both programs (OpenBSD httpd's log.c idea).
 * Levels are checked in the macro so that disabled levels cost nothing;
 * every line carries the function name.  log_warn/log_err append
 * strerror(errno), the ...x variants do not.  fatal() is for start-up only. */
#ifndef LAMBDA_LOG_H
#define LAMBDA_LOG_H

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern int log_level_current;

/* name: program name for each line; level: enum log_level.  Logs go to
 * stderr (lighttpd and the bring-up scripts redirect it to var/log). */
void log_init(const char *name, int level);
/* Parses "error|warn|info|debug"; returns -1 on an unknown word. */
int log_level_parse(const char *word);

void log_emit(int level, int with_errno, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void log_fatal(int with_errno, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define LOG_AT(lvl, en, ...)                                                                       \
	do {                                                                                       \
		if ((lvl) <= log_level_current)                                                    \
			log_emit((lvl), (en), __func__, __VA_ARGS__);                              \
	} while (0)

#define log_debug(...) LOG_AT(LOG_LVL_DEBUG, 0, __VA_ARGS__)
#define log_info(...)  LOG_AT(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_warn(...)  LOG_AT(LOG_LVL_WARN, 1, __VA_ARGS__)
#define log_warnx(...) LOG_AT(LOG_LVL_WARN, 0, __VA_ARGS__)
#define log_err(...)   LOG_AT(LOG_LVL_ERR, 1, __VA_ARGS__)
#define log_errx(...)  LOG_AT(LOG_LVL_ERR, 0, __VA_ARGS__)
#define fatal(...)     log_fatal(1, __func__, __VA_ARGS__)
#define fatalx(...)    log_fatal(0, __func__, __VA_ARGS__)

#endif
