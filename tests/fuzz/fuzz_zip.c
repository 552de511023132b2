/* libFuzzer target: the zip unpacker's parser and inflater on hostile
 * archives, with a sink that checks what it is handed and discards it. */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zip.h"

struct state {
	uint64_t expect; /* declared size of the current file */
	uint64_t got;
	int open;
};

static int s_begin(void *ctx, const struct zip_entry_info *ent, struct err **e)
{
	struct state *s = ctx;

	(void)e;
	/* What the unpacker promises about names: relative, no "..", no "\". */
	size_t n = strlen(ent->name);

	if (s->open || n == 0 || ent->name[0] == '/' || strcmp(ent->name, "..") == 0 ||
	    strncmp(ent->name, "../", 3) == 0 || strstr(ent->name, "/../") != NULL ||
	    (n >= 3 && strcmp(ent->name + n - 3, "/..") == 0) || strchr(ent->name, '\\') != NULL)
		abort();
	s->expect = ent->size;
	s->got = 0;
	s->open = 1;
	return 0;
}

static int s_write(void *ctx, const void *p, size_t n, struct err **e)
{
	struct state *s = ctx;

	(void)p;
	(void)e;
	s->got += n;
	if (!s->open || s->got > s->expect)
		abort();
	return 0;
}

static int s_end(void *ctx, struct err **e)
{
	struct state *s = ctx;

	(void)e;
	if (!s->open || s->got != s->expect)
		abort();
	s->open = 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Small enough to keep each run fast, large enough for real packages. */
	static const struct zip_limits lim = {
	    .max_zipped = ZIP_MAX_ZIPPED, .max_unzipped = 8u << 20, .max_entries = 1000};
	struct state s = {0, 0, 0};
	struct zip_sink sink = {s_begin, s_write, s_end, &s};
	struct zip_stats st;
	struct err *e = NULL;

	zip_walk(data, size, &lim, &sink, &st, &e);
	err_free(&e);
	return 0;
}
