/* Numbers from small cgroup files: see cgfile.h. */
#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgfile.h"
#include "cleanup.h"

/* The files read are a few dozen bytes (memory.oom_control is the longest). */
#define CGFILE_MAX 256

long long cgfile_pread_ll(int fd, const char *field)
{
	char buf[CGFILE_MAX];
	const char *p = buf;
	ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (field != NULL) {
		p = strstr(buf, field);
		if (p == NULL)
			return -1;
		p += strlen(field);
	}
	return strtoll(p, NULL, 10);
}

long long cgfile_read_ll(const char *path, const char *field)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	return cgfile_pread_ll(fd, field);
}
