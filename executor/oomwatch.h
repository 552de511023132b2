/* Telling an out-of-memory kill from any other SIGKILL, from the container's
 * memory cgroup (v1): `memory.oom_control` counts the kernel's OOM kills in
 * the cgroup (`oom_kill N`).  State.OOMKilled from the engine was seen
 * missing under runsc, and exit 137 is also what `docker kill` gives.
 *
 * The cgroup directory goes away when the container stops, possibly before
 * the executor looks; so at start an eventfd is registered through
 * `cgroup.event_control` for the cgroup's OOM notifications (signalled
 * before the kill), and a second one on a memory threshold that usage can
 * never reach: the kernel signals both once more when the cgroup is removed,
 * so the second one says "removed" and lets the first one's count be read
 * without that extra signal. */
#ifndef LAMBDA_EXECUTOR_OOMWATCH_H
#define LAMBDA_EXECUTOR_OOMWATCH_H

#include "err.h"

struct oomwatch {
	char *dir;          /* <cgroup_root>/memory/docker/<id>, NULL: not armed */
	int oom_efd;        /* OOM notifications (+1 when the cgroup is removed) */
	int gone_efd;       /* only the removal signal */
	int kills_fd;       /* memory.oom_control, kept open: read at every mark */
	long long oom_seen; /* OOM notifications read since the last mark */
	long long base;     /* oom_kill counter at the last mark, -1 unknown */
};

void oomwatch_init(struct oomwatch *w);
/* Registers the eventfds for container id (cgroup v1, cgroupfs driver:
 * `<cgroup_root>/memory/docker/<id>`).  Fails (ERR_NOT_FOUND) when there is
 * no such cgroup, e.g. on a cgroup v2 host; the watch stays unarmed. */
int oomwatch_arm(struct oomwatch *w, const char *cgroup_root, const char *id, struct err **e);
/* A new baseline: OOM kills before now (e.g. of a child process in an
 * earlier call that the container survived) do not count. */
void oomwatch_mark(struct oomwatch *w);
/* After the container died: 1 when the kernel OOM-killed in its cgroup since
 * the last mark, 0 when not, -1 when it cannot tell (unarmed).  May wait up
 * to wait_ms for the cgroup's removal to be signalled. */
int oomwatch_verdict(struct oomwatch *w, long wait_ms);
void oomwatch_close(struct oomwatch *w);

#endif
