/* Reading a number from a small cgroup (v1) file: a whole file such as
 * memory.usage_in_bytes or cpuacct.usage, or one field of a keyed file such
 * as memory.oom_control ("oom_kill N").  The one reader of pool.c's figures
 * and oomwatch.c's OOM-kill counter. */
#ifndef LAMBDA_EXECUTOR_CGFILE_H
#define LAMBDA_EXECUTOR_CGFILE_H

/* The number of the open file fd, read from offset 0 (pread: the kernel
 * formats the file anew at every read, so the fd can stay open): the number
 * after the text field (e.g. "oom_kill "), or the file's first number when
 * field is NULL.  -1 when fd is -1, the read fails or finds nothing (the
 * cgroup is gone) or the field is not in the file. */
long long cgfile_pread_ll(int fd, const char *field);
/* The same by path: opened, read once and closed. */
long long cgfile_read_ll(const char *path, const char *field);

#endif
