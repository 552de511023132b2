/* The invocation-record journal of one lambda-api process (docs/design.md
 * "Records").  A request thread appends its record (one JSON line, one
 * write(2)) before it answers; the writer thread moves records into MariaDB
 * with multi-row INSERT IGNORE every api.journal_flush_ms and truncates.
 *
 * Two files per process alternate, `api-<pid>-a.jnl` and `api-<pid>-b.jnl`,
 * both flock'ed by their owner for its whole life: threads append to one
 * while the writer drains the other, so no record is ever truncated unread.
 * A process that can take the lock of another process's journal knows that
 * its owner is gone and replays it (records are keyed by request_id, so a
 * replay of something already inserted changes nothing). */
#ifndef LAMBDA_API_JOURNAL_H
#define LAMBDA_API_JOURNAL_H

#include <stddef.h>

#include <cJSON.h>

#include "err.h"

struct config;
struct db;
struct journal;

/* Creates and locks this process's two files under dir. */
struct journal *journal_open(const char *dir, struct err **e);
/* Appends one record (a JSON object) as one line with one write(2), and
 * takes rec (freed or kept, whatever the outcome: the writer inserts the
 * kept record itself instead of parsing the line back).  Thread-safe.
 * ERR_IO when the write failed. */
int journal_append(struct journal *j, cJSON *rec, struct err **e);
/* Moves what the files hold into the database.  Called by the writer thread
 * (and at shutdown); not concurrently with itself. */
int journal_flush(struct journal *j, struct db *db, struct err **e);
/* Replays (and removes) the journals under dir whose owner is gone. */
int journal_replay_orphans(const char *dir, const struct journal *self, struct db *db,
                           struct err **e);

/* Starts the writer thread (its own database connection). */
int journal_start_writer(struct journal *j, const struct config *cfg, struct err **e);
/* Stops the writer, flushes what is left (retrying for up to wait_ms while
 * the database is unreachable), removes the files when empty, frees j. */
void journal_close(struct journal *j, int wait_ms);

/* Splits data into records: complete lines that parse as JSON objects.
 * Broken lines (a torn last write after a crash) are skipped and counted in
 * *bad.  *recs is a new array of *n objects (free with journal_recs_free). */
void journal_parse(const char *data, size_t len, cJSON ***recs, int *n, int *bad);
void journal_recs_free(cJSON **recs, int n);

#endif
