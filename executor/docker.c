#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "cleanup.h"
#include "docker.h"
#include "xalloc.h"

static char *docker_socket_path;

void docker_global_init(const char *socket_path)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	free(docker_socket_path);
	docker_socket_path = xstrdup(socket_path);
}

void docker_global_cleanup(void)
{
	free(docker_socket_path);
	docker_socket_path = NULL;
	curl_global_cleanup();
}

/* ------------------------------------------------------------------ */
/* Request bodies                                                      */
/* ------------------------------------------------------------------ */

cJSON *docker_create_body(const struct docker_spec *s)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *host, *labels, *arr, *ul, *tmpfs;
	char num[32], *opt;

	cJSON_AddStringToObject(root, "Image", s->image);
	cJSON_AddStringToObject(root, "User", "1000:1000");
	cJSON_AddStringToObject(root, "WorkingDir", "/tmp");
	/* The bootstrap talks over stdin/stdout: keep stdin open, no tty
	 * (so that stdout and stderr arrive multiplexed and separate). */
	cJSON_AddBoolToObject(root, "AttachStdin", 1);
	cJSON_AddBoolToObject(root, "AttachStdout", 1);
	cJSON_AddBoolToObject(root, "AttachStderr", 1);
	cJSON_AddBoolToObject(root, "OpenStdin", 1);
	cJSON_AddBoolToObject(root, "StdinOnce", 0);
	cJSON_AddBoolToObject(root, "Tty", 0);
	cJSON_AddBoolToObject(root, "NetworkDisabled", 1);
	labels = cJSON_AddObjectToObject(root, "Labels");
	cJSON_AddStringToObject(labels, "lambda.instance", s->instance);
	snprintf(num, sizeof(num), "%ld", s->function_id);
	cJSON_AddStringToObject(labels, "lambda.function", num);
	snprintf(num, sizeof(num), "%d", s->version);
	cJSON_AddStringToObject(labels, "lambda.version", num);

	host = cJSON_AddObjectToObject(root, "HostConfig");
	cJSON_AddStringToObject(host, "Runtime", s->runtime);
	cJSON_AddStringToObject(host, "NetworkMode", "none");
	cJSON_AddNumberToObject(host, "Memory", (double)s->memory_bytes);
	cJSON_AddNumberToObject(host, "MemorySwap", (double)s->memory_bytes);
	cJSON_AddNumberToObject(host, "NanoCpus", (double)s->nano_cpus);
	cJSON_AddNumberToObject(host, "PidsLimit", (double)s->pids_limit);
	ul = cJSON_CreateObject();
	cJSON_AddStringToObject(ul, "Name", "nofile");
	cJSON_AddNumberToObject(ul, "Soft", 1024);
	cJSON_AddNumberToObject(ul, "Hard", 1024);
	arr = cJSON_AddArrayToObject(host, "Ulimits");
	cJSON_AddItemToArray(arr, ul);
	cJSON_AddBoolToObject(host, "ReadonlyRootfs", 1);
	tmpfs = cJSON_AddObjectToObject(host, "Tmpfs");
	opt = xasprintf("rw,nosuid,nodev,noexec,size=%ldm", s->tmp_size_mb);
	cJSON_AddStringToObject(tmpfs, "/tmp", opt);
	free(opt);
	arr = cJSON_AddArrayToObject(host, "CapDrop");
	cJSON_AddItemToArray(arr, cJSON_CreateString("ALL"));
	arr = cJSON_AddArrayToObject(host, "SecurityOpt");
	cJSON_AddItemToArray(arr, cJSON_CreateString("no-new-privileges"));
	if (s->seccomp_json != NULL) {
		opt = xasprintf("seccomp=%s", s->seccomp_json);
		cJSON_AddItemToArray(arr, cJSON_CreateString(opt));
		free(opt);
	}
	if (s->code_dir != NULL) {
		opt = xasprintf("%s:/var/task:ro", s->code_dir);
		arr = cJSON_AddArrayToObject(host, "Binds");
		cJSON_AddItemToArray(arr, cJSON_CreateString(opt));
		free(opt);
	}
	/* Output goes through attach only: dockerd must not store it (a
	 * function printing 100 MB would otherwise fill its log files). */
	arr = cJSON_AddObjectToObject(host, "LogConfig");
	cJSON_AddStringToObject(arr, "Type", "none");
	return root;
}

/* ------------------------------------------------------------------ */
/* HTTP through libcurl                                                */
/* ------------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
	struct buf *b = userdata;

	if (buf_append(b, p, size * n, NULL) < 0)
		return 0; /* over DOCKER_RESPONSE_MAX: curl stops with a write error */
	return size * n;
}

/* The engine's {"message": "..."} of an error answer, or the raw body. */
static const char *engine_message(const cJSON *j, const struct buf *b)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");

	if (cJSON_IsString(m))
		return m->valuestring;
	return b->len > 0 ? b->data : "(empty answer)";
}

int docker_request(const char *method, const char *path, const char *body, long *status,
                   cJSON **out, struct err **e)
{
	CURL *h;
	struct curl_slist *hdrs = NULL;
	struct buf b;
	_cleanup_free_ char *url = NULL;
	cJSON *j = NULL;
	CURLcode rc;
	long st = 0;
	int ret = -1;

	buf_init(&b, DOCKER_RESPONSE_MAX);
	url = xasprintf("http://localhost" DOCKER_API "%s", path);
	h = curl_easy_init();
	if (h == NULL)
		return err_set(e, ERR_INTERNAL, "curl_easy_init failed");
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, docker_socket_path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	/* kill/remove of a gVisor sandbox can take seconds on a busy host */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (body != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	}
	rc = curl_easy_perform(h);
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
	    rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) {
		err_set(e, ERR_UNAVAILABLE, "docker engine not reachable (%s)",
		        curl_easy_strerror(rc));
		goto out;
	}
	if (rc == CURLE_WRITE_ERROR) {
		err_set(e, ERR_TOO_LARGE, "docker answer to %s %s exceeds %u bytes", method, path,
		        DOCKER_RESPONSE_MAX);
		goto out;
	}
	if (rc != CURLE_OK) {
		err_set(e, ERR_INTERNAL, "%s %s: %s", method, path, curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	if (b.len > 0) {
		j = cJSON_ParseWithLength(b.data, b.len);
		if (j == NULL && st < 300) {
			err_set(e, ERR_INTERNAL, "%s %s: answer is not JSON", method, path);
			goto out;
		}
	}
	if (st >= 400) {
		err_set(e, st == 404 ? ERR_NOT_FOUND : ERR_INTERNAL, "%s %s: %ld %s", method, path,
		        st, engine_message(j, &b));
		goto out;
	}
	*status = st;
	if (out != NULL)
		*out = TAKE_PTR(j);
	ret = 0;
out:
	cJSON_Delete(j);
	buf_free(&b);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return ret;
}

int docker_ping(struct err **e)
{
	struct buf b;
	CURL *h;
	CURLcode rc;
	long st = 0;

	buf_init(&b, 1024);
	h = curl_easy_init();
	if (h == NULL)
		return err_set(e, ERR_INTERNAL, "curl_easy_init failed");
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, docker_socket_path);
	curl_easy_setopt(h, CURLOPT_URL, "http://localhost" DOCKER_API "/_ping");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(h);
	buf_free(&b);
	if (rc != CURLE_OK || st != 200)
		return err_set(e, ERR_UNAVAILABLE, "docker engine not reachable");
	return 0;
}

char *docker_create(const struct docker_spec *spec, struct err **e)
{
	_cleanup_cjson_ cJSON *body = docker_create_body(spec);
	_cleanup_cjson_str_ char *text = NULL;
	_cleanup_cjson_ cJSON *ans = NULL;
	const cJSON *id;
	long st;

	text = cJSON_PrintUnformatted(body);
	if (docker_request("POST", "/containers/create", text, &st, &ans, e) < 0)
		return NULL;
	id = cJSON_GetObjectItemCaseSensitive(ans, "Id");
	if (!cJSON_IsString(id) || strlen(id->valuestring) < 12) {
		err_set(e, ERR_INTERNAL, "create: answer without an Id");
		return NULL;
	}
	return xstrdup(id->valuestring);
}

int docker_start(const char *id, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s/start", id);
	long st;

	return docker_request("POST", path, NULL, &st, NULL, e);
}

int docker_kill(const char *id, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s/kill?signal=KILL", id);
	struct err *e2 = NULL;
	long st;

	if (docker_request("POST", path, NULL, &st, NULL, &e2) == 0)
		return 0;
	/* 409: not running; 404: gone.  Both mean "not running any more". */
	if (e2->code == ERR_NOT_FOUND || strstr(e2->msg, ": 409 ") != NULL) {
		err_free(&e2);
		return 0;
	}
	*e = e2;
	return -1;
}

int docker_remove(const char *id, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s?force=1&v=1", id);
	struct err *e2 = NULL;
	long st;

	if (docker_request("DELETE", path, NULL, &st, NULL, &e2) == 0)
		return 0;
	if (e2->code == ERR_NOT_FOUND) {
		err_free(&e2);
		return 0;
	}
	*e = e2;
	return -1;
}

int docker_inspect(const char *id, struct docker_state *st, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s/json", id);
	_cleanup_cjson_ cJSON *ans = NULL;
	const cJSON *state, *v;
	struct docker_state t = {0};
	long code;

	if (docker_request("GET", path, NULL, &code, &ans, e) < 0)
		return -1;
	state = cJSON_GetObjectItemCaseSensitive(ans, "State");
	if (!cJSON_IsObject(state))
		return err_set(e, ERR_INTERNAL, "inspect %.12s: no State", id);
	t.running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "Running"));
	t.oom_killed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "OOMKilled"));
	v = cJSON_GetObjectItemCaseSensitive(state, "ExitCode");
	t.exit_code = cJSON_IsNumber(v) ? v->valueint : -1;
	v = cJSON_GetObjectItemCaseSensitive(state, "Pid");
	t.pid = cJSON_IsNumber(v) ? v->valueint : 0;
	*st = t;
	return 0;
}

int docker_list_by_label(const char *key, const char *value, char ***ids, size_t *n, struct err **e)
{
	_cleanup_cjson_ cJSON *filt = cJSON_CreateObject();
	_cleanup_cjson_str_ char *ftext = NULL;
	_cleanup_cjson_ cJSON *ans = NULL;
	_cleanup_free_ char *label = xasprintf("%s=%s", key, value);
	_cleanup_free_ char *path = NULL;
	char *esc;
	const cJSON *it;
	char **out;
	size_t k = 0;
	long st;

	cJSON_AddItemToArray(cJSON_AddArrayToObject(filt, "label"), cJSON_CreateString(label));
	ftext = cJSON_PrintUnformatted(filt);
	esc = curl_escape(ftext, 0);
	path = xasprintf("/containers/json?all=1&filters=%s", esc);
	curl_free(esc);
	if (docker_request("GET", path, NULL, &st, &ans, e) < 0)
		return -1;
	if (!cJSON_IsArray(ans))
		return err_set(e, ERR_INTERNAL, "containers/json: not an array");
	out = xcalloc((size_t)cJSON_GetArraySize(ans) + 1, sizeof(*out));
	cJSON_ArrayForEach(it, ans)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "Id");
		if (cJSON_IsString(id))
			out[k++] = xstrdup(id->valuestring);
	}
	*ids = out;
	*n = k;
	return 0;
}

static long long json_ll(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);

	if (b != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

int docker_stats(const char *id, long long *mem, long long *mem_max, long long *cpu_ns,
                 struct err **e)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s/stats?stream=0&one-shot=1", id);
	_cleanup_cjson_ cJSON *ans = NULL;
	long st;

	if (docker_request("GET", path, NULL, &st, &ans, e) < 0)
		return -1;
	*mem = json_ll(cJSON_GetObjectItemCaseSensitive(ans, "memory_stats"), "usage", NULL);
	*mem_max =
	    json_ll(cJSON_GetObjectItemCaseSensitive(ans, "memory_stats"), "max_usage", NULL);
	*cpu_ns =
	    json_ll(cJSON_GetObjectItemCaseSensitive(ans, "cpu_stats"), "cpu_usage", "total_usage");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Attach: the hijacked stream                                         */
/* ------------------------------------------------------------------ */

/* Why our own request on the socket and not libcurl: after "101 UPGRADED"
 * the connection is a plain byte stream that we poll() together with each
 * invocation's deadline.  libcurl can only hand it over through
 * CURLOPT_CONNECT_ONLY + curl_easy_send/recv, where we would still write the
 * HTTP request by hand and then poll the socket curl exposes; a direct
 * connect is the same code without the indirection, and its fd is ours. */
static int send_all(int fd, const char *p, size_t n, struct err **e)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_setsys(e, ERR_UNAVAILABLE, "attach: send");
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads the HTTP answer's headers (into hdr, NUL-terminated): *got bytes,
 * the first byte after the headers at *body_at. */
static int read_answer(int fd, const char *id, char *hdr, size_t cap, size_t *got, size_t *body_at,
                       struct err **e)
{
	char *end = NULL;

	*got = 0;
	while (end == NULL) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t r;
		int pr = poll(&pfd, 1, 10000);

		if (pr == 0)
			return err_set(e, ERR_UNAVAILABLE, "attach %.12s: no answer", id);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return err_setsys(e, ERR_IO, "poll");
		}
		if (*got >= cap - 1)
			return err_set(e, ERR_INTERNAL, "attach %.12s: headers too long", id);
		r = recv(fd, hdr + *got, cap - 1 - *got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return err_set(e, ERR_UNAVAILABLE, "attach %.12s: connection closed", id);
		*got += (size_t)r;
		hdr[*got] = '\0';
		end = strstr(hdr, "\r\n\r\n");
	}
	*body_at = (size_t)(end - hdr) + 4;
	return 0;
}

int docker_attach(const char *id, char *early, size_t early_cap, size_t *early_len, struct err **e)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *req = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char hdr[8192];
	size_t got = 0, body_at = 0;

	if (strlen(docker_socket_path) >= sizeof(sa.sun_path))
		return err_set(e, ERR_INVALID, "docker socket path too long");
	memcpy(sa.sun_path, docker_socket_path, strlen(docker_socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_setsys(e, ERR_IO, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err_setsys(e, ERR_UNAVAILABLE, "docker engine not reachable: connect");
	req = xasprintf("POST " DOCKER_API "/containers/%s/attach?stream=1&stdin=1&stdout=1"
	                "&stderr=1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
	                "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
	                id);
	if (send_all(fd, req, strlen(req), e) < 0 ||
	    read_answer(fd, id, hdr, sizeof(hdr), &got, &body_at, e) < 0)
		return -1;
	if (strncmp(hdr, "HTTP/1.1 101", 12) != 0 && strncmp(hdr, "HTTP/1.1 200", 12) != 0) {
		char *eol = strstr(hdr, "\r\n");
		if (eol != NULL)
			*eol = '\0';
		return err_set(e, strstr(hdr, " 404 ") ? ERR_NOT_FOUND : ERR_INTERNAL,
		               "attach %.12s: %s", id, hdr);
	}
	if (got - body_at > early_cap)
		return err_set(e, ERR_INTERNAL, "attach: too much early data");
	memcpy(early, hdr + body_at, got - body_at);
	*early_len = got - body_at;
	return TAKE_FD(fd);
}
