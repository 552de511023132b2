#!/usr/bin/env bash
# Stops what scripts/up.sh started for this stack (LAMBDA_VAR): lighttpd and
# its FastCGI workers, the executor and this instance's containers, MariaDB.
# The shared Docker engine keeps running (other stacks use it).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

"$SCRIPTS/stack.sh" stop all
log "stopped the stack in $VAR (dockerd left running: it is shared)"
