#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>
#include <dirent.h>

#include "cleanup.h"
#include "code_store.h"
#include "crypt.h"
#include "xalloc.h"

code_unpack_fn code_zip_unpack = NULL;

static int write_file(const char *path, const char *data, size_t len, struct err **e)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t off = 0;

	if (fd < 0)
		return err_setsys(e, ERR_IO, "%s", path);
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_setsys(e, ERR_IO, "%s", path);
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		return err_setsys(e, ERR_IO, "%s", path);
	return 0;
}

/* mkdir -p of the directories inside rel under base. */
static int make_parents(const char *base, const char *rel, struct err **e)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", base, rel);
	char *s = p + strlen(base) + 1;

	while ((s = strchr(s, '/')) != NULL) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return err_setsys(e, ERR_IO, "mkdir %s", p);
		*s++ = '/';
	}
	return 0;
}

static void remove_tree(const char *path)
{
	_cleanup_free_ char *cmd = NULL;
	DIR *d = opendir(path);
	struct dirent *de;

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		cmd = xasprintf("%s/%s", path, de->d_name);
		remove_tree(cmd);
		free(cmd);
		cmd = NULL;
	}
	closedir(d);
	rmdir(path);
}

static int fill_dir(const char *tmp, const struct function *f, struct err **e)
{
	_cleanup_free_ char *file = NULL;
	_cleanup_free_ char *path = NULL;

	if (strcmp(f->code_format, "zip") == 0) {
		if (code_zip_unpack == NULL)
			return err_set(e, ERR_INVALID,
			               "code_zip: zip archives are not supported by this build");
		return code_zip_unpack(f->code, f->code_len, tmp, e);
	}
	file = function_code_file(f);
	if (file == NULL)
		return err_set(e, ERR_INVALID, "handler: names no file");
	if (make_parents(tmp, file, e) < 0)
		return -1;
	path = xasprintf("%s/%s", tmp, file);
	return write_file(path, f->code, f->code_len, e);
}

/* Text code of the same bytes may be stored under several file names
 * (main.py, app.py): a directory that exists but lacks ours gets the file
 * added, itself atomically (temporary file + rename). */
static int add_missing_file(const char *dir, const struct function *f, struct err **e)
{
	_cleanup_free_ char *file = function_code_file(f);
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *tmp = NULL;
	struct stat st;

	if (strcmp(f->code_format, "zip") == 0 || file == NULL)
		return 0;
	path = xasprintf("%s/%s", dir, file);
	if (stat(path, &st) == 0)
		return 0;
	if (make_parents(dir, file, e) < 0)
		return -1;
	tmp = xasprintf("%s.%d.%lx.tmp", path, (int)getpid(), (unsigned long)pthread_self());
	if (write_file(tmp, f->code, f->code_len, e) < 0) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return err_setsys(e, ERR_IO, "rename %s", path);
	}
	return 0;
}

int code_store_write(const char *code_dir, const struct function *f, char **dir, struct err **e)
{
	_cleanup_free_ char *final = xasprintf("%s/%s", code_dir, f->code_sha256);
	_cleanup_free_ char *tmp = NULL;
	uint8_t rnd[8];
	char hex[17];
	struct stat st;

	if (stat(final, &st) == 0) {
		if (add_missing_file(final, f, e) < 0)
			return -1;
		goto done;
	}
	if (crypt_random(rnd, sizeof(rnd), e) < 0)
		return -1;
	crypt_hex(rnd, sizeof(rnd), hex);
	tmp = xasprintf("%s/.tmp-%s", code_dir, hex);
	if (mkdir(tmp, 0755) < 0)
		return err_setsys(e, ERR_IO, "mkdir %s", tmp);
	if (fill_dir(tmp, f, e) < 0) {
		remove_tree(tmp);
		return -1;
	}
	if (rename(tmp, final) < 0) {
		int saved = errno;
		remove_tree(tmp);
		/* another request stored the same code first: that is ours too */
		if (saved != EEXIST && saved != ENOTEMPTY) {
			errno = saved;
			return err_setsys(e, ERR_IO, "rename %s", final);
		}
		if (add_missing_file(final, f, e) < 0)
			return -1;
	}
done:
	if (dir != NULL)
		*dir = TAKE_PTR(final);
	return 0;
}
