#!/usr/bin/env bash
# Build the images the failure-taxonomy reproductions need (issue 16), idempotently and fast.
#
# No registry is reachable, so every image is made here from the test busybox image plus
# programs from the host:
#   diagnose-test/taxo-crash     static C/C++ programs from tests/images/ that fail the way real
#                                programs do (glibc double free, assert, uncaught C++ exception,
#                                SIGBUS on a full /dev/shm, thread/fork until EAGAIN, a real
#                                segfault), and a script without a shebang (a native exec
#                                format error)
#   diagnose-test/taxo-node      the host's Node.js (binary + the libraries ldd lists) and
#                                tests/images/heap.js (V8's own "JavaScript heap out of memory")
#   diagnose-test/taxo-shadow    FROM taxo-node: an app in /app whose node_modules a mount can hide
#   diagnose-test/taxo-postgres  the host's PostgreSQL server (postgres, initdb, pg_isready,
#                                psql + libs + share files) with a docker-entrypoint.sh that
#                                initialises $PGDATA when empty, like the official image
#   diagnose-test/taxo-arm64     an image whose config says linux/arm64/v8, with a static aarch64
#                                ELF as entrypoint (made by tests/images/foreign_elf.py)
#
# Each image carries the label diagnose.test.images=taxonomy (remove them all with
# `docker rmi $(docker images -q --filter label=diagnose.test.images=taxonomy)`) and
# diagnose.test.inputs=<hash of this script, the sources and the host tools' versions>: an
# image whose inputs did not change is skipped, so a second run takes well under a second.
# Missing host tools (gcc, g++, node, postgres) are installed with apt-get when root on Debian.
#
# Usage: scripts/images.sh [--force]     (--force: rebuild even when the inputs did not change)
# Needs an engine and diagnose-test/busybox:latest (scripts/engine.sh makes both).
set -euo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."

BASE=diagnose-test/busybox:latest
SRC=tests/images
KIND=diagnose.test.images=taxonomy
FORCE=${1:-}

say() { printf 'images.sh: %s\n' "$*" >&2; }

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    say "$BASE is missing: run scripts/engine.sh"
    exit 1
fi

apt_install() {
    if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
        say "need $* but cannot install them (not root on Debian); install them and retry"
        exit 1
    fi
    say "installing $* with apt-get"
    # Debian's postgresql-common would create and start a "main" cluster; we only want files.
    if [[ " $* " == *" postgresql "* ]] && [ ! -f /etc/postgresql-common/createcluster.conf ]; then
        mkdir -p /etc/postgresql-common
        echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The newest installed server's bin directory (Debian installs /usr/lib/postgresql/MAJOR/bin).
pg_bindir() {
    printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -n 1 || true
}

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v node >/dev/null 2>&1 || need+=(nodejs)
[ -n "$(pg_bindir)" ] && [ -x "$(pg_bindir)/postgres" ] || need+=(postgresql)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
PGBIN=$(pg_bindir)
[ -x "$PGBIN/postgres" ] || { say "no PostgreSQL server under /usr/lib/postgresql"; exit 1; }
PGVER=$(basename "$(dirname "$PGBIN")")

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The inputs of an image: this script, the given files, and a description of host tools.
inputs_hash() {
    local extra=$1; shift
    { cat "$SELF" "$@"; printf '%s\n' "$extra"; } | sha256sum | cut -c1-16
}

# True when IMAGE exists and was built from the same inputs.
up_to_date() {
    [ "$FORCE" = --force ] && return 1
    local have
    have=$(docker image inspect "$1" --format '{{index .Config.Labels "diagnose.test.inputs"}}' \
        2>/dev/null) || return 1
    [ "$have" = "$2" ]
}

# Images that a rebuild untagged, removed at the end (children before parents: taxo-shadow
# is built FROM taxo-node), unless a container still uses them, so rebuilding leaves no
# dangling images behind.
REPLACED=()
note_replaced() {
    local image=$1 old=$2
    [ -n "$old" ] || return 0
    [ "$old" != "$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null)" ] || return 0
    REPLACED=("$old" "${REPLACED[@]}")
}
drop_replaced() {
    local old
    for old in "${REPLACED[@]}"; do
        # Removing a child also removes its untagged parents: skip those already gone.
        docker image inspect "$old" >/dev/null 2>&1 || continue
        docker rmi "$old" >/dev/null 2>&1 || say "kept the replaced image $old: still in use"
    done
}

# Build IMAGE from the context directory CTX (which holds a Dockerfile); T0 is when the
# image's preparation (compiling, copying) began, for the time reported.
T0=0
build() {
    local image=$1 hash=$2 ctx=$3 old
    old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    # The legacy builder warns on stderr that it is deprecated: show stderr only on failure.
    if ! docker build -q --force-rm --label "$KIND" --label "diagnose.test.inputs=$hash" \
        -t "$image" "$ctx" >"$WORK/build.log" 2>&1; then
        cat "$WORK/build.log" >&2
        say "building $image failed"
        exit 1
    fi
    note_replaced "$image" "$old"
    say "built $image in $((SECONDS - T0)) s"
}

# Copy FILES into ROOT at the same paths (following symlinks), with every library ldd lists.
copy_with_libs() {
    local root=$1; shift
    local f lib
    for f in "$@"; do
        cp -L --parents "$f" "$root"
        for lib in $(ldd "$f" 2>/dev/null | awk '/=> \// {print $3} /^\t\// {print $1}'); do
            [ -e "$root$lib" ] || cp -L --parents "$lib" "$root"
        done
    done
}

crash_image() {
    T0=$SECONDS
    local image=diagnose-test/taxo-crash:latest
    local srcs=("$SRC/doublefree.c" "$SRC/assert.c" "$SRC/throw.cpp" "$SRC/shmfill.c"
                "$SRC/spawn.c" "$SRC/segv.c" "$SRC/noshebang.sh")
    local hash
    hash=$(inputs_hash "$(gcc --version | head -n 1)" "${srcs[@]}")
    up_to_date "$image" "$hash" && { say "$image is up to date"; return 0; }
    local ctx=$WORK/crash
    mkdir -p "$ctx"
    # Compile from inside $SRC so assert() names "assert.c", not a host path.
    (cd "$SRC" && gcc -static -O0 -o "$ctx/doublefree" doublefree.c \
        && gcc -static -O0 -o "$ctx/assert" assert.c \
        && g++ -static -O0 -o "$ctx/throw" throw.cpp \
        && gcc -static -O0 -o "$ctx/shmfill" shmfill.c \
        && gcc -static -O0 -pthread -o "$ctx/spawn" spawn.c \
        && gcc -static -O0 -o "$ctx/segv" segv.c)
    cp "$SRC/noshebang.sh" "$ctx/noshebang.sh"
    cat >"$ctx/Dockerfile" <<EOF
FROM $BASE
COPY doublefree assert throw shmfill spawn segv noshebang.sh /usr/local/bin/
RUN chmod 755 /usr/local/bin/*
EOF
    build "$image" "$hash" "$ctx"
}

node_image() {
    T0=$SECONDS
    local image=diagnose-test/taxo-node:latest node
    node=$(readlink -f "$(command -v node)")
    local hash
    hash=$(inputs_hash "$(node --version) $node $(stat -c %s "$node")" "$SRC/heap.js")
    up_to_date "$image" "$hash" && { say "$image is up to date"; return 0; }
    local ctx=$WORK/node
    mkdir -p "$ctx/root/usr/local/bin" "$ctx/root/opt"
    copy_with_libs "$ctx/root" "$node"
    [ "$node" = /usr/local/bin/node ] || mv "$ctx/root$node" "$ctx/root/usr/local/bin/node"
    cp "$SRC/heap.js" "$ctx/root/opt/heap.js"
    cat >"$ctx/Dockerfile" <<EOF
FROM $BASE
COPY root/ /
CMD ["node"]
EOF
    build "$image" "$hash" "$ctx"
}

shadow_image() {
    T0=$SECONDS
    local image=diagnose-test/taxo-shadow:latest
    local files=("$SRC/shadow/server.js" "$SRC/shadow/node_modules/express/index.js"
                 "$SRC/shadow/node_modules/express/package.json" "$SRC/shadow/start.sh")
    local hash
    hash=$(inputs_hash "$(docker image inspect -f '{{.Id}}' diagnose-test/taxo-node:latest)" \
        "${files[@]}")
    up_to_date "$image" "$hash" && { say "$image is up to date"; return 0; }
    local ctx=$WORK/shadow
    mkdir -p "$ctx"
    cp -r "$SRC/shadow" "$ctx/app"
    cat >"$ctx/Dockerfile" <<EOF
FROM diagnose-test/taxo-node:latest
COPY app/ /app/
RUN chmod 755 /app/start.sh
WORKDIR /app
ENTRYPOINT ["/app/start.sh"]
CMD ["node", "server.js"]
EOF
    build "$image" "$hash" "$ctx"
}

postgres_image() {
    T0=$SECONDS
    local image=diagnose-test/taxo-postgres:latest
    local hash
    hash=$(inputs_hash "$("$PGBIN/postgres" --version) $PGBIN" "$SRC/pg-entrypoint.sh")
    up_to_date "$image" "$hash" && { say "$image is up to date"; return 0; }
    local ctx=$WORK/postgres root
    root=$ctx/root
    mkdir -p "$root"
    copy_with_libs "$root" "$PGBIN/postgres" "$PGBIN/initdb" "$PGBIN/pg_isready" "$PGBIN/psql" \
        "$PGBIN/../lib/plpgsql.so" "$PGBIN/../lib/dict_snowball.so"
    # initdb reads the catalog files and the plpgsql extension; postgres reads timezone sets
    # and (Debian builds use the system tz database) the UTC zone.
    local share=/usr/share/postgresql/$PGVER
    mkdir -p "$root$share/extension"
    cp -r "$share/timezonesets" "$share/tsearch_data" "$root$share/"
    cp "$share"/*.bki "$share"/*.sql "$share"/*.sample "$share"/*.txt "$root$share/"
    cp "$share"/extension/plpgsql* "$root$share/extension/"
    local z
    for z in UTC Etc/UTC GMT Etc/GMT; do cp -L --parents "/usr/share/zoneinfo/$z" "$root"; done
    mkdir -p "$root/usr/local/bin" "$root/var/run/postgresql" "$root/var/lib/postgresql/data"
    cp "$SRC/pg-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
    cat >"$ctx/Dockerfile" <<EOF
FROM $BASE
COPY root/ /
RUN echo 'postgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh' >>/etc/passwd \
 && echo 'postgres:x:999:' >>/etc/group \
 && chown -R 999:999 /var/run/postgresql /var/lib/postgresql \
 && chmod 700 /var/lib/postgresql/data && chmod 755 /usr/local/bin/docker-entrypoint.sh
ENV PATH=$PGBIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data TZ=UTC PG_MAJOR=$PGVER
VOLUME /var/lib/postgresql/data
USER postgres
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
    build "$image" "$hash" "$ctx"
}

arm64_image() {
    # `docker import --platform` is ignored by a single-platform engine, so write the image
    # archive (docker save format) ourselves, with "architecture": "arm64" in its config.
    local image=diagnose-test/taxo-arm64:latest
    local hash
    hash=$(inputs_hash "" "$SRC/foreign_elf.py")
    up_to_date "$image" "$hash" && { say "$image is up to date"; return 0; }
    local dir=$WORK/arm64 old
    T0=$SECONDS
    old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    mkdir -p "$dir/root/usr/local/bin" "$dir/root/tmp"
    chmod 1777 "$dir/root/tmp"
    python3 "$SRC/foreign_elf.py" "$dir/root/usr/local/bin/app"
    tar -C "$dir/root" --owner=0 --group=0 --numeric-owner -cf "$dir/layer.tar" .
    local diff cfg
    diff=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
    cat >"$dir/config.json" <<EOF
{"architecture":"arm64","variant":"v8","os":"linux","created":"2024-01-01T00:00:00Z",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  "Entrypoint":["/usr/local/bin/app"],
  "Labels":{"diagnose.test.images":"taxonomy","diagnose.test.inputs":"$hash"}},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff"]},
 "history":[{"created":"2024-01-01T00:00:00Z","created_by":"scripts/images.sh (aarch64 ELF)"}]}
EOF
    cfg=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
    mv "$dir/config.json" "$dir/$cfg.json"
    printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]\n' "$cfg" "$image" \
        >"$dir/manifest.json"
    tar -C "$dir" -cf - manifest.json "$cfg.json" layer.tar | docker load -q >/dev/null
    note_replaced "$image" "$old"
    say "built $image in $((SECONDS - T0)) s"
}

t_all=$SECONDS
crash_image
node_image
shadow_image
postgres_image
arm64_image
[ ${#REPLACED[@]} -eq 0 ] || drop_replaced
say "images ready in $((SECONDS - t_all)) s"
