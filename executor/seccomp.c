#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "cleanup.h"
#include "seccomp.h"
#include "xalloc.h"

/* *out: the whole file, NUL-terminated, at most SECCOMP_PROFILE_MAX bytes
 * (the caller frees it). */
static int read_small_file(const char *path, char **out, size_t *len, struct err **e)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *data = NULL;
	struct stat st;
	size_t got = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return err_setsys(e, ERR_INVALID, "%s", path);
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "%s: not a regular file", path);
	/* one byte more than allowed: a file that grew since fstat is caught */
	data = xmalloc(SECCOMP_PROFILE_MAX + 2);
	for (;;) {
		ssize_t r = read(fd, data + got, SECCOMP_PROFILE_MAX + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_setsys(e, ERR_INVALID, "%s", path);
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > SECCOMP_PROFILE_MAX)
			return err_set(e, ERR_INVALID, "%s: larger than %u bytes", path,
			               SECCOMP_PROFILE_MAX);
	}
	data[got] = '\0';
	*len = got;
	*out = TAKE_PTR(data);
	return 0;
}

static int check_rule(const cJSON *rule, int i, const char *path, struct err **e)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(rule, "names");
	const cJSON *action = cJSON_GetObjectItemCaseSensitive(rule, "action");
	const cJSON *n;

	if (!cJSON_IsObject(rule))
		return err_set(e, ERR_INVALID, "%s: syscalls[%d] is not an object", path, i);
	if (!cJSON_IsArray(names) || cJSON_GetArraySize(names) == 0)
		return err_set(e, ERR_INVALID, "%s: syscalls[%d] has no \"names\" array", path, i);
	cJSON_ArrayForEach(n, names)
	{
		if (!cJSON_IsString(n) || n->valuestring[0] == '\0')
			return err_set(e, ERR_INVALID,
			               "%s: syscalls[%d]: names must be non-empty strings", path,
			               i);
	}
	if (!cJSON_IsString(action))
		return err_set(e, ERR_INVALID, "%s: syscalls[%d] has no string \"action\"", path,
		               i);
	return 0;
}

static int check_profile(const cJSON *p, const char *path, struct err **e)
{
	const cJSON *def = cJSON_GetObjectItemCaseSensitive(p, "defaultAction");
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(p, "syscalls");
	const cJSON *rule;
	int i = 0;

	if (!cJSON_IsObject(p))
		return err_set(e, ERR_INVALID, "%s: not a JSON object", path);
	if (!cJSON_IsString(def))
		return err_set(e, ERR_INVALID, "%s: no string \"defaultAction\"", path);
	/* An allow-by-default profile blocks only what it lists: not ours. */
	if (strcmp(def->valuestring, "SCMP_ACT_ALLOW") == 0)
		return err_set(e, ERR_INVALID,
		               "%s: defaultAction SCMP_ACT_ALLOW: the profile must deny what it "
		               "does not list",
		               path);
	if (!cJSON_IsArray(calls) || cJSON_GetArraySize(calls) == 0)
		return err_set(e, ERR_INVALID, "%s: no non-empty \"syscalls\" array", path);
	cJSON_ArrayForEach(rule, calls)
	{
		if (check_rule(rule, i++, path, e) < 0)
			return -1;
	}
	return 0;
}

int seccomp_profile_load(const char *path, char **json, struct err **e)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_cjson_ cJSON *p = NULL;
	_cleanup_cjson_str_ char *text = NULL;
	size_t len = 0;

	if (read_small_file(path, &data, &len, e) < 0)
		return -1;
	p = cJSON_ParseWithLength(data, len);
	if (p == NULL)
		return err_set(e, ERR_INVALID, "%s: not valid JSON", path);
	if (check_profile(p, path, e) < 0)
		return -1;
	text = cJSON_PrintUnformatted(p);
	if (text == NULL)
		return err_set(e, ERR_INTERNAL, "%s: cannot print the profile", path);
	*json = xstrdup(text);
	return 0;
}
