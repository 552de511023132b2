#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "conffile.h"
#include "log.h"
#include "xalloc.h"

static const struct conf_entry *find(const struct conf_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].name, name) == 0)
			return &t->rows[i];
	return NULL;
}

static int set_integer(const struct conf_entry *ce, void *field, const char *val, struct err **e)
{
	char *end = NULL;
	long long n;

	errno = 0;
	n = strtoll(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0')
		return err_set(e, ERR_INVALID, "%s: expected an integer, got '%s'", ce->name, val);
	if ((double)n < ce->min || (double)n > ce->max)
		return err_set(e, ERR_INVALID, "%s: %lld is out of bounds [%.0f, %.0f]", ce->name,
		               n, ce->min, ce->max);
	if (ce->type == CONF_INT)
		*(int *)field = (int)n; /* the bounds of an int row fit an int */
	else
		*(long *)field = (long)n;
	return 0;
}

static int set_value(const struct conf_entry *ce, void *obj, const char *val, struct err **e)
{
	void *field = (char *)obj + ce->offset; /* void *: the row knows the type */
	char *end = NULL;
	double d;
	int lvl;

	switch (ce->type) {
	case CONF_STR:
		free(*(char **)field);
		*(char **)field = xstrdup(val);
		return 0;
	case CONF_INT:
	case CONF_LONG:
		return set_integer(ce, field, val, e);
	case CONF_DOUBLE:
		errno = 0;
		d = strtod(val, &end);
		if (errno != 0 || end == val || *end != '\0' || !isfinite(d))
			return err_set(e, ERR_INVALID, "%s: expected a number, got '%s'", ce->name,
			               val);
		if (d < ce->min || d > ce->max)
			return err_set(e, ERR_INVALID, "%s: %g is out of bounds [%g, %g]", ce->name,
			               d, ce->min, ce->max);
		*(double *)field = d;
		return 0;
	case CONF_LEVEL:
		lvl = log_level_parse(val);
		if (lvl < 0)
			return err_set(e, ERR_INVALID,
			               "%s: expected error|warn|info|debug, got '%s'", ce->name,
			               val);
		*(int *)field = lvl;
		return 0;
	}
	return err_set(e, ERR_INTERNAL, "%s: bad table row", ce->name);
}

int conf_defaults(const struct conf_table *t, void *obj, struct err **e)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->rows[i].def != NULL && set_value(&t->rows[i], obj, t->rows[i].def, e) < 0) {
			if (e != NULL && *e != NULL)
				(*e)->code = ERR_INTERNAL;
			return err_wrap(e, "built-in default");
		}
	return 0;
}

int conf_set(const struct conf_table *t, void *obj, const char *key, const char *value,
             struct err **e)
{
	const struct conf_entry *ce = find(t, key);

	if (ce != NULL)
		return set_value(ce, obj, value, e);
	if (t->foreign != NULL && strncmp(key, t->foreign, strlen(t->foreign)) == 0)
		return 0;
	return err_set(e, ERR_INVALID, "unknown key '%s'", key);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int conf_parse(const struct conf_table *t, void *obj, const char *text, struct err **e)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *line, *next;
	int lineno = 0;

	for (line = copy; line != NULL; line = next) {
		char *eq, *p;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (eq == NULL)
			return err_set(e, ERR_INVALID, "line %d: expected 'key = value'", lineno);
		*eq = '\0';
		if (conf_set(t, obj, trim(p), trim(eq + 1), e) < 0)
			return err_wrap(e, "line %d", lineno);
	}
	return 0;
}

int conf_read_file(const char *path, char **text, struct err **e)
{
	_cleanup_free_ char *buf = xmalloc(CONF_FILE_MAX + 1);
	FILE *f; /* closed below, not by a cleanup attribute: cppcheck tracks fopen */
	size_t n;
	int rc = 0;

	f = fopen(path, "re");
	if (f == NULL)
		return err_setsys(e, ERR_IO, "%s", path);
	n = fread(buf, 1, CONF_FILE_MAX + 1, f);
	if (ferror(f))
		rc = err_setsys(e, ERR_IO, "%s", path);
	else if (n > CONF_FILE_MAX)
		rc = err_set(e, ERR_INVALID, "%s: larger than %d bytes", path, CONF_FILE_MAX);
	else if (memchr(buf, '\0', n) != NULL)
		rc = err_set(e, ERR_INVALID, "%s: contains a NUL byte", path);
	fclose(f);
	if (rc < 0)
		return -1;
	buf[n] = '\0';
	*text = xstrdup(buf);
	return 0;
}

void conf_free(const struct conf_table *t, void *obj)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->rows[i].type == CONF_STR) {
			void *field = (char *)obj + t->rows[i].offset;
			char **slot = field;

			free(*slot);
			*slot = NULL;
		}
	}
}
