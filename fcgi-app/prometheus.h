/* GET /metrics in the Prometheus text exposition format (version 0.0.4):
 * rendering only, from the rollup counters and the executor's POOLS reply. */
#ifndef LAMBDA_API_PROMETHEUS_H
#define LAMBDA_API_PROMETHEUS_H

#include <stddef.h>

#include <cJSON.h>

#include "buf.h"
#include "db_metrics.h"

#define PROMETHEUS_MAX_BYTES (16u * 1024 * 1024)

/* Appends the exposition of n counters (one per function and isolation) and
 * of pools (the POOLS_REPLY payload, or NULL when the executor could not be
 * asked) to out.  ERR_TOO_LARGE when out's maximum is reached. */
int prometheus_render(struct buf *out, const struct db_metrics_counter *c, size_t n,
                      const cJSON *pools, struct err **e);

/* Appends v as a label value: backslash, double quote and newline escaped. */
int prometheus_label_value(struct buf *out, const char *v, struct err **e);

#endif
