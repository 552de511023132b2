#include <config.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "batch.h"
#include "call.h"
#include "chan.h"
#include "cleanup.h"
#include "clock.h"
#include "config.h"
#include "docker.h"
#include "log.h"
#include "pool.h"
#include "proto.h"
#include "proto_server.h"
#include "xalloc.h"

static const struct xconfig *S_cfg;
static int S_listen_fd = -1;
static char *S_path;

static char *print_free(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	char *out = xstrdup(s != NULL ? s : "{}");

	cJSON_free(s);
	cJSON_Delete(j);
	return out;
}

static char *error_payload(const char *code, const char *msg, int retry_after)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "code", code);
	cJSON_AddStringToObject(j, "message", msg);
	if (retry_after > 0)
		cJSON_AddNumberToObject(j, "retry_after", retry_after);
	return print_free(j);
}

static int handle_invoke(const char *payload, size_t len, char **reply)
{
	struct err *e = NULL;
	cJSON *req = cJSON_ParseWithLength(payload, len);
	struct call *c;
	int type;

	if (req == NULL) {
		*reply = error_payload("invalid", "INVOKE payload is not valid JSON", 0);
		return PROTO_ERROR;
	}
	c = call_new(req, S_cfg, &e);
	if (c == NULL) {
		*reply = error_payload("invalid", err_msg(e), 0);
		err_free(&e);
		return PROTO_ERROR;
	}
	{
		struct stat st;
		if (stat(c->fn.code_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			*reply =
			    error_payload("invalid", "function.code_dir is not a directory", 0);
			call_free(c);
			return PROTO_ERROR;
		}
	}
	c->arrive_ms = mono_ms_f();
	/* rounded up: truncated, the limit lost up to 1 ms, and a warm call
	 * spinning into a 1 s limit was once killed at 999.96 ms (CI) */
	c->deadline_ms = (long long)ceil(c->arrive_ms) + c->fn.timeout_ms;
	pool_invoke(c);
	if (c->result != NULL) {
		*reply = print_free(c->result);
		c->result = NULL;
		type = PROTO_RESULT;
	} else {
		*reply = error_payload(c->err_code ? c->err_code : "internal",
		                       c->err_msg ? c->err_msg : "no outcome", c->retry_after);
		type = PROTO_ERROR;
	}
	log_debug("%s %s v%d: %s", c->request_id, c->fn.name, c->fn.version,
	          type == PROTO_RESULT ? "result" : c->err_code);
	call_free(c);
	return type;
}

static int handle_drain(const char *payload, size_t len, char **reply)
{
	_cleanup_cjson_ cJSON *req = cJSON_ParseWithLength(payload, len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "function_id");
	cJSON *ans;

	if (!cJSON_IsNumber(id) || id->valuedouble < 1) {
		*reply = error_payload("invalid", "function_id must be a positive integer", 0);
		return PROTO_ERROR;
	}
	ans = cJSON_CreateObject();
	cJSON_AddNumberToObject(ans, "drained", pool_drain_function((long)id->valuedouble));
	*reply = print_free(ans);
	return PROTO_DRAIN_REPLY;
}

static int handle_ping(char **reply)
{
	cJSON *ans = cJSON_CreateObject();
	struct err *e = NULL;
	int up = docker_ping(&e) == 0;

	err_free(&e);
	cJSON_AddBoolToObject(ans, "docker", up);
	cJSON_AddNumberToObject(ans, "containers", pool_count());
	cJSON_AddStringToObject(ans, "version", PACKAGE_VERSION);
	cJSON_AddStringToObject(ans, "instance", S_cfg->instance);
	*reply = print_free(ans);
	return PROTO_PONG;
}

int proto_server_dispatch(int type, const char *payload, size_t len, char **reply)
{
	switch (type) {
	case PROTO_INVOKE:
		return handle_invoke(payload, len, reply);
	case PROTO_DRAIN:
		return handle_drain(payload, len, reply);
	case PROTO_POOLS:
		*reply = print_free(pool_describe());
		return PROTO_POOLS_REPLY;
	case PROTO_STATS:
		*reply = print_free(pool_stats());
		return PROTO_STATS_REPLY;
	case PROTO_PING:
		return handle_ping(reply);
	default:
		*reply = error_payload("invalid", "unexpected frame type", 0);
		return -PROTO_ERROR; /* negative: answer, then close */
	}
}

static void *client_main(void *arg)
{
	int fd = (int)(intptr_t)arg;

	for (;;) {
		struct proto_hdr h;
		_cleanup_free_ char *payload = NULL;
		_cleanup_free_ char *reply = NULL;
		struct err *e = NULL;
		int rtype;

		if (proto_read(fd, &h, &payload, -1, &e) < 0) {
			if (e->code == ERR_PROTO) {
				/* a bad header: say why, then close (nothing else is trustworthy)
				 */
				_cleanup_free_ char *p = error_payload("invalid", e->msg, 0);
				struct err *e2 = NULL;
				if (proto_write(fd, PROTO_ERROR, 0, p, strlen(p), &e2) < 0)
					err_free(&e2);
				log_warnx("client: %s", e->msg);
			}
			err_free(&e);
			break;
		}
		rtype = proto_server_dispatch(h.type, payload, h.length, &reply);
		if (strlen(reply) > PROTO_MAX_PAYLOAD) {
			/* logs full of escaped control bytes can make a result this big */
			free(reply);
			reply = error_payload("internal",
			                      "the reply exceeds the protocol's frame limit", 0);
			rtype = PROTO_ERROR;
		}
		if (proto_write(fd, (uint8_t)(rtype < 0 ? -rtype : rtype), h.request_id, reply,
		                strlen(reply), &e) < 0) {
			log_debug("client gone: %s", e->msg);
			err_free(&e);
			break;
		}
		if (rtype < 0)
			break;
	}
	close(fd);
	return NULL;
}

static void *accept_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t t;
		pthread_attr_t attr;
		int fd = accept4(S_listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
			    errno == ENFILE) {
				if (errno == EMFILE || errno == ENFILE)
					usleep(100000);
				continue;
			}
			break; /* the socket was shut down */
		}
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&t, &attr, client_main, (void *)(intptr_t)fd) != 0) {
			log_warn("pthread_create");
			close(fd);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

int proto_server_start(const struct xconfig *cfg, struct err **e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	pthread_t t;
	mode_t old;

	S_cfg = cfg;
	if (strlen(cfg->executor_socket) >= sizeof(sa.sun_path))
		return err_set(e, ERR_INVALID, "executor_socket: path too long");
	memcpy(sa.sun_path, cfg->executor_socket, strlen(cfg->executor_socket) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_setsys(e, ERR_IO, "socket");
	unlink(cfg->executor_socket);
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		return err_setsys(e, ERR_IO, "bind %s", cfg->executor_socket);
	}
	umask(old);
	chmod(cfg->executor_socket, 0660);
	if (listen(fd, 128) < 0)
		return err_setsys(e, ERR_IO, "listen");
	S_listen_fd = TAKE_FD(fd);
	S_path = xstrdup(cfg->executor_socket);
	if (pthread_create(&t, NULL, accept_main, NULL) != 0)
		return err_setsys(e, ERR_INTERNAL, "pthread_create");
	pthread_detach(t);
	return 0;
}

void proto_server_stop(void)
{
	if (S_listen_fd >= 0) {
		shutdown(S_listen_fd, SHUT_RDWR);
		close(S_listen_fd);
		S_listen_fd = -1;
	}
	if (S_path != NULL) {
		unlink(S_path);
		free(S_path);
		S_path = NULL;
	}
}
