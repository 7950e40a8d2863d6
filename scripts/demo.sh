#!/usr/bin/env bash
# The main job on a fresh machine: set up, make sure an engine runs (starting a local one if
# none answers), create a demo set of broken containers, and diagnose them.
#   scripts/demo.sh            # report on stdout, bundle in ./bundles/
#   scripts/demo.sh --clean    # remove the demo containers and images
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/engine.sh

LABEL=diagnose.demo=1
BASE=diagnose-test/busybox:latest

clean() {
    local ids
    ids=$(docker ps -aq --filter "label=$LABEL")
    [ -z "$ids" ] || docker rm -f $ids >/dev/null
    ids=$(docker images -q --filter "label=$LABEL" | sort -u)
    [ -z "$ids" ] || docker rmi -f $ids >/dev/null 2>&1 || true
}
if [ "${1:-}" = "--clean" ]; then clean; exit 0; fi
clean

say() { printf 'demo: %s\n' "$*" >&2; }
build() {  # build TAG: Dockerfile on stdin, context in $ctx
    docker build -q --force-rm --label "$LABEL" -t "$1" "$ctx" >/dev/null 2>&1
}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

say "building demo images from $BASE"
printf '#!/bin/sh\r\necho starting\r\nexec sleep 1000\r\n' >"$ctx/entrypoint.sh"
chmod 755 "$ctx/entrypoint.sh"
printf 'FROM %s\nCOPY entrypoint.sh /usr/local/bin/entrypoint.sh\nENTRYPOINT ["/usr/local/bin/entrypoint.sh"]\n' \
    "$BASE" >"$ctx/Dockerfile"
build diagnose-demo/crlf:1

say "creating broken containers"
run() { docker run -d --label "$LABEL" "$@" >/dev/null; }
run --name demo-oom --memory 32m "$BASE" sh -c 'echo loading cache; x=a; while true; do x=$x$x; done'
run --name demo-crash "$BASE" sh -c 'echo "starting worker"; echo "Traceback (most recent call last):" >&2;
  echo "  File \"/app/worker.py\", line 12, in <module>" >&2;
  echo "    conn = connect(os.environ[\"DATABASE_URL\"])" >&2;
  echo "KeyError: '"'"'DATABASE_URL'"'"'" >&2; exit 1'
run --name demo-crlf diagnose-demo/crlf:1
run --name demo-restart-loop --restart always "$BASE" sh -c 'echo "config /etc/app.conf: no such file" >&2; exit 2'
run --name demo-unhealthy --health-cmd 'wget -q -O /dev/null http://127.0.0.1:8080/health' \
    --health-interval 1s --health-retries 2 "$BASE" sleep 100000
run --name demo-healthy "$BASE" sleep 100000
run --name demo-port-holder -p 127.0.0.1:18080:80 "$BASE" sleep 100000
docker create --label "$LABEL" --name demo-port -p 127.0.0.1:18080:80 "$BASE" sleep 1000 >/dev/null
docker start demo-port >/dev/null 2>&1 || true
docker create --label "$LABEL" --name demo-no-entrypoint --entrypoint /app/server "$BASE" >/dev/null
docker start demo-no-entrypoint >/dev/null 2>&1 || true
docker create --label "$LABEL" --name demo-created "$BASE" echo never-started >/dev/null
sleep 4   # let the OOM kill, the restart loop and the health checks happen

say "diagnosing them (report on stdout, bundle in ./bundles/)"
mkdir -p bundles
set +e
.venv/bin/diagnose --output bundles demo-oom demo-crash demo-crlf demo-restart-loop \
    demo-unhealthy demo-port demo-no-entrypoint demo-created demo-healthy "$@"
code=$?
set -e
# 1 means "found problems at or above --fail-on": exactly what a demo of broken containers shows.
if [ "$code" -le 1 ]; then
    say "done (diagnose exit code $code). Offline replay: .venv/bin/diagnose analyze bundles/<file>"
    exit 0
fi
exit "$code"
