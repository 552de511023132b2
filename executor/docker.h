/* The Docker Engine API v1.41 over its unix socket, with libcurl
 * (CURLOPT_UNIX_SOCKET_PATH).  No docker CLI.  Every response is read into a
 * capped buffer and parsed with cJSON_ParseWithLength.
 *
 * Errors: ERR_UNAVAILABLE when the engine cannot be reached (the socket is
 * missing or refuses), ERR_NOT_FOUND for a 404, ERR_INTERNAL for any other
 * unexpected answer (the engine's message is kept). */
#ifndef LAMBDA_EXECUTOR_DOCKER_H
#define LAMBDA_EXECUTOR_DOCKER_H

#include <stddef.h>

#include <cJSON.h>

#include "err.h"

#define DOCKER_API          "/v1.41"
#define DOCKER_RESPONSE_MAX (4u * 1024 * 1024)

/* What a container is created with (all limits of "Limits on every container"). */
struct docker_spec {
	const char *image;
	const char *runtime;    /* HostConfig.Runtime: runc | runsc (from config) */
	const char *instance;   /* label lambda.instance */
	long function_id;       /* label lambda.function (0: a generic pre-warmed container) */
	int version;            /* label lambda.version */
	const char *code_dir;   /* bind-mounted read-only at /var/task, or NULL */
	long long memory_bytes; /* Memory = MemorySwap */
	long long nano_cpus;
	long pids_limit;
	long tmp_size_mb;
	const char *seccomp_json; /* SecurityOpt "seccomp=<json>"; NULL: Docker's default */
};

struct docker_state {
	int running;
	int oom_killed;
	int exit_code;
	int pid;
};

/* Sets the engine socket; call once before any thread uses docker_*. */
void docker_global_init(const char *socket_path);
void docker_global_cleanup(void);

/* Builds the JSON body of POST /containers/create.  Caller owns the result. */
cJSON *docker_create_body(const struct docker_spec *spec);

/* One request.  body may be NULL.  On success *status is the HTTP status and
 * *out (if out is not NULL) the parsed JSON body or NULL when empty; the
 * caller owns *out. */
int docker_request(const char *method, const char *path, const char *body, long *status,
                   cJSON **out, struct err **e);

/* GET /_ping. */
int docker_ping(struct err **e);
/* Creates a container; returns its full id (caller frees). */
char *docker_create(const struct docker_spec *spec, struct err **e);
int docker_start(const char *id, struct err **e);
/* SIGKILL; a container that is not running is not an error. */
int docker_kill(const char *id, struct err **e);
/* DELETE ?force=1: a container that is gone already is not an error. */
int docker_remove(const char *id, struct err **e);
int docker_inspect(const char *id, struct docker_state *st, struct err **e);
/* Ids of all containers (running or not) with label key=value; caller frees
 * each and the array. */
int docker_list_by_label(const char *key, const char *value, char ***ids, size_t *n,
                         struct err **e);
/* One-shot stats: memory usage and max usage (bytes), total CPU (ns). */
int docker_stats(const char *id, long long *mem, long long *mem_max, long long *cpu_ns,
                 struct err **e);

/* Opens the hijacked attach stream (stdin, stdout, stderr, stream=1) of a
 * container: a connected socket whose reads carry the multiplexed stdout and
 * stderr and whose writes go to the container's stdin.  Any bytes received
 * after the HTTP headers are copied to early/early_len (at most early_cap).
 * Caller closes the returned fd. */
int docker_attach(const char *id, char *early, size_t early_cap, size_t *early_len, struct err **e);

#endif
