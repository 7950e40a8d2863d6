#!/bin/sh
# The image's entrypoint: set up, then hand over to the command (CMD).
set -e
echo "starting $*"
exec "$@"
