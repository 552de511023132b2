/* Scope-bound release of locals (systemd/crun style).  Declare at the top of
 * the block, initialised to NULL / -1; move ownership out with TAKE_PTR /
 * TAKE_FD.  gcc does not refuse a goto that jumps past one of these: build
 * with -Wjump-misses-init (and with clang, which refuses it). */
#ifndef LAMBDA_CLEANUP_H
#define LAMBDA_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>

#include <cJSON.h>

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}
static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void cleanup_fclosep(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
}
static inline void cleanup_closedirp(DIR **d)
{
	if (*d != NULL)
		closedir(*d);
}
static inline void cleanup_cjsonp(cJSON **j)
{
	cJSON_Delete(*j);
}
/* For strings from cJSON_Print*: they are released with cJSON_free. */
static inline void cleanup_cjson_strp(char **s)
{
	if (*s != NULL)
		cJSON_free(*s);
}

#define _cleanup_(f)        __attribute__((cleanup(f)))
#define _cleanup_free_      _cleanup_(cleanup_freep)
#define _cleanup_close_     _cleanup_(cleanup_closep)
#define _cleanup_fclose_    _cleanup_(cleanup_fclosep)
#define _cleanup_closedir_  _cleanup_(cleanup_closedirp)
#define _cleanup_cjson_     _cleanup_(cleanup_cjsonp)
#define _cleanup_cjson_str_ _cleanup_(cleanup_cjson_strp)

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _tp = (p);                                                           \
		(p) = NULL;                                                                        \
		_tp;                                                                               \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _tf = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_tf;                                                                               \
	})

#endif
