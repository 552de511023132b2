/* The shared generation counter: see gen.h. */
#include <config.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "gen.h"

uint64_t *gen_map(const char *path, struct err **e)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;
	void *m;

	if (fd < 0 || fstat(fd, &st) < 0) {
		err_setsys(e, ERR_IO, "%s", path);
		return NULL;
	}
	/* Only ever grows it: a concurrent opener never zeroes a live counter. */
	if (st.st_size < (off_t)sizeof(uint64_t) && ftruncate(fd, sizeof(uint64_t)) < 0) {
		err_setsys(e, ERR_IO, "%s: ftruncate", path);
		return NULL;
	}
	m = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err_setsys(e, ERR_IO, "%s: mmap", path);
		return NULL;
	}
	return m;
}

void gen_unmap(uint64_t *g)
{
	if (g != NULL)
		munmap(g, sizeof(uint64_t));
}
