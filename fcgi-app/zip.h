/* A safe zip unpacker for uploaded function code.
 *
 * Trusts nothing in the archive: the central directory is parsed with every
 * offset and size checked against the buffer; entries may not overlap (the
 * overlapping-entry bomb) or lie in the central directory; only stored and
 * deflated, unencrypted, single-disk, non-ZIP64 archives are accepted; names
 * that are absolute, contain "..", ".", empty components, backslashes, NUL or
 * control characters are refused, as are symlinks and special files; the
 * output of each entry must be exactly its declared size and CRC-32, and the
 * running total is capped, so a zip bomb stops at the cap, not at the disk. */
#ifndef LAMBDA_ZIP_H
#define LAMBDA_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* AWS Lambda's limits for a directly uploaded deployment package. */
#define ZIP_MAX_ZIPPED   52428800ULL  /* 50 MB zipped */
#define ZIP_MAX_UNZIPPED 262144000ULL /* 250 MB unzipped */
#define ZIP_MAX_ENTRIES  10000        /* files and directories */
#define ZIP_MAX_NAME     1024         /* bytes of one entry's path */

struct zip_limits {
	uint64_t max_zipped;   /* size of the archive itself */
	uint64_t max_unzipped; /* sum of the entries' sizes */
	size_t max_entries;
};

/* The limits above, for callers that have no reason to differ. */
extern const struct zip_limits zip_default_limits;

/* What one entry is, as handed to a sink.  name is NUL-terminated and
 * already validated (relative, "/"-separated, no "." or ".." components). */
struct zip_entry_info {
	const char *name;
	int is_dir;
	int executable; /* a Unix mode in the archive had an x bit */
	uint64_t size;  /* uncompressed size (0 for a directory) */
};

/* Receives the entries of an archive in central-directory order.  For a
 * file: begin, then write zero or more times with consecutive chunks of its
 * content, then end.  For a directory: begin and end.  Any callback may fail
 * with -1 and *e set, which stops the walk. */
struct zip_sink {
	int (*begin)(void *ctx, const struct zip_entry_info *ent, struct err **e);
	int (*write)(void *ctx, const void *p, size_t n, struct err **e);
	int (*end)(void *ctx, struct err **e);
	void *ctx;
};

struct zip_stats {
	size_t entries; /* files + directories */
	size_t files;
	uint64_t unzipped; /* bytes of file content */
};

/* Checks and decompresses the archive data[len], feeding every entry to sink.
 * Errors: ERR_TOO_LARGE (a limit; the message names it and its value),
 * ERR_INVALID (not a zip, truncated, unsafe or unsupported entry, CRC or size
 * mismatch), or what the sink returned.  *st is written on success only. */
int zip_walk(const void *data, size_t len, const struct zip_limits *lim,
             const struct zip_sink *sink, struct zip_stats *st, struct err **e);

/* Unpacks the archive into the directory dir, which must not exist yet: the
 * entries are written into a private sibling directory that is renamed to dir
 * at the end, so dir appears complete or not at all.  Files are 0644 (0755
 * when executable), directories 0755.  If dir appeared meanwhile (a
 * concurrent unpack), ERR_CONFLICT is returned and dir is left as found.
 * st may be NULL.  On any failure nothing is left behind. */
int zip_extract(const void *data, size_t len, const char *dir, const struct zip_limits *lim,
                struct zip_stats *st, struct err **e);

/* Unpacks the archive with the default limits into dir, an existing empty
 * directory (the caller makes it and removes it on failure): the shape of
 * code_store's code_zip_unpack hook. */
int zip_unpack_dir(const void *data, size_t len, const char *dir, struct err **e);

/* Removes a directory tree without following symlinks.  0 or -1 with *e. */
int zip_remove_tree(const char *dir, struct err **e);

#endif
