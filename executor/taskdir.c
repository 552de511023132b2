#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "taskdir.h"
#include "xalloc.h"

#define COPY_BUF 65536

/* ------------------------------------------------------------------ */
/* Removal                                                             */
/* ------------------------------------------------------------------ */

/* Removes the entries of the directory open as dfd (consumed), depth first,
 * with *at calls relative to it: a link is removed, never followed. */
static int remove_entries(int dfd, const char *path, struct err **e)
{
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (d == NULL) {
		close(dfd);
		return err_setsys(e, ERR_IO, "fdopendir %s", path);
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno != EISDIR && errno != EPERM)
			return err_setsys(e, ERR_IO, "unlink %s/%s", path, de->d_name);
		{
			int sub = openat(dirfd(d), de->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_free_ char *subpath = xasprintf("%s/%s", path, de->d_name);
			if (sub < 0)
				return err_setsys(e, ERR_IO, "open %s", subpath);
			if (remove_entries(sub, subpath, e) < 0)
				return -1;
			if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
				return err_setsys(e, ERR_IO, "rmdir %s", subpath);
		}
	}
	if (errno != 0)
		return err_setsys(e, ERR_IO, "readdir %s", path);
	return 0;
}

int taskdir_remove(const char *path, struct err **e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return err_setsys(e, ERR_IO, "open %s", path);
	}
	if (remove_entries(fd, path, e) < 0)
		return -1;
	if (rmdir(path) < 0 && errno != ENOENT)
		return err_setsys(e, ERR_IO, "rmdir %s", path);
	return 0;
}

int taskdir_sweep(const char *var_dir, struct err **e)
{
	_cleanup_free_ char *root = xasprintf("%s/prewarm", var_dir);
	int fd;

	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		return err_setsys(e, ERR_IO, "mkdir %s", root);
	if (chmod(root, 0755) < 0)
		return err_setsys(e, ERR_IO, "chmod %s", root);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_setsys(e, ERR_IO, "open %s", root);
	return remove_entries(fd, root, e);
}

char *taskdir_create(const char *var_dir, unsigned long seq, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("%s/prewarm/%lu", var_dir, seq);

	/* mkdir's mode is cut by the umask: chmod says it exactly */
	if (mkdir(path, 0755) < 0 || chmod(path, 0755) < 0) {
		err_setsys(e, ERR_IO, "mkdir %s", path);
		return NULL;
	}
	return TAKE_PTR(path);
}

/* ------------------------------------------------------------------ */
/* Copy                                                                */
/* ------------------------------------------------------------------ */

static int copy_file(int sdir, int ddir, const char *name, const char *path, struct err **e)
{
	_cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	char buf[COPY_BUF];
	ssize_t n;

	if (in < 0)
		return err_setsys(e, ERR_IO, "open %s", path);
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0 || fchmod(out, 0644) < 0)
		return err_setsys(e, ERR_IO, "create a copy of %s", path);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_setsys(e, ERR_IO, "read %s", path);
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return err_setsys(e, ERR_IO, "write a copy of %s", path);
			off += w;
		}
	}
	return 0;
}

static int copy_link(int sdir, int ddir, const char *name, const char *path, struct err **e)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);

	if (n < 0)
		return err_setsys(e, ERR_IO, "readlink %s", path);
	target[n] = '\0';
	if (symlinkat(target, ddir, name) < 0)
		return err_setsys(e, ERR_IO, "symlink a copy of %s", path);
	return 0;
}

/* Copies the entries of the directory open as sdir into ddir (both
 * consumed); *entries counts what was seen so far. */
static int copy_tree(int sdir, int ddir, const char *path, int *entries, struct err **e)
{
	_cleanup_closedir_ DIR *d = fdopendir(sdir);
	_cleanup_close_ int dd = ddir;
	struct dirent *de;

	if (d == NULL) {
		close(sdir);
		return err_setsys(e, ERR_IO, "fdopendir %s", path);
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		_cleanup_free_ char *sub = NULL;
		struct stat st;
		int r = 0;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++*entries > TASKDIR_MAX_ENTRIES)
			return err_set(e, ERR_TOO_LARGE, "%s: more than %d entries", path,
			               TASKDIR_MAX_ENTRIES);
		sub = xasprintf("%s/%s", path, de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return err_setsys(e, ERR_IO, "stat %s", sub);
		if (S_ISREG(st.st_mode)) {
			r = copy_file(dirfd(d), dd, de->d_name, sub, e);
		} else if (S_ISLNK(st.st_mode)) {
			r = copy_link(dirfd(d), dd, de->d_name, sub, e);
		} else if (S_ISDIR(st.st_mode)) {
			int s2, d2;
			if (mkdirat(dd, de->d_name, 0755) < 0)
				return err_setsys(e, ERR_IO, "mkdir a copy of %s", sub);
			d2 =
			    openat(dd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (d2 < 0 || fchmod(d2, 0755) < 0) {
				if (d2 >= 0)
					close(d2);
				return err_setsys(e, ERR_IO, "open the copy of %s", sub);
			}
			s2 = openat(dirfd(d), de->d_name,
			            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0) {
				close(d2);
				return err_setsys(e, ERR_IO, "open %s", sub);
			}
			r = copy_tree(s2, d2, sub, entries, e);
		}
		if (r < 0)
			return -1;
	}
	if (errno != 0)
		return err_setsys(e, ERR_IO, "readdir %s", path);
	return 0;
}

int taskdir_copy(const char *src, const char *dst, struct err **e)
{
	int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int dfd;
	int entries = 0;

	if (sfd < 0)
		return err_setsys(e, ERR_IO, "open %s", src);
	dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		close(sfd);
		return err_setsys(e, ERR_IO, "open %s", dst);
	}
	return copy_tree(sfd, dfd, src, &entries, e);
}
