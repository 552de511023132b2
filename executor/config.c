#include <config.h>

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "conffile.h"
#include "config.h"
#include "log.h"
#include "xalloc.h"

#define F(field) offsetof(struct xconfig, field)

/* Every key the executor knows.  Bounds are inclusive. */
static const struct conf_entry cfg_rows[] = {
    {"var_dir", CONF_STR, F(var_dir), NULL, 0, 0},
    {"instance", CONF_STR, F(instance), NULL, 0, 0},
    {"log_level", CONF_STR, F(log_level), "info", 0, 0},
    {"executor_socket", CONF_STR, F(executor_socket), NULL, 0, 0},
    {"code_dir", CONF_STR, F(code_dir), NULL, 0, 0},
    {"executor.docker_socket", CONF_STR, F(docker_socket), "/var/run/docker.sock", 0, 0},
    {"executor.image_python", CONF_STR, F(image_python), "lambda-python:latest", 0, 0},
    {"executor.image_node", CONF_STR, F(image_node), "lambda-node:latest", 0, 0},
    {"executor.runtime_docker", CONF_STR, F(runtime_docker), "runc", 0, 0},
    {"executor.runtime_gvisor", CONF_STR, F(runtime_gvisor), "runsc-lambda", 0, 0},
    {"executor.seccomp_profile", CONF_STR, F(seccomp_profile), NULL, 0, 0},
    {"executor.cgroup_root", CONF_STR, F(cgroup_root), "/sys/fs/cgroup", 0, 0},
    {"executor.pids_limit", CONF_LONG, F(pids_limit), "128", 16, 65536},
    {"executor.tmp_size_mb", CONF_LONG, F(tmp_size_mb), "64", 1, 4096},
    {"executor.log_cap_bytes", CONF_LONG, F(log_cap_bytes), "1048576", 1024, 8388608},
    {"executor.result_cap_bytes", CONF_LONG, F(result_cap_bytes), "6291456", 1024, 8388608},
    {"executor.cpus", CONF_DOUBLE, F(cpus), "1", 0.01, 64},
    {"executor.prewarm_min", CONF_LONG, F(prewarm_min), "1", 0, 64},
    {"executor.prewarm_memory_mb", CONF_LONG, F(prewarm_memory_mb), "128", 32, 10240},
    {"executor.keepalive_s", CONF_LONG, F(keepalive_s), "600", 1, 86400},
    {"executor.max_containers", CONF_LONG, F(max_containers), "64", 1, 4096},
    {"executor.max_memory_mb", CONF_LONG, F(max_memory_mb), "16384", 32, 1048576},
    {"executor.queue_max", CONF_LONG, F(queue_max), "256", 0, 100000},
    {"executor.batch_max", CONF_LONG, F(batch_max), "16", 1, 256},
    {"executor.max_starting", CONF_LONG, F(max_starting), "4", 1, 64},
    {"executor.batch_wait_ms", CONF_LONG, F(batch_wait_ms), "0", 0, 1000},
    {"executor.batch_wait_busy_ms", CONF_LONG, F(batch_wait_busy_ms), "5", 0, 1000},
    {"executor.start_timeout_ms", CONF_LONG, F(start_timeout_ms), "30000", 1000, 300000},
    {"executor.init_timeout_ms", CONF_LONG, F(init_timeout_ms), "10000", 100, 600000},
    {"executor.memory_min_mb", CONF_LONG, F(memory_min_mb), "32", 16, 1048576},
    {"executor.memory_max_mb", CONF_LONG, F(memory_max_mb), "10240", 16, 1048576},
    {"executor.timeout_max_ms", CONF_LONG, F(timeout_max_ms), "900000", 100, 3600000},
    {"executor.sweep_interval_s", CONF_LONG, F(sweep_interval_s), "60", 2, 86400},
    {"executor.shutdown_grace_ms", CONF_LONG, F(shutdown_grace_ms), "10000", 0, 600000},
};

#undef F

static const struct conf_table cfg_table = {
    cfg_rows, sizeof(cfg_rows) / sizeof(cfg_rows[0]), "api." /* the API's keys: not ours */
};

void xconfig_defaults(struct xconfig *c)
{
	struct err *e = NULL;

	memset(c, 0, sizeof(*c));
	if (conf_defaults(&cfg_table, c, &e) < 0)
		fatalx("%s", err_msg(e)); /* a bug in the table */
}

int xconfig_set(struct xconfig *c, const char *key, const char *value, struct err **e)
{
	return conf_set(&cfg_table, c, key, value, e);
}

int xconfig_load(struct xconfig *c, const char *path, struct err **e)
{
	_cleanup_free_ char *text = NULL;

	if (conf_read_file(path, &text, e) < 0)
		return -1;
	if (conf_parse(&cfg_table, c, text, e) < 0)
		return err_wrap(e, "%s", path);
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
	if (c->seccomp_profile == NULL)
		c->seccomp_profile = xasprintf("%s/run/seccomp.json", c->var_dir);
	return 0;
}

void xconfig_free(struct xconfig *c)
{
	conf_free(&cfg_table, c);
	free(c->seccomp_json); /* read from the file, not a table row */
	c->seccomp_json = NULL;
}
