#!/usr/bin/env bash
# Give this machine a real Docker engine, and the local test image, idempotently.
#
# - If an engine already answers (DOCKER_HOST or the default socket): just make sure the test
#   image exists and exit.  Fast when everything is up.
# - Else, when root on Debian: apt-get install docker.io and busybox-static, start dockerd with
#   its data under $DIAGNOSE_ENGINE_DIR (default /var/lib/diagnose-engine), wait until it answers.
# - Build diagnose-test/busybox:latest from busybox-static: `docker import` of a rootfs, then
#   `docker build` FROM it (no registry is reachable here).
#
# Usage: scripts/engine.sh [--check]      (--check: only report whether an engine answers)
set -euo pipefail

ENGINE_DIR=${DIAGNOSE_ENGINE_DIR:-/var/lib/diagnose-engine}
BASE_IMAGE=diagnose-test/busybox
SOCK=/var/run/docker.sock

say() { printf 'engine.sh: %s\n' "$*" >&2; }

answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if [ "${1:-}" = "--check" ]; then
    answers && { say "engine answers"; exit 0; }
    say "no engine answers"; exit 1
fi

install_packages() {
    local need=()
    command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
    command -v docker >/dev/null 2>&1 || need+=(docker.io)
    busybox_static || need+=(busybox-static)
    [ ${#need[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
        say "need ${need[*]} but cannot install them (not root on Debian); install Docker and retry"
        exit 1
    fi
    say "installing ${need[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

busybox_static() {
    # The image must not need a loader: only the busybox-static package's binary qualifies.
    dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' \
        && [ -x /bin/busybox ]
}

start_dockerd() {
    if [ "$(id -u)" != 0 ]; then
        say "no engine answers and we are not root: start dockerd (or set DOCKER_HOST) and retry"
        exit 1
    fi
    mkdir -p "$ENGINE_DIR"
    if [ -f "$ENGINE_DIR/dockerd.pid" ] && kill -0 "$(cat "$ENGINE_DIR/dockerd.pid")" 2>/dev/null; then
        say "dockerd (pid $(cat "$ENGINE_DIR/dockerd.pid")) is starting; waiting"
    else
        say "starting dockerd (data in $ENGINE_DIR, log $ENGINE_DIR/dockerd.log)"
        rm -f "$SOCK"
        setsid nohup dockerd \
            --data-root "$ENGINE_DIR/data" \
            --exec-root "$ENGINE_DIR/exec" \
            --pidfile "$ENGINE_DIR/dockerd.pid" \
            -H "unix://$SOCK" \
            >"$ENGINE_DIR/dockerd.log" 2>&1 </dev/null &
    fi
    for _ in $(seq 1 120); do
        answers && return 0
        sleep 0.5
    done
    say "dockerd did not answer within 60 s; last log lines:"
    tail -n 30 "$ENGINE_DIR/dockerd.log" >&2 || true
    exit 1
}

build_base_image() {
    if docker image inspect "$BASE_IMAGE:latest" >/dev/null 2>&1; then
        return 0
    fi
    install_packages
    say "building $BASE_IMAGE:latest from busybox-static"
    local root
    root=$(mktemp -d)
    trap 'rm -rf "$root"' RETURN
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/usr/bin" "$root/sbin"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    local applet
    for applet in $("$root/bin/busybox" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
        >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    printf 'NAME="diagnose test busybox"\nID=busybox\n' >"$root/etc/os-release"
    tar -C "$root" -c . | docker import - "$BASE_IMAGE:rootfs" >/dev/null
    printf 'FROM %s:rootfs\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nCMD ["sh"]\n' \
        "$BASE_IMAGE" | docker build -q --force-rm -t "$BASE_IMAGE:latest" - >/dev/null
    say "built $BASE_IMAGE:latest"
}

if ! answers; then
    install_packages
    start_dockerd
fi
build_base_image
say "engine ready: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}')"
