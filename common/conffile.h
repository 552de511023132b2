/* The lambda.conf format, read once for both programs: `key = value` lines,
 * `#` comments, blank lines.  Each program describes its keys in a table of
 * (name, type, field offset, default, bounds) (redis static_configs[] idea)
 * and keeps only its own checks across keys. */
#ifndef LAMBDA_CONFFILE_H
#define LAMBDA_CONFFILE_H

#include <stddef.h>

#include "err.h"

enum conf_type {
	CONF_STR,    /* char *, allocated (release with conf_free) */
	CONF_INT,    /* int, within [min, max] */
	CONF_LONG,   /* long, within [min, max] */
	CONF_DOUBLE, /* double, finite, within [min, max] */
	CONF_LEVEL,  /* int: a log level name (error|warn|info|debug), see log.h */
};

struct conf_entry {
	const char *name;
	enum conf_type type;
	size_t offset;   /* of the field in the program's configuration struct */
	const char *def; /* default as text; NULL: none, or derived after parsing */
	double min, max; /* inclusive bounds of numbers (integers below 2^53 are exact) */
};

struct conf_table {
	const struct conf_entry *rows;
	size_t n;
	const char *foreign; /* prefix of the other program's keys: accepted and ignored */
};

/* Largest configuration file read (a generated file of a few dozen lines). */
#define CONF_FILE_MAX (1024 * 1024)

/* Sets every row of obj that has a default (obj starts zeroed: strings NULL).  A default that does
 * not parse is a bug in the table: ERR_INTERNAL. */
int conf_defaults(const struct conf_table *t, void *obj, struct err **e);
/* Sets one key from its text; unknown key, bad value or out of bounds:
 * ERR_INVALID naming the key (and the bounds).  A foreign key: 0, untouched. */
int conf_set(const struct conf_table *t, void *obj, const char *key, const char *value,
             struct err **e);
/* Applies every `key = value` line of text (NUL-terminated) over what obj holds;
 * errors are prefixed "line N: ".  On failure obj keeps the lines before. */
int conf_parse(const struct conf_table *t, void *obj, const char *text, struct err **e);
/* Reads the whole file into *text (the caller frees it); refuses a NUL byte and
 * a file over CONF_FILE_MAX.  *text is written only on success. */
int conf_read_file(const char *path, char **text, struct err **e);
/* Frees the strings of obj that the table describes and sets them to NULL. */
void conf_free(const struct conf_table *t, void *obj);

#endif
