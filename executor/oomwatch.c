#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cgfile.h"
#include "cleanup.h"
#include "log.h"
#include "oomwatch.h"
#include "xalloc.h"

/* A threshold that usage never crosses: only the removal signals it. */
#define NEVER_BYTES "4611686018427387904"
/* After the removal was signalled, how long the OOM eventfd's own removal
 * signal may take (both are queued by the kernel at the same time). */
#define REMOVAL_SKEW_MS 200
/* memory.oom_control's field that counts the kernel's OOM kills */
#define OOM_KILLS "oom_kill "

void oomwatch_init(struct oomwatch *w)
{
	w->dir = NULL;
	w->oom_efd = w->gone_efd = w->kills_fd = -1;
	w->oom_seen = 0;
	w->base = 0;
}

void oomwatch_close(struct oomwatch *w)
{
	if (w->oom_efd >= 0)
		close(w->oom_efd);
	if (w->gone_efd >= 0)
		close(w->gone_efd);
	if (w->kills_fd >= 0)
		close(w->kills_fd);
	free(w->dir);
	oomwatch_init(w);
}

/* The oom_kill counter of memory.oom_control in dir, or -1 (the cgroup is
 * gone). */
static long long read_kills(const char *dir)
{
	_cleanup_free_ char *path = xasprintf("%s/memory.oom_control", dir);

	return cgfile_read_ll(path, OOM_KILLS);
}

/* Adds what the eventfd holds to *count (non-blocking). */
static void drain(int efd, long long *count)
{
	uint64_t v;

	if (efd >= 0 && read(efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		*count += (long long)v;
}

/* Registers efd for the cgroup file `file` (with args, or NULL). */
static int register_event(const char *dir, int efd, const char *file, const char *args,
                          struct err **e)
{
	_cleanup_free_ char *ctl = xasprintf("%s/cgroup.event_control", dir);
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	_cleanup_free_ char *line = NULL;
	_cleanup_close_ int cfd = open(ctl, O_WRONLY | O_CLOEXEC);
	_cleanup_close_ int ffd = open(path, O_RDONLY | O_CLOEXEC);

	if (cfd < 0 || ffd < 0)
		return err_setsys(e, ERR_NOT_FOUND, "%s", cfd < 0 ? ctl : path);
	line = args != NULL ? xasprintf("%d %d %s", efd, ffd, args) : xasprintf("%d %d", efd, ffd);
	if (write(cfd, line, strlen(line)) < 0)
		return err_setsys(e, ERR_IO, "%s", ctl);
	return 0;
}

int oomwatch_arm(struct oomwatch *w, const char *cgroup_root, const char *id, struct err **e)
{
	_cleanup_free_ char *dir = xasprintf("%s/memory/docker/%s", cgroup_root, id);
	_cleanup_close_ int oom = -1;
	_cleanup_close_ int gone = -1;
	long long kills = read_kills(dir);

	if (kills < 0)
		return err_set(e, ERR_NOT_FOUND, "no cgroup v1 memory.oom_control in %s", dir);
	oom = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	gone = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (oom < 0 || gone < 0)
		return err_setsys(e, ERR_IO, "eventfd");
	if (register_event(dir, oom, "memory.oom_control", NULL, e) < 0 ||
	    register_event(dir, gone, "memory.usage_in_bytes", NEVER_BYTES, e) < 0)
		return -1;
	oomwatch_close(w);
	/* marked before every batch: an open file saves an open and a close
	 * (a path walk in kernfs) per call */
	{
		_cleanup_free_ char *kpath = xasprintf("%s/memory.oom_control", dir);
		w->kills_fd = open(kpath, O_RDONLY | O_CLOEXEC);
	}
	w->dir = TAKE_PTR(dir);
	w->oom_efd = TAKE_FD(oom);
	w->gone_efd = TAKE_FD(gone);
	w->base = kills;
	return 0;
}

void oomwatch_mark(struct oomwatch *w)
{
	long long ignored = 0;

	if (w->dir == NULL)
		return;
	drain(w->oom_efd, &ignored);
	w->oom_seen = 0;
	w->base = w->kills_fd >= 0 ? cgfile_pread_ll(w->kills_fd, OOM_KILLS) : read_kills(w->dir);
}

/* Waits up to ms for efd to be readable. */
static int wait_readable(int efd, long ms)
{
	struct pollfd p = {.fd = efd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, (int)ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

int oomwatch_verdict(struct oomwatch *w, long wait_ms)
{
	long long kills, gone = 0;

	if (w->dir == NULL)
		return -1;
	/* the cgroup is still there: its counter is exact (the kernel counts
	 * the kill before it sends SIGKILL) */
	kills = read_kills(w->dir);
	if (kills >= 0 && w->base >= 0)
		return kills > w->base;
	/* gone: notifications since the mark, less the removal's own */
	drain(w->oom_efd, &w->oom_seen);
	if (w->oom_seen >= 2)
		return 1;
	if (wait_readable(w->gone_efd, wait_ms))
		drain(w->gone_efd, &gone);
	if (gone == 0) /* not removed (yet): every notification was an OOM */
		return w->oom_seen > 0;
	if (wait_readable(w->oom_efd, REMOVAL_SKEW_MS))
		drain(w->oom_efd, &w->oom_seen);
	log_debug("%s: %lld OOM notifications with the removal", w->dir, w->oom_seen);
	return w->oom_seen >= 2;
}
