/* The executor's configuration: the shared lambda.conf (common keys and
 * `executor.*`), read through one table of (name, type, default, bounds)
 * (redis static_configs[] idea).  `api.*` keys belong to the API and are
 * ignored; any other unknown key is an error. */
#ifndef LAMBDA_EXECUTOR_CONFIG_H
#define LAMBDA_EXECUTOR_CONFIG_H

#include "err.h"

struct xconfig {
	/* common keys */
	char *var_dir;
	char *instance; /* label value lambda.instance=<instance> on our containers */
	char *log_level;
	char *executor_socket; /* default <var_dir>/run/executor.sock */
	char *code_dir;        /* default <var_dir>/code */
	/* executor.* */
	char *docker_socket;
	char *image_python;
	char *image_node;
	char *runtime_docker;
	char *runtime_gvisor;  /* runsc-lambda: runsc with --oci-seccomp (scripts/deps.sh) */
	char *seccomp_profile; /* default <var_dir>/run/seccomp.json (scripts/seccomp.sh) */
	char *cgroup_root;     /* cgroup v1 mount point for memory/cpu figures */
	long pids_limit;
	long tmp_size_mb;
	long log_cap_bytes;
	long result_cap_bytes;
	double cpus;            /* NanoCpus = cpus * 1e9 per container */
	long prewarm_min;       /* generic containers kept idle per (runtime, isolation) */
	long prewarm_memory_mb; /* memory limit of generic containers (functions of this size use
	                           them) */
	long keepalive_s;
	long max_containers;
	long max_memory_mb;
	long queue_max;
	long batch_max;
	long batch_wait_ms;
	long batch_wait_busy_ms;
	long max_starting;     /* containers being created, started or loading code at once */
	long start_timeout_ms; /* create + start + attach, and init when no deadline is tighter */
	long init_timeout_ms;  /* loading the function's code (init frame); not counted in its
	                          timeout */
	long memory_min_mb;    /* bounds of a function's memory_mb */
	long memory_max_mb;
	long timeout_max_ms;    /* bound of a function's timeout_ms */
	long shutdown_grace_ms; /* how long in-flight calls may finish on SIGTERM */
	long sweep_interval_s;  /* how often containers with our label that we do not know are
	                           removed */
	/* not a key: the content of seccomp_profile, set by seccomp_profile_load
	 * at start; freed by xconfig_free */
	char *seccomp_json;
};

/* Fills c with the defaults (strings allocated; release with xconfig_free). */
void xconfig_defaults(struct xconfig *c);
/* Reads FILE over the defaults.  Unknown keys, bad values and values out of
 * bounds are errors naming the file, line and key (ERR_INVALID).  On failure
 * c keeps what it had so far and must still be freed. */
int xconfig_load(struct xconfig *c, const char *path, struct err **e);
/* Applies one "key = value" pair (used by xconfig_load and the tests). */
int xconfig_set(struct xconfig *c, const char *key, const char *value, struct err **e);
/* Checks cross-key constraints and fills defaults derived from var_dir. */
int xconfig_finish(struct xconfig *c, struct err **e);
void xconfig_free(struct xconfig *c);

#endif
