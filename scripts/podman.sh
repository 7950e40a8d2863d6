#!/usr/bin/env bash
# Give this machine a real, rootful Podman service that speaks the Docker Engine API, and the
# local test image inside it, idempotently (the Podman counterpart of scripts/engine.sh).
#
# - Everything is scoped to this service: its own socket ($DIAGNOSE_PODMAN_SOCK, default
#   /run/diagnose-podman/podman.sock; /var/run/docker.sock stays dockerd's), and its own
#   configuration, storage, events log, pid file and log under $DIAGNOSE_PODMAN_DIR (default
#   /var/lib/diagnose-podman), passed to podman through CONTAINERS_CONF,
#   CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF.  Nothing under /etc is written.
# - If the service already answers: just make sure the test image exists and exit.
# - Else, when root on Debian: apt-get install podman (and busybox-static), write the
#   configuration, start `podman system service --time=0` in the background, wait until the
#   Docker-compatible API answers.
# - Build diagnose-test/busybox:latest inside Podman from busybox-static (`podman import` of a
#   rootfs; Podman stores it as localhost/diagnose-test/busybox:latest and the Docker API finds
#   it under the short name).  No registry is reachable here: the registries Podman would
#   complete short names with are blocked, so a missing image fails at once instead of
#   waiting on the network.
#
# Why the ulimits: Podman gives every container RLIMIT_NOFILE and RLIMIT_NPROC of 1048576
# unless told otherwise, and on a machine where root lacks CAP_SYS_RESOURCE (this one) runc
# cannot raise a limit above the service's own hard limit: every start then fails with
# "error setting rlimit type 7: operation not permitted".  containers.conf `default_ulimits`
# set to the service's own hard limits removes the need for --ulimit flags.  Podman lowers its
# own RLIMIT_NPROC at start on some machines (96362 -> 32768 here), so the values are read from
# the running service's /proc/PID/limits; when they differ from the configuration the
# configuration is rewritten and the service restarted once.
#
# Usage: scripts/podman.sh [--check | --stop | --env]
#   --check  only report whether the service answers (exit 0) or not (exit 1)
#   --stop   stop the service this script started (its pid file); containers stay stored
#   --env    print the shell lines that point docker and podman at this service
set -euo pipefail

PODMAN_DIR=${DIAGNOSE_PODMAN_DIR:-/var/lib/diagnose-podman}
SOCK=${DIAGNOSE_PODMAN_SOCK:-/run/diagnose-podman/podman.sock}
RUN_DIR=$(dirname "$SOCK")
HOST="unix://$SOCK"
BASE_IMAGE=diagnose-test/busybox
PIDFILE="$PODMAN_DIR/service.pid"
LOG="$PODMAN_DIR/service.log"

export CONTAINERS_CONF="$PODMAN_DIR/containers.conf"
export CONTAINERS_STORAGE_CONF="$PODMAN_DIR/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$PODMAN_DIR/registries.conf"

say() { printf 'podman.sh: %s\n' "$*" >&2; }

answers() {
    timeout 10 docker -H "$HOST" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

service_pid() {
    # The pid in our pid file, when that process is still our podman service.
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "system service" \
        && printf '%s\n' "$pid"
}

stop_service() {
    local pid
    pid=$(service_pid) || { say "no service of ours is running"; return 0; }
    say "stopping podman service (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
        sleep 0.2
    done
    say "podman service (pid $pid) did not stop within 10 s"
    exit 1
}

case "${1:-}" in
    --check)
        answers && { say "podman service answers at $HOST"; exit 0; }
        say "no podman service answers at $HOST"; exit 1 ;;
    --stop)
        stop_service; exit 0 ;;
    --env)
        printf 'export DOCKER_HOST=%s\n' "$HOST"
        printf 'export CONTAINER_HOST=%s   # podman --remote\n' "$HOST"
        printf 'export CONTAINERS_CONF=%s CONTAINERS_STORAGE_CONF=%s CONTAINERS_REGISTRIES_CONF=%s\n' \
            "$CONTAINERS_CONF" "$CONTAINERS_STORAGE_CONF" "$CONTAINERS_REGISTRIES_CONF"
        exit 0 ;;
    "") ;;
    *) say "unknown argument $1 (use --check, --stop or --env)"; exit 2 ;;
esac

install_packages() {
    local need=()
    command -v podman >/dev/null 2>&1 || need+=(podman)
    command -v docker >/dev/null 2>&1 || need+=(docker.io)
    busybox_static || need+=(busybox-static)
    [ ${#need[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
        say "need ${need[*]} but cannot install them (not root on Debian); install them and retry"
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

# write_if_changed FILE: stdin becomes FILE when it differs; returns 0 when it changed.
write_if_changed() {
    local new
    new=$(cat)
    if [ -f "$1" ] && [ "$(cat "$1")" = "$new" ]; then
        return 1
    fi
    printf '%s\n' "$new" >"$1.tmp" && mv "$1.tmp" "$1"
}

# write_config NOFILE NPROC: the service's configuration; returns 0 when containers.conf changed.
write_config() {
    mkdir -p "$PODMAN_DIR/cni" "$RUN_DIR"
    write_if_changed "$CONTAINERS_STORAGE_CONF" <<EOF || true
# Written by scripts/podman.sh: storage of the diagnose Podman service only.
[storage]
driver = "overlay"
graphroot = "$PODMAN_DIR/storage"
runroot = "$RUN_DIR/storage"
EOF
    write_if_changed "$CONTAINERS_REGISTRIES_CONF" <<'EOF' || true
# Written by scripts/podman.sh.  No registry is reachable here: never search one for a short
# name, and block the one the Docker-compatible API completes short names with (docker.io),
# so a missing image fails at once instead of waiting on the network.
unqualified-search-registries = []
short-name-mode = "disabled"

[[registry]]
location = "docker.io"
blocked = true
EOF
    write_if_changed "$CONTAINERS_CONF" <<EOF
# Written by scripts/podman.sh: the diagnose Podman service only (CONTAINERS_CONF).
[containers]
# The service's own hard limits: Podman's default (1048576) cannot be set here (no
# CAP_SYS_RESOURCE).  A request that sets any --ulimit replaces this whole list, so such a
# request must give nofile AND nproc within these values.
default_ulimits = ["nofile=$1:$1", "nproc=$2:$2"]
# No journald on this machine: logs to files, which the Docker API's /logs reads.
log_driver = "k8s-file"

[network]
network_backend = "cni"
network_config_dir = "$PODMAN_DIR/cni"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PODMAN_DIR/events.log"
tmp_dir = "$RUN_DIR/libpod"
EOF
}

# hard_limit PID NAME: the hard limit NAME ("open files", "processes") of process PID.
hard_limit() {
    awk -v name="$2" '$0 ~ "^Max " name " " { print $(NF-1) }' "/proc/$1/limits"
}

launch() {
    say "starting podman system service at $HOST (config and log in $PODMAN_DIR)"
    rm -f "$SOCK"
    # conmon inherits the service's working directory and, on an OOM kill, writes an empty
    # file named `oom` there (Podman then looks for it in the container's bundle directory,
    # so State.OOMKilled stays false: docs/podman-notes.md D2).  Run from a directory of our
    # own so those files never land in the caller's checkout.
    mkdir -p "$PODMAN_DIR/cwd"
    (cd "$PODMAN_DIR/cwd" && exec setsid nohup podman system service --time=0 "$HOST" \
        >>"$LOG" 2>&1 </dev/null) &
    echo $! >"$PIDFILE"
    for _ in $(seq 1 120); do
        answers && return 0
        kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
        sleep 0.25
    done
    say "podman service did not answer within 30 s; last log lines:"
    tail -n 30 "$LOG" >&2 || true
    exit 1
}

start_service() {
    if [ "$(id -u)" != 0 ]; then
        say "no podman service answers and we are not root: this script runs it rootful"
        exit 1
    fi
    mkdir -p "$PODMAN_DIR" "$RUN_DIR"
    local pid
    if pid=$(service_pid); then
        say "podman service (pid $pid) runs but does not answer; restarting it"
        stop_service
    fi
    # The limits learnt from an earlier start, else a first guess (our own hard limits);
    # sync_limits then makes them the service's real ones (see the header).
    local limits
    limits=$(sed -n 's/^default_ulimits = \["nofile=\([0-9]*\):[0-9]*", "nproc=\([0-9]*\):[0-9]*"\]$/\1 \2/p' \
        "$CONTAINERS_CONF" 2>/dev/null || true)
    [ -n "$limits" ] || limits="$(ulimit -Hn) $(ulimit -Hu | sed 's/unlimited/1048576/')"
    # shellcheck disable=SC2086  # two words on purpose
    write_config $limits || true
    launch
    sync_limits
}

# sync_limits: make default_ulimits equal the running service's hard limits (restart once).
sync_limits() {
    local pid nofile nproc
    pid=$(service_pid) || return 0
    nofile=$(hard_limit "$pid" "open files")
    nproc=$(hard_limit "$pid" "processes")
    [ "$nproc" = unlimited ] && nproc=1048576
    [ "$nofile" = unlimited ] && nofile=1048576
    if write_config "$nofile" "$nproc"; then
        say "container ulimits set to the service's own: nofile=$nofile nproc=$nproc; restarting"
        stop_service
        launch
    fi
}

build_base_image() {
    if docker -H "$HOST" image inspect "$BASE_IMAGE:latest" >/dev/null 2>&1; then
        return 0
    fi
    install_packages
    say "building $BASE_IMAGE:latest in Podman from busybox-static"
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
    # Through the service (podman --remote), so the image lands in the service's storage.
    tar -C "$root" -c . | podman --remote --url "$HOST" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["sh"]' - "$BASE_IMAGE:latest" >/dev/null
    say "built $BASE_IMAGE:latest (stored as localhost/$BASE_IMAGE:latest)"
}

if ! answers; then
    install_packages
    start_service
else
    sync_limits
fi
build_base_image
say "podman ready at $HOST: $(docker -H "$HOST" version \
    --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}')"
