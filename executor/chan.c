#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "chan.h"
#include "cleanup.h"
#include "clock.h"
#include "xalloc.h"

/* ------------------------------------------------------------------ */
/* demux                                                               */
/* ------------------------------------------------------------------ */

void demux_init(struct demux *d)
{
	memset(d, 0, sizeof(*d));
}

int demux_feed(struct demux *d, const char *p, size_t n, demux_cb cb, void *ctx, struct err **e)
{
	while (n > 0) {
		if (d->remaining == 0) {
			size_t take = 8 - d->hdr_got;
			if (take > n)
				take = n;
			memcpy(d->hdr + d->hdr_got, p, take);
			d->hdr_got += take;
			p += take;
			n -= take;
			if (d->hdr_got < 8)
				return 0;
			d->hdr_got = 0;
			if (d->hdr[0] > 2 || d->hdr[1] || d->hdr[2] || d->hdr[3])
				return err_set(e, ERR_PROTO, "attach stream: bad frame header");
			d->stream = d->hdr[0];
			d->remaining = ((size_t)d->hdr[4] << 24) | ((size_t)d->hdr[5] << 16) |
			               ((size_t)d->hdr[6] << 8) | d->hdr[7];
			continue;
		}
		size_t take = d->remaining < n ? d->remaining : n;
		cb(ctx, d->stream, p, take);
		d->remaining -= take;
		p += take;
		n -= take;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* frame assembler                                                     */
/* ------------------------------------------------------------------ */

void fasm_init(struct fasm *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
	buf_init(&f->body, max);
}

void fasm_free(struct fasm *f)
{
	buf_free(&f->body);
}

void fasm_feed(struct fasm *f, const char *p, size_t n, fasm_cb cb, void *ctx)
{
	while (n > 0) {
		if (f->skip > 0) {
			size_t take = f->skip < n ? f->skip : n;
			f->skip -= take;
			p += take;
			n -= take;
			continue;
		}
		if (f->len_got < 4) {
			f->lenb[f->len_got++] = (uint8_t)*p++;
			n--;
			if (f->len_got < 4)
				continue;
			f->want = ((size_t)f->lenb[0] << 24) | ((size_t)f->lenb[1] << 16) |
			          ((size_t)f->lenb[2] << 8) | f->lenb[3];
			if (f->want > f->max) {
				cb(ctx, FASM_OVERSIZE, NULL, f->want);
				f->skip = f->want;
				f->len_got = 0;
				continue;
			}
			buf_reset(&f->body);
			if (f->want > 0)
				continue;
		}
		size_t take = f->want - f->body.len;
		if (take > n)
			take = n;
		buf_append(&f->body, p, take, NULL);
		p += take;
		n -= take;
		if (f->body.len == f->want) {
			cb(ctx, FASM_FRAME, f->body.data ? f->body.data : "", f->body.len);
			f->len_got = 0;
			buf_reset(&f->body);
			/* give back the memory of a large frame at once */
			if (f->body.cap > 65536)
				buf_free(&f->body);
		}
	}
}

/* ------------------------------------------------------------------ */
/* log cap                                                             */
/* ------------------------------------------------------------------ */

void logcap_init(struct logcap *l, size_t cap)
{
	buf_init(&l->b, cap);
	l->dropped = 0;
}

void logcap_append(struct logcap *l, const char *p, size_t n)
{
	l->dropped += buf_append_trunc(&l->b, p, n);
}

/* Replaces bytes that are not valid UTF-8 by '?' so that the text is a
 * valid JSON string whatever the function wrote. */
static void utf8_sanitize(char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80         ? 1
		           : (c >> 5) == 6  ? 2
		           : (c >> 4) == 14 ? 3
		           : (c >> 3) == 30 ? 4
		                            : 0;
		size_t j;

		if (k == 0 || i + k > n) {
			s[i++] = '?';
			continue;
		}
		for (j = 1; j < k; j++)
			if (((unsigned char)s[i + j] >> 6) != 2)
				break;
		if (j < k || c == 0) {
			s[i++] = c == 0 ? ' ' : '?';
			continue;
		}
		i += k;
	}
}

char *logcap_finish(struct logcap *l, int *truncated)
{
	char marker[96];
	size_t keep = l->b.len;
	char *out;

	*truncated = l->dropped > 0;
	if (l->dropped > 0) {
		size_t mlen;
		for (int pass = 0; pass < 2; pass++) {
			mlen = (size_t)snprintf(marker, sizeof(marker),
			                        "%s[logs truncated: %zu bytes dropped]",
			                        keep > 0 && l->b.data[keep - 1] != '\n' ? "\n" : "",
			                        l->dropped + (l->b.len - keep));
			if (keep + mlen <= l->b.max)
				break;
			keep = l->b.max > mlen + 1 ? l->b.max - mlen - 1 : 0;
			/* do not cut a UTF-8 sequence in half */
			while (keep > 0 && ((unsigned char)l->b.data[keep] >> 6) == 2)
				keep--;
		}
		mlen = (size_t)snprintf(marker, sizeof(marker),
		                        "%s[logs truncated: %zu bytes dropped]",
		                        keep > 0 && l->b.data[keep - 1] != '\n' ? "\n" : "",
		                        l->dropped + (l->b.len - keep));
		out = xmalloc(keep + mlen + 1);
		if (keep > 0)
			memcpy(out, l->b.data, keep);
		memcpy(out + keep, marker, mlen + 1);
		utf8_sanitize(out, keep);
	} else {
		out = xmalloc(keep + 1);
		if (keep > 0)
			memcpy(out, l->b.data, keep);
		out[keep] = '\0';
		utf8_sanitize(out, keep);
	}
	buf_reset(&l->b);
	l->dropped = 0;
	return out;
}

void logcap_free(struct logcap *l)
{
	buf_free(&l->b);
}

/* ------------------------------------------------------------------ */
/* channel                                                             */
/* ------------------------------------------------------------------ */

static void on_frame(void *ctx, int event, const char *data, size_t len)
{
	struct chan *c = ctx;
	struct chan_frame *f = xcalloc(1, sizeof(*f));

	f->len = len;
	if (event == FASM_OVERSIZE)
		f->oversize = 1;
	else
		f->json = cJSON_ParseWithLength(data, len);
	if (c->tail != NULL)
		c->tail->next = f;
	else
		c->head = f;
	c->tail = f;
}

static void on_stream(void *ctx, int stream, const char *data, size_t len)
{
	struct chan *c = ctx;

	if (stream == 1) {
		fasm_feed(&c->fa, data, len, on_frame, c);
		return;
	}
	if (c->sink != NULL) {
		logcap_append(c->sink, data, len);
	} else {
		/* between invocations: keep only a little, for the next one */
		logcap_append(&c->stray, data, len);
	}
}

void chan_init(struct chan *c, int fd, size_t frame_max, const char *early, size_t early_len)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	demux_init(&c->dm);
	fasm_init(&c->fa, frame_max);
	logcap_init(&c->stray, 64 * 1024);
	if (early_len > 0)
		demux_feed(&c->dm, early, early_len, on_stream, c, NULL);
}

void chan_frame_free(struct chan_frame *f)
{
	if (f == NULL)
		return;
	cJSON_Delete(f->json);
	free(f);
}

void chan_close(struct chan *c)
{
	struct chan_frame *f = c->head;

	while (f != NULL) {
		struct chan_frame *next = f->next;
		chan_frame_free(f);
		f = next;
	}
	c->head = c->tail = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	fasm_free(&c->fa);
	logcap_free(&c->stray);
}

int chan_send(struct chan *c, const char *json, size_t len, struct err **e)
{
	uint8_t lenb[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	                   (uint8_t)len};
	struct iovec iov[2] = {{lenb, 4}, {(void *)json, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	size_t total = len + 4, sent = 0;

	if (len > UINT32_MAX)
		return err_set(e, ERR_TOO_LARGE, "frame too large");
	while (sent < total) {
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_setsys(e, ERR_IO, "container channel: send");
		}
		sent += (size_t)w;
		/* advance the iovecs past what went out */
		while (mh.msg_iovlen > 0 && (size_t)w >= mh.msg_iov[0].iov_len) {
			w -= (ssize_t)mh.msg_iov[0].iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen > 0) {
			mh.msg_iov[0].iov_base = (char *)mh.msg_iov[0].iov_base + w;
			mh.msg_iov[0].iov_len -= (size_t)w;
		}
	}
	return 0;
}

int chan_send_json(struct chan *c, const cJSON *j, struct err **e)
{
	_cleanup_cjson_str_ char *text = cJSON_PrintUnformatted(j);

	if (text == NULL)
		return err_set(e, ERR_INTERNAL, "cannot serialise a frame");
	return chan_send(c, text, strlen(text), e);
}

static int chan_read_some(struct chan *c, struct err **e)
{
	char tmp[65536];
	ssize_t r = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);

	if (r < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		c->eof = 1;
		return err_setsys(e, ERR_IO, "container channel: recv");
	}
	if (r == 0) {
		c->eof = 1;
		return err_set(e, ERR_IO, "container closed the channel");
	}
	return demux_feed(&c->dm, tmp, (size_t)r, on_stream, c, e) < 0 ? -1 : 1;
}

int chan_pump(struct chan *c, struct err **e)
{
	int r;

	if (c->eof)
		return err_set(e, ERR_IO, "container closed the channel");
	while ((r = chan_read_some(c, e)) > 0)
		;
	return r;
}

int chan_recv(struct chan *c, long long deadline, struct chan_frame **out, struct err **e)
{
	for (;;) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		long long left;
		int pr;

		if (c->head != NULL) {
			struct chan_frame *f = c->head;
			c->head = f->next;
			if (c->head == NULL)
				c->tail = NULL;
			f->next = NULL;
			*out = f;
			return 1;
		}
		if (c->eof)
			return err_set(e, ERR_IO, "container closed the channel");
		left = deadline < 0 ? 1000 : deadline - mono_ms();
		if (left <= 0)
			return 0;
		pr = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (pr < 0 && errno != EINTR)
			return err_setsys(e, ERR_IO, "poll");
		if (pr > 0) {
			struct err *e2 = NULL;
			if (chan_read_some(c, &e2) < 0) {
				/* frames that arrived before the end are still delivered */
				if (c->head != NULL && c->eof) {
					err_free(&e2);
					continue;
				}
				*e = e2;
				return -1;
			}
		}
	}
}
