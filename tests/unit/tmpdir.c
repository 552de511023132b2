/* The unit tests' temporary directory: see tmpdir.h. */
#include <config.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tmpdir.h"

char tmpdir_dir[64];
char tmpdir_path[96];

int tmpdir_setup(void **state)
{
	(void)state;
	snprintf(tmpdir_dir, sizeof(tmpdir_dir), "/tmp/lambda-unit.XXXXXX");
	if (mkdtemp(tmpdir_dir) == NULL)
		return -1;
	snprintf(tmpdir_path, sizeof(tmpdir_path), "%s/%s", tmpdir_dir, TMPDIR_FILE);
	return 0;
}

int tmpdir_teardown(void **state)
{
	DIR *d = opendir(tmpdir_dir);
	struct dirent *de;
	char p[sizeof(tmpdir_dir) + 256 + 1];

	(void)state;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir_dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	return rmdir(tmpdir_dir);
}
