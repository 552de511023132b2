/* The route tables lambda-api serves.  A new api_<resource>.c exports its
 * `const struct route_table` (see router.h) and adds it here. */
#include <config.h>

#include "api.h"
#include "api_aws.h"
#include "router.h"

const struct route_table *const router_tables[] = {
    &api_health_routes,      &api_functions_routes, &api_keys_routes, &api_invoke_routes,
    &api_invocations_routes, &api_metrics_routes,   &api_aws_routes,  &api_fnurl_routes,
};
const size_t router_ntables = sizeof(router_tables) / sizeof(router_tables[0]);
