/* The channel between the executor and a container's bootstrap, over the
 * Engine API attach stream (docs/design.md "Container protocol").
 *
 * Layers, each a small state machine fed with whatever bytes arrived (split
 * and partial input is normal on a stream):
 *   demux      the attach stream: 8-byte headers [stream, 0, 0, 0, size BE32]
 *              then size bytes of stdout (1) or stderr (2)
 *   fasm       stdout carries frames: 4-byte big-endian length then JSON;
 *              a frame over the limit is skipped (and reported), never held
 *   logcap     a capped log buffer that ends with a truncation marker
 */
#ifndef LAMBDA_EXECUTOR_CHAN_H
#define LAMBDA_EXECUTOR_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "buf.h"
#include "err.h"

/* ---- demux ---- */
typedef void (*demux_cb)(void *ctx, int stream, const char *data, size_t len);

struct demux {
	uint8_t hdr[8];
	size_t hdr_got;   /* bytes of the current header received */
	int stream;       /* stream of the payload being received */
	size_t remaining; /* payload bytes still to come */
};

void demux_init(struct demux *d);
/* Feeds n bytes; calls cb for each piece of payload (a payload may come in
 * several pieces).  Returns -1 (ERR_PROTO) on a bad header. */
int demux_feed(struct demux *d, const char *p, size_t n, demux_cb cb, void *ctx, struct err **e);

/* ---- frame assembler ---- */
enum fasm_event { FASM_FRAME = 1, FASM_OVERSIZE = 2 };
typedef void (*fasm_cb)(void *ctx, int event, const char *data, size_t len);

struct fasm {
	uint8_t lenb[4];
	size_t len_got;
	size_t want; /* payload length of the current frame */
	size_t skip; /* bytes of an oversize frame still to skip */
	struct buf body;
	size_t max; /* largest frame held */
};

void fasm_init(struct fasm *f, size_t max);
void fasm_free(struct fasm *f);
/* Feeds bytes; calls cb(FASM_FRAME, json, len) for each whole frame and
 * cb(FASM_OVERSIZE, NULL, length) once for a frame larger than max. */
void fasm_feed(struct fasm *f, const char *p, size_t n, fasm_cb cb, void *ctx);

/* ---- log cap ---- */
struct logcap {
	struct buf b;
	size_t dropped;
};

void logcap_init(struct logcap *l, size_t cap);
void logcap_append(struct logcap *l, const char *p, size_t n);
/* Appends the marker "[logs truncated: N bytes dropped]" (on its own line)
 * when anything was dropped, keeping the whole within the cap: the marker
 * replaces the end of the kept text.  Returns a newly allocated string (caller
 * frees); *truncated says whether anything was cut.  l is reset. */
char *logcap_finish(struct logcap *l, int *truncated);
void logcap_free(struct logcap *l);

/* ---- the channel ---- */
struct chan_frame {
	struct chan_frame *next;
	int oversize; /* 1: a frame was dropped for its size (len says how big) */
	size_t len;
	cJSON *json; /* NULL if oversize or not valid JSON */
};

struct chan {
	int fd; /* the attach socket, owned */
	struct demux dm;
	struct fasm fa;
	struct chan_frame *head, *tail; /* frames received, not yet taken */
	struct logcap *sink;            /* where stderr goes now (or NULL: stray) */
	struct logcap stray;            /* stderr between invocations, kept small */
	int eof;
};

/* Takes ownership of fd.  early: bytes that arrived with the attach answer. */
void chan_init(struct chan *c, int fd, size_t frame_max, const char *early, size_t early_len);
void chan_close(struct chan *c);
/* Sends one frame (4-byte length + text).  ERR_IO when the container is gone. */
int chan_send(struct chan *c, const char *json, size_t len, struct err **e);
int chan_send_json(struct chan *c, const cJSON *j, struct err **e);
/* Waits for the next frame until deadline (CLOCK_MONOTONIC ms; < 0: none).
 * Returns 1 with *out (caller frees with chan_frame_free), 0 at the deadline,
 * -1 on EOF or an error (ERR_IO "container closed the channel", ERR_PROTO). */
int chan_recv(struct chan *c, long long deadline, struct chan_frame **out, struct err **e);
void chan_frame_free(struct chan_frame *f);
/* Reads without blocking whatever is pending (frames are queued). Returns
 * -1 on EOF. */
int chan_pump(struct chan *c, struct err **e);

#endif
