/* lambda-load: a small HTTP/1.1 load generator for the platform's tests.
 *
 * One thread, epoll, C keep-alive connections to 127.0.0.1:PORT (loopback
 * only: the address is fixed). Requests come round-robin from a spec file,
 * one per line: `METHOD PATH [BODY]` (the body is the rest of the line).
 * Every request is written to the output file as one tab-separated line:
 *   index  spec-line  status  latency_us  x-request-id  retry-after  error
 * (status 0 = no answer: the error column says why). The run stops issuing
 * requests after DURATION seconds or COUNT requests, whichever comes first,
 * then waits for the answers in flight (at most TIMEOUT seconds each).
 * A summary (counts per status, latency percentiles of the 2xx) is printed
 * on stdout as one JSON object.
 *
 * Usage: lambda-load -p PORT -c CONNS -d SECONDS -n COUNT -s SPECFILE
 *                    -o OUTFILE [-k KEY] [-t TIMEOUT] [-r RATE]
 * -r: start at most RATE requests per second on average (0: as fast as the
 * connections allow), for gentle long runs such as the soak.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESP_MAX           (8 * 1024 * 1024) /* a response bigger than this is an error */
#define SPECS_MAX          64
#define HEADER_MAX         65536
#define KEEPALIVE_REUSE_MS 2000 /* reconnect rather than reuse a connection idle this long */

struct spec {
	char *method;
	char *path;
	char *body;
	size_t body_len;
};

/* One connection's state. */
enum conn_state {
	CONN_IDLE,    /* not connected (or closed), no request */
	CONN_SENDING, /* connect issued or request partly written */
	CONN_READING, /* request written, reading the response */
};

struct conn {
	int fd;
	enum conn_state state;
	long idx;  /* request index in flight, -1 when none */
	int spec;  /* its spec */
	char *req; /* the request bytes */
	size_t req_len, req_off;
	char *rbuf; /* response bytes read so far */
	size_t r_len, r_cap;
	double t0;         /* when the request was first written (ms, monotonic) */
	double idle_since; /* when the last answer was read (keep-alive reuse) */
	int connecting;
};

struct opts {
	int port, conns;
	double duration_s, timeout_s, rate;
	long count;
	const char *spec_file, *out_file, *key;
};

static struct spec specs[SPECS_MAX];
static int nspecs;
static FILE *out;
static long issued, answered, st_2xx, st_429, st_5xx, st_other, st_none, ra_missing;
static double *lat2xx;
static long nlat;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void *xmalloc_or_die(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		perror("malloc");
		exit(2);
	}
	return p;
}

static void *xrealloc_or_die(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		perror("realloc");
		exit(2);
	}
	return p;
}

static char *xstrdup_or_die(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {
		perror("strdup");
		exit(2);
	}
	return p;
}

/* ------------------------------------------------------------ spec file */

static void load_specs(const char *file)
{
	FILE *f = fopen(file, "r");
	char line[1 << 16];

	if (f == NULL) {
		perror(file);
		exit(2);
	}
	while (nspecs < SPECS_MAX && fgets(line, sizeof(line), f) != NULL) {
		char *sp1, *sp2;
		size_t n = strcspn(line, "\r\n");

		line[n] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		sp1 = strchr(line, ' ');
		if (sp1 == NULL) {
			fprintf(stderr, "%s: bad line: %s\n", file, line);
			exit(2);
		}
		*sp1 = '\0';
		sp2 = strchr(sp1 + 1, ' ');
		if (sp2 != NULL)
			*sp2 = '\0';
		specs[nspecs].method = xstrdup_or_die(line);
		specs[nspecs].path = xstrdup_or_die(sp1 + 1);
		specs[nspecs].body = xstrdup_or_die(sp2 != NULL ? sp2 + 1 : "");
		specs[nspecs].body_len = strlen(specs[nspecs].body);
		nspecs++;
	}
	fclose(f);
	if (nspecs == 0) {
		fprintf(stderr, "%s: no request\n", file);
		exit(2);
	}
}

static char *build_request(const struct spec *s, const char *key, size_t *len)
{
	size_t cap = 512 + strlen(s->path) + s->body_len + (key != NULL ? strlen(key) : 0);
	char *r = xmalloc_or_die(cap);
	int n = snprintf(r, cap,
	                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s"
	                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	                 s->method, s->path, key != NULL ? "Authorization: Bearer " : "",
	                 key != NULL ? key : "", key != NULL ? "\r\n" : "", s->body_len);

	memcpy(r + n, s->body, s->body_len);
	*len = (size_t)n + s->body_len;
	return r;
}

/* ------------------------------------------------------------ responses */

/* The value of header NAME in the head [h, h+n), copied into v (cap vn). */
static int header_value(const char *h, size_t n, const char *name, char *v, size_t vn)
{
	size_t nl = strlen(name);
	const char *p = h, *end = h + n;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *a = p + nl + 1, *b = eol;
			while (a < b && (*a == ' ' || *a == '\t'))
				a++;
			while (b > a && (b[-1] == '\r' || b[-1] == ' '))
				b--;
			size_t k = (size_t)(b - a) < vn - 1 ? (size_t)(b - a) : vn - 1;
			memcpy(v, a, k);
			v[k] = '\0';
			return 1;
		}
		p = eol + 1;
	}
	v[0] = '\0';
	return 0;
}

/* Where a chunked body ends (offset after the final CRLF), or 0 when not yet
 * complete, -1 when malformed. */
static long chunked_end(const char *b, size_t n)
{
	size_t o = 0;

	for (;;) {
		char *endp;
		const char *eol = memchr(b + o, '\n', n - o);
		unsigned long sz;

		if (eol == NULL)
			return 0;
		errno = 0;
		sz = strtoul(b + o, &endp, 16);
		if (endp == b + o || errno != 0)
			return -1;
		o = (size_t)(eol - b) + 1;
		if (sz == 0) {
			/* trailers end with an empty line */
			for (;;) {
				eol = memchr(b + o, '\n', n - o);
				if (eol == NULL)
					return 0;
				if (eol == b + o || (eol == b + o + 1 && b[o] == '\r'))
					return (long)((size_t)(eol - b) + 1);
				o = (size_t)(eol - b) + 1;
			}
		}
		if (n - o < sz + 2)
			return 0;
		o += sz + 2;
	}
}

/* 1 when a whole response is in c->rbuf (status and headers filled), 0 when
 * more is needed, -1 when malformed. *keep says whether the connection may be
 * reused. */
static int parse_response(struct conn *c, int *status, char *rid, char *ra, char *err, int *keep)
{
	const char *hend;
	size_t head;
	char v[64];

	if (c->r_len == 0)
		return 0;
	c->rbuf[c->r_len] = '\0';
	hend = strstr(c->rbuf, "\r\n\r\n");
	if (hend == NULL)
		return c->r_len > HEADER_MAX ? -1 : 0;
	head = (size_t)(hend - c->rbuf) + 4;
	if (sscanf(c->rbuf, "HTTP/1.%*d %d", status) != 1)
		return -1;
	header_value(c->rbuf, head, "X-Request-Id", rid, 64);
	header_value(c->rbuf, head, "Retry-After", ra, 16);
	*keep = !(header_value(c->rbuf, head, "Connection", v, sizeof(v)) &&
	          strcasecmp(v, "close") == 0);
	if (header_value(c->rbuf, head, "Content-Length", v, sizeof(v))) {
		size_t cl = strtoul(v, NULL, 10);
		if (c->r_len < head + cl)
			return 0;
		snprintf(err, 200, "%.*s", (int)(cl < 160 ? cl : 160), c->rbuf + head);
		return 1;
	}
	if (header_value(c->rbuf, head, "Transfer-Encoding", v, sizeof(v)) &&
	    strcasecmp(v, "chunked") == 0) {
		long e = chunked_end(c->rbuf + head, c->r_len - head);
		if (e <= 0)
			return (int)e;
		snprintf(err, 200, "(chunked)");
		return 1;
	}
	if (*status == 204 || *status == 304) {
		err[0] = '\0';
		return 1;
	}
	return -1; /* no length: we do not read to EOF */
}

/* ------------------------------------------------------------ records */

static void sanitise(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\t' || *s == '\n' || *s == '\r')
			*s = ' ';
}

static void record(const struct conn *c, int status, const char *rid, const char *ra, char *err)
{
	double lat = now_ms() - c->t0;

	sanitise(err);
	fprintf(out, "%ld\t%d\t%d\t%.0f\t%s\t%s\t%s\n", c->idx, c->spec, status, lat * 1000.0,
	        rid[0] != '\0' ? rid : "-", ra[0] != '\0' ? ra : "-", err[0] != '\0' ? err : "-");
	answered++;
	if (status >= 200 && status < 300) {
		st_2xx++;
		lat2xx[nlat++] = lat;
	} else if (status == 429) {
		st_429++;
		if (ra[0] == '\0')
			ra_missing++;
	} else if (status >= 500) {
		st_5xx++;
	} else if (status == 0) {
		st_none++;
	} else {
		st_other++;
	}
}

/* ------------------------------------------------------------ connections */

static int ep;

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
}

static int conn_open(struct conn *c, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		conn_close(c);
		return -1;
	}
	c->connecting = 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	return 0;
}

static void fail_request(struct conn *c, const char *why)
{
	char e[200];

	snprintf(e, sizeof(e), "%s", why);
	record(c, 0, "", "", e);
	free(c->req);
	c->req = NULL;
	c->idx = -1;
	c->state = CONN_IDLE;
	conn_close(c);
}

static void start_request(struct conn *c, const struct opts *o)
{
	/* lighttpd closes keep-alive connections idle for 5 s: a request
	 * written as it does so would fail though the server is fine */
	if (c->fd >= 0 && now_ms() - c->idle_since > KEEPALIVE_REUSE_MS)
		conn_close(c);
	c->idx = issued++;
	c->spec = (int)(c->idx % nspecs);
	c->req = build_request(&specs[c->spec], o->key, &c->req_len);
	c->req_off = 0;
	c->r_len = 0;
	c->t0 = now_ms();
	c->state = CONN_SENDING;
	if (c->fd < 0 && conn_open(c, o->port) < 0) {
		fail_request(c, strerror(errno));
		return;
	}
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_writable(struct conn *c)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

	if (c->connecting) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr != 0) {
			fail_request(c, strerror(soerr));
			return;
		}
		c->connecting = 0;
	}
	while (c->req_off < c->req_len) {
		ssize_t n = write(c->fd, c->req + c->req_off, c->req_len - c->req_off);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			fail_request(c, n < 0 ? strerror(errno) : "write returned 0");
			return;
		}
		c->req_off += (size_t)n;
	}
	c->state = CONN_READING;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_readable(struct conn *c)
{
	char rid[64], ra[16], err[200];
	int status = 0, keep = 1, eof = 0, r;

	for (;;) {
		if (c->r_cap - c->r_len < 65536 + 1) {
			if (c->r_cap >= RESP_MAX) {
				fail_request(c, "response too big");
				return;
			}
			c->r_cap = c->r_cap ? c->r_cap * 2 : 131072;
			c->rbuf = xrealloc_or_die(c->rbuf, c->r_cap);
		}
		ssize_t n = read(c->fd, c->rbuf + c->r_len, c->r_cap - c->r_len - 1);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			fail_request(c, strerror(errno));
			return;
		}
		if (n == 0) {
			/* A server that closes after its answer (Connection: close,
			 * e.g. lighttpd's max-keep-alive-requests) may have its FIN read
			 * in the same wake-up as the answer: parse what came first. */
			eof = 1;
			break;
		}
		c->r_len += (size_t)n;
	}
	err[0] = '\0';
	r = parse_response(c, &status, rid, ra, err, &keep);
	if (r == 0 && eof) {
		fail_request(c, "connection closed by the server");
		return;
	}
	if (r == 0)
		return;
	if (eof)
		keep = 0;
	if (r < 0) {
		fail_request(c, "malformed response");
		return;
	}
	record(c, status, rid, ra, err);
	c->idle_since = now_ms();
	free(c->req);
	c->req = NULL;
	c->idx = -1;
	c->state = CONN_IDLE;
	if (!keep)
		conn_close(c);
}

/* ------------------------------------------------------------ main */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	if (nlat == 0)
		return 0;
	long i = (long)(p / 100.0 * (double)(nlat - 1) + 0.5);
	return lat2xx[i];
}

static void usage(void)
{
	fprintf(stderr, "usage: lambda-load -p PORT -c CONNS -d SECONDS -n COUNT -s SPECFILE "
	                "-o OUTFILE [-k KEY] [-t TIMEOUT] [-r RATE]\n");
	exit(2);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int ch;

	*o = (struct opts){.conns = 32, .duration_s = 10, .count = 100000, .timeout_s = 30};
	while ((ch = getopt(argc, argv, "p:c:d:n:s:o:k:t:r:")) != -1) {
		switch (ch) {
		case 'p':
			o->port = (int)strtol(optarg, NULL, 10);
			break;
		case 'c':
			o->conns = (int)strtol(optarg, NULL, 10);
			break;
		case 'd':
			o->duration_s = strtod(optarg, NULL);
			break;
		case 'n':
			o->count = strtol(optarg, NULL, 10);
			break;
		case 's':
			o->spec_file = optarg;
			break;
		case 'o':
			o->out_file = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 't':
			o->timeout_s = strtod(optarg, NULL);
			break;
		case 'r':
			o->rate = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (o->port <= 0 || o->port > 65535 || o->conns < 1 || o->conns > 4096 ||
	    o->duration_s <= 0 || o->count < 1 || o->count > 10000000 || o->spec_file == NULL ||
	    o->out_file == NULL || o->timeout_s <= 0)
		usage();
}

static void run(const struct opts *o, struct conn *cs)
{
	struct epoll_event evs[256];
	double start = now_ms(), stop_at = start + o->duration_s * 1e3;
	int inflight;

	for (;;) {
		double t = now_ms();
		int more = t < stop_at && issued < o->count;
		/* the rate limit: no more starts than RATE x elapsed seconds */
		long allowed = o->rate > 0 ? (long)((t - start) / 1e3 * o->rate) + 1 : o->count;

		inflight = 0;
		for (int i = 0; i < o->conns; i++) {
			struct conn *c = &cs[i];
			if (c->state == CONN_IDLE && more && issued < o->count && issued < allowed)
				start_request(c, o);
			if (c->state != CONN_IDLE) {
				if (t - c->t0 > o->timeout_s * 1e3)
					fail_request(c, "client timeout");
				else
					inflight++;
			}
		}
		if (inflight == 0 && !more)
			break;
		int n = epoll_wait(ep, evs, 256, 50);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->fd < 0 || c->state == CONN_IDLE) {
				/* the server closed an idle keep-alive connection */
				conn_close(c);
				continue;
			}
			if (c->state == CONN_SENDING && (evs[i].events & (EPOLLOUT | EPOLLERR)))
				on_writable(c);
			else if (c->state == CONN_READING &&
			         (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				on_readable(c);
		}
	}
	double secs = (now_ms() - start) / 1e3;
	qsort(lat2xx, (size_t)nlat, sizeof(double), cmp_double);
	printf("{\"requests\": %ld, \"answered\": %ld, \"seconds\": %.3f, \"rate\": %.1f, "
	       "\"s2xx\": %ld, \"s429\": %ld, \"s5xx\": %ld, \"sother\": %ld, \"none\": %ld, "
	       "\"retry_after_missing\": %ld, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
	       "\"p99_ms\": %.3f, \"max_ms\": %.3f, \"conns\": %d}\n",
	       issued, answered, secs, (double)answered / secs, st_2xx, st_429, st_5xx, st_other,
	       st_none, ra_missing, pct(50), pct(90), pct(99), nlat ? lat2xx[nlat - 1] : 0.0,
	       o->conns);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct conn *cs;

	parse_opts(argc, argv, &o);
	load_specs(o.spec_file);
	out = fopen(o.out_file, "w");
	if (out == NULL) {
		perror(o.out_file);
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		perror("epoll_create1");
		return 2;
	}
	lat2xx = xmalloc_or_die(sizeof(double) * (size_t)o.count);
	cs = xmalloc_or_die(sizeof(*cs) * (size_t)o.conns);
	for (int i = 0; i < o.conns; i++)
		cs[i] = (struct conn){.fd = -1, .state = CONN_IDLE, .idx = -1};
	run(&o, cs);
	for (int i = 0; i < o.conns; i++) {
		conn_close(&cs[i]);
		free(cs[i].rbuf);
	}
	free(cs);
	if (fclose(out) != 0) {
		perror(o.out_file);
		return 2;
	}
	free(lat2xx);
	return 0;
}
