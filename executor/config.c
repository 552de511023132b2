#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config.h"
#include "log.h"
#include "xalloc.h"

enum cfg_type { CFG_STR, CFG_LONG, CFG_DOUBLE };

struct cfg_entry {
	const char *name;
	enum cfg_type type;
	size_t off;      /* offset of the field in struct xconfig */
	const char *def; /* default as text (NULL: none / derived) */
	double min, max; /* bounds of numbers (inclusive) */
};

#define F(field) offsetof(struct xconfig, field)

/* Every key the executor knows.  Bounds are inclusive. */
static const struct cfg_entry cfg_table[] = {
    {"var_dir", CFG_STR, F(var_dir), NULL, 0, 0},
    {"instance", CFG_STR, F(instance), NULL, 0, 0},
    {"log_level", CFG_STR, F(log_level), "info", 0, 0},
    {"executor_socket", CFG_STR, F(executor_socket), NULL, 0, 0},
    {"code_dir", CFG_STR, F(code_dir), NULL, 0, 0},
    {"executor.docker_socket", CFG_STR, F(docker_socket), "/var/run/docker.sock", 0, 0},
    {"executor.image_python", CFG_STR, F(image_python), "lambda-python:latest", 0, 0},
    {"executor.image_node", CFG_STR, F(image_node), "lambda-node:latest", 0, 0},
    {"executor.runtime_docker", CFG_STR, F(runtime_docker), "runc", 0, 0},
    {"executor.runtime_gvisor", CFG_STR, F(runtime_gvisor), "runsc", 0, 0},
    {"executor.cgroup_root", CFG_STR, F(cgroup_root), "/sys/fs/cgroup", 0, 0},
    {"executor.pids_limit", CFG_LONG, F(pids_limit), "128", 16, 65536},
    {"executor.tmp_size_mb", CFG_LONG, F(tmp_size_mb), "64", 1, 4096},
    {"executor.log_cap_bytes", CFG_LONG, F(log_cap_bytes), "1048576", 1024, 8388608},
    {"executor.result_cap_bytes", CFG_LONG, F(result_cap_bytes), "6291456", 1024, 8388608},
    {"executor.cpus", CFG_DOUBLE, F(cpus), "1", 0.01, 64},
    {"executor.prewarm_min", CFG_LONG, F(prewarm_min), "1", 0, 64},
    {"executor.prewarm_memory_mb", CFG_LONG, F(prewarm_memory_mb), "128", 32, 10240},
    {"executor.prewarm_code_max_bytes", CFG_LONG, F(prewarm_code_max_bytes), "4194304", 0, 8388608},
    {"executor.keepalive_s", CFG_LONG, F(keepalive_s), "600", 1, 86400},
    {"executor.max_containers", CFG_LONG, F(max_containers), "64", 1, 4096},
    {"executor.max_memory_mb", CFG_LONG, F(max_memory_mb), "16384", 32, 1048576},
    {"executor.queue_max", CFG_LONG, F(queue_max), "256", 0, 100000},
    {"executor.batch_max", CFG_LONG, F(batch_max), "16", 1, 256},
    {"executor.batch_wait_ms", CFG_LONG, F(batch_wait_ms), "0", 0, 1000},
    {"executor.max_starting", CFG_LONG, F(max_starting), "4", 1, 64},
    {"executor.start_timeout_ms", CFG_LONG, F(start_timeout_ms), "30000", 1000, 300000},
    {"executor.init_timeout_ms", CFG_LONG, F(init_timeout_ms), "10000", 100, 600000},
    {"executor.memory_min_mb", CFG_LONG, F(memory_min_mb), "32", 16, 1048576},
    {"executor.memory_max_mb", CFG_LONG, F(memory_max_mb), "10240", 16, 1048576},
    {"executor.timeout_max_ms", CFG_LONG, F(timeout_max_ms), "900000", 100, 3600000},
    {"executor.sweep_interval_s", CFG_LONG, F(sweep_interval_s), "60", 2, 86400},
    {"executor.shutdown_grace_ms", CFG_LONG, F(shutdown_grace_ms), "10000", 0, 600000},
};

#undef F

static const struct cfg_entry *cfg_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cfg_table) / sizeof(cfg_table[0]); i++)
		if (strcmp(cfg_table[i].name, name) == 0)
			return &cfg_table[i];
	return NULL;
}

static int cfg_assign(struct xconfig *c, const struct cfg_entry *ent, const char *value,
                      struct err **e)
{
	char *field = (char *)c + ent->off;
	char *end = NULL;

	switch (ent->type) {
	case CFG_STR: {
		char **s = (char **)(void *)field;
		free(*s);
		*s = xstrdup(value);
		return 0;
	}
	case CFG_LONG: {
		long v;
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0')
			return err_set(e, ERR_INVALID, "%s: not an integer: '%s'", ent->name,
			               value);
		if ((double)v < ent->min || (double)v > ent->max)
			return err_set(e, ERR_INVALID, "%s: %ld out of bounds [%.0f, %.0f]",
			               ent->name, v, ent->min, ent->max);
		*(long *)(void *)field = v;
		return 0;
	}
	case CFG_DOUBLE: {
		double v;
		errno = 0;
		v = strtod(value, &end);
		if (errno != 0 || end == value || *end != '\0' || !isfinite(v))
			return err_set(e, ERR_INVALID, "%s: not a number: '%s'", ent->name, value);
		if (v < ent->min || v > ent->max)
			return err_set(e, ERR_INVALID, "%s: %g out of bounds [%g, %g]", ent->name,
			               v, ent->min, ent->max);
		*(double *)(void *)field = v;
		return 0;
	}
	}
	return err_set(e, ERR_INTERNAL, "%s: unknown type", ent->name);
}

void xconfig_defaults(struct xconfig *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(cfg_table) / sizeof(cfg_table[0]); i++) {
		struct err *e = NULL;

		if (cfg_table[i].def == NULL)
			continue;
		if (cfg_assign(c, &cfg_table[i], cfg_table[i].def, &e) < 0)
			fatalx("bad built-in default: %s", err_msg(e)); /* a bug in the table */
	}
}

int xconfig_set(struct xconfig *c, const char *key, const char *value, struct err **e)
{
	const struct cfg_entry *ent;

	if (strncmp(key, "api.", 4) == 0)
		return 0; /* the API's keys: not ours */
	ent = cfg_find(key);
	if (ent == NULL)
		return err_set(e, ERR_INVALID, "unknown key '%s'", key);
	return cfg_assign(c, ent, value, e);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int xconfig_load(struct xconfig *c, const char *path, struct err **e)
{
	_cleanup_fclose_ FILE *f = NULL;
	char line[4096];
	int lineno = 0;

	f = fopen(path, "re");
	if (f == NULL)
		return err_setsys(e, ERR_INVALID, "%s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p, *eq, *key, *value;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f))
			return err_set(e, ERR_INVALID, "%s:%d: line too long", path, lineno);
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (eq == NULL)
			return err_set(e, ERR_INVALID, "%s:%d: expected 'key = value'", path,
			               lineno);
		*eq = '\0';
		key = trim(p);
		value = trim(eq + 1);
		if (xconfig_set(c, key, value, e) < 0)
			return err_wrap(e, "%s:%d", path, lineno);
	}
	if (ferror(f))
		return err_setsys(e, ERR_IO, "%s", path);
	return 0;
}

int xconfig_finish(struct xconfig *c, struct err **e)
{
	if (c->var_dir == NULL || c->var_dir[0] != '/')
		return err_set(e, ERR_INVALID, "var_dir must be set to an absolute path");
	if (c->instance == NULL || c->instance[0] == '\0')
		return err_set(e, ERR_INVALID, "instance must be set");
	for (const char *p = c->instance; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return err_set(e, ERR_INVALID, "instance: only letters, digits, - and _");
	if (strlen(c->instance) > 64)
		return err_set(e, ERR_INVALID, "instance: at most 64 characters");
	if (log_level_parse(c->log_level) < 0)
		return err_set(e, ERR_INVALID,
		               "log_level: expected error|warn|info|debug, not '%s'", c->log_level);
	if (c->memory_min_mb > c->memory_max_mb)
		return err_set(e, ERR_INVALID,
		               "executor.memory_min_mb is larger than executor.memory_max_mb");
	if (c->executor_socket == NULL)
		c->executor_socket = xasprintf("%s/run/executor.sock", c->var_dir);
	if (c->code_dir == NULL)
		c->code_dir = xasprintf("%s/code", c->var_dir);
	return 0;
}

void xconfig_free(struct xconfig *c)
{
	for (size_t i = 0; i < sizeof(cfg_table) / sizeof(cfg_table[0]); i++) {
		if (cfg_table[i].type == CFG_STR) {
			char **s = (char **)(void *)((char *)c + cfg_table[i].off);
			free(*s);
			*s = NULL;
		}
	}
}
