#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "conf.h"
#include "exec_client.h"
#include "log.h"
#include "proto.h"
#include "xalloc.h"

struct exec_client {
	const struct config *cfg;
	int fd;           /* -1 while disconnected */
	uint64_t next_id; /* request ids of this connection */
};

struct exec_client *exec_client_new(const struct config *cfg)
{
	struct exec_client *ec = xcalloc(1, sizeof(*ec));

	ec->cfg = cfg;
	ec->fd = -1;
	ec->next_id = 1;
	return ec;
}

static void ec_close(struct exec_client *ec)
{
	if (ec->fd >= 0)
		close(ec->fd);
	ec->fd = -1;
}

void exec_client_free(struct exec_client *ec)
{
	if (ec == NULL)
		return;
	ec_close(ec);
	free(ec);
}

/* Non-blocking connect bounded by the configured timeout, then blocking. */
static int ec_connect(struct exec_client *ec, struct err **e)
{
	struct sockaddr_un sa;
	_cleanup_close_ int fd = -1;
	const char *path = ec->cfg->executor_socket;

	if (ec->fd >= 0)
		return 0;
	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, ERR_UNAVAILABLE, "executor unavailable: socket path too long");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_setsys(e, ERR_UNAVAILABLE, "executor unavailable: socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (errno != EINPROGRESS && errno != EAGAIN)
			return err_setsys(e, ERR_UNAVAILABLE, "executor unavailable: connect %s",
			                  path);
		if (poll(&p, 1, ec->cfg->exec_connect_timeout_ms) <= 0)
			return err_set(e, ERR_UNAVAILABLE,
			               "executor unavailable: connect %s timed out", path);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr != 0) {
			errno = soerr;
			return err_setsys(e, ERR_UNAVAILABLE, "executor unavailable: connect %s",
			                  path);
		}
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		return err_setsys(e, ERR_UNAVAILABLE, "executor unavailable: fcntl");
	ec->fd = TAKE_FD(fd);
	return 0;
}

static int ec_roundtrip(struct exec_client *ec, int type, const char *payload, int timeout_ms,
                        struct proto_hdr *h, char **reply, int *sent, struct err **e)
{
	uint64_t id = ec->next_id++;

	if (proto_write(ec->fd, (uint8_t)type, id, payload, strlen(payload), e) < 0)
		return -1;
	*sent = 1;
	for (;;) {
		_cleanup_free_ char *p = NULL;
		if (proto_read(ec->fd, h, &p, timeout_ms, e) < 0)
			return -1;
		if (h->request_id == id) {
			*reply = TAKE_PTR(p);
			return 0;
		}
		/* a stale reply to an earlier request that timed out: skip it */
		log_debug("skipping a stale %s for request %llu", proto_type_name(h->type),
		          (unsigned long long)h->request_id);
	}
}

int exec_client_call(struct exec_client *ec, int type, const cJSON *payload, int timeout_ms,
                     int *reply_type, cJSON **reply, int *sent, struct err **e)
{
	_cleanup_cjson_str_ char *txt = cJSON_PrintUnformatted(payload);
	_cleanup_free_ char *raw = NULL;
	struct proto_hdr h;
	struct err *e1 = NULL;
	cJSON *j;

	*sent = 0;
	if (txt == NULL)
		return err_set(e, ERR_INTERNAL, "could not serialise the executor request");
	if (ec_connect(ec, e) < 0)
		return -1;
	if (ec_roundtrip(ec, type, txt, timeout_ms, &h, &raw, sent, &e1) < 0) {
		/* A connection that failed once is in an unknown state: drop it.
		 * A stale one (the executor restarted) fails on the first write
		 * or read; retry once when nothing was sent yet. */
		ec_close(ec);
		if (e1->code == ERR_TOO_LARGE) {
			*e = e1;
			return -1;
		}
		if (*sent == 0 && ec_connect(ec, NULL) == 0) {
			err_free(&e1);
			if (ec_roundtrip(ec, type, txt, timeout_ms, &h, &raw, sent, &e1) == 0)
				goto parsed;
			ec_close(ec);
		}
		err_set(e, ERR_UNAVAILABLE, "executor unavailable: %s", err_msg(e1));
		err_free(&e1);
		return -1;
	}
parsed:
	j = cJSON_ParseWithLength(raw, h.length);
	if (j == NULL) {
		ec_close(ec);
		return err_set(e, ERR_UNAVAILABLE, "executor unavailable: malformed %s reply",
		               proto_type_name(h.type));
	}
	*reply_type = h.type;
	*reply = j;
	return 0;
}

int exec_client_ping(struct exec_client *ec, cJSON **pong, struct err **e)
{
	_cleanup_cjson_ cJSON *req = cJSON_CreateObject();
	cJSON *rep = NULL;
	int type = 0, sent = 0;

	if (exec_client_call(ec, PROTO_PING, req, ec->cfg->exec_ping_timeout_ms, &type, &rep, &sent,
	                     e) < 0)
		return -1;
	if (type != PROTO_PONG) {
		cJSON_Delete(rep);
		return err_set(e, ERR_UNAVAILABLE, "executor unavailable: answered PING with %s",
		               proto_type_name(type));
	}
	*pong = rep;
	return 0;
}

int exec_client_drain(struct exec_client *ec, long long function_id, struct err **e)
{
	_cleanup_cjson_ cJSON *req = cJSON_CreateObject();
	cJSON *rep = NULL;
	int type = 0, sent = 0;

	cJSON_AddNumberToObject(req, "function_id", (double)function_id);
	if (exec_client_call(ec, PROTO_DRAIN, req, 10000, &type, &rep, &sent, e) < 0)
		return -1;
	cJSON_Delete(rep);
	if (type != PROTO_DRAIN_REPLY)
		return err_set(e, ERR_UNAVAILABLE, "executor answered DRAIN with %s",
		               proto_type_name(type));
	return 0;
}
