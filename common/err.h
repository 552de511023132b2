/* Errors carried up to the one boundary that handles them (crun's contract).
 *
 * A function that can fail returns int (0 ok, <0 failure) or a pointer (NULL),
 * and takes `struct err **e` last.  On success *e is untouched.  On failure *e
 * holds a heap-allocated error that the caller owns and releases with
 * err_free() (or passes further up, wrapped with err_wrap()). */
#ifndef LAMBDA_ERR_H
#define LAMBDA_ERR_H

#include <stdarg.h>

/* Error codes: what the boundary maps to an HTTP status or a protocol reply. */
enum err_code {
	ERR_INTERNAL = 1, /* a bug or an unexpected failure: 500 */
	ERR_INVALID,      /* bad input from the caller: 400 */
	ERR_NOT_FOUND,    /* 404 */
	ERR_CONFLICT,     /* 409 */
	ERR_TOO_LARGE,    /* 413 */
	ERR_UNAUTHORIZED, /* 401 */
	ERR_FORBIDDEN,    /* 403 */
	ERR_METHOD,       /* 405 */
	ERR_TOO_MANY,     /* 429 */
	ERR_UNAVAILABLE,  /* a dependency is down: 503 */
	ERR_TIMEOUT,      /* a deadline passed */
	ERR_PROTO,        /* a malformed frame or message */
	ERR_IO,           /* a system call failed (errno kept in the message) */
};

struct err {
	int code;  /* enum err_code */
	char *msg; /* human readable, owned */
};

/* Sets *e (if e is not NULL and *e is NULL) to a new error.  Returns -1 so
 * that callers can write `return err_set(e, ERR_INVALID, "...")`.  If *e is
 * already set it is kept: the first, most specific error wins. */
int err_set_(struct err **e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Like err_set, with ": <strerror(errno)>" appended. */
int err_setsys_(struct err **e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends context to an existing error: "<context>: <old message>".
 * Returns -1.  Does nothing if e or *e is NULL. */
int err_wrap_(struct err **e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The macros make the -1 visible at every call site, so that static analysers
 * (scan-build) know that `return err_set(...)` never returns 0. */
#define err_set(e, code, ...)                                                                      \
	({                                                                                         \
		err_set_((e), (code), __VA_ARGS__);                                                \
		-1;                                                                                \
	})
#define err_setsys(e, code, ...)                                                                   \
	({                                                                                         \
		err_setsys_((e), (code), __VA_ARGS__);                                             \
		-1;                                                                                \
	})
#define err_wrap(e, ...)                                                                           \
	({                                                                                         \
		err_wrap_((e), __VA_ARGS__);                                                       \
		-1;                                                                                \
	})

/* Frees *e and sets it to NULL.  Safe on NULL. */
void err_free(struct err **e);

/* The message of e, or "unknown error" when e is NULL. */
const char *err_msg(const struct err *e);

#endif
