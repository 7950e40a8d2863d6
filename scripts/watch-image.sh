#!/usr/bin/env bash
# Build the `diagnose watch` container image (the repository's Dockerfile) with no registry:
#   1. wheels: diagnose's own (from this checkout), its dependencies' and pip's, into
#      build/image/wheels (pip downloads the dependencies from the configured index once);
#   2. the base: BASE if given, else diagnose-base/python:3.11, made here from the host's
#      /usr/bin/python3.11, its standard library and every shared library they load (ldd),
#      on top of diagnose-test/busybox (a shell for the RUN step);
#   3. docker build --build-arg BASE=... -t ${TAG:-diagnose:latest}.
# Usage: [BASE=image] [TAG=diagnose:latest] scripts/watch-image.sh
set -euo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."
TAG=${TAG:-diagnose:latest}
LABELS=(--label "${IMAGE_LABEL:-diagnose.image=watch}")
CTX=build/image
PY=${PYTHON:-.venv/bin/python}
say() { printf 'watch-image.sh: %s\n' "$*" >&2; }

rm -rf "$CTX" && mkdir -p "$CTX/wheels"
cp Dockerfile "$CTX/"
say "wheels"
"$PY" -m pip wheel -q --disable-pip-version-check -w "$CTX/wheels" . >/dev/null
"$PY" -m pip download -q --disable-pip-version-check --no-deps -d "$CTX/wheels" pip >/dev/null

if [ -z "${BASE:-}" ]; then
    BASE=diagnose-base/python:3.11
    if ! docker image inspect "$BASE" >/dev/null 2>&1; then
        say "base image $BASE from the host's python3.11"
        ROOT=$(mktemp -d)
        trap 'rm -rf "$ROOT"' EXIT
        PYBIN=/usr/bin/python3.11
        mkdir -p "$ROOT/usr/bin" "$ROOT/usr/lib"
        cp -a "$PYBIN" "$ROOT/usr/bin/python3.11"
        ln -s python3.11 "$ROOT/usr/bin/python3"
        # The standard library, without its tests, IDE and Tk, and without Debian's
        # EXTERNALLY-MANAGED marker: in the image, pip installs into this Python.
        tar -C /usr/lib --exclude='python3.11/test' --exclude='__pycache__' \
            --exclude='python3.11/idlelib' --exclude='python3.11/tkinter' \
            --exclude='EXTERNALLY-MANAGED' -cf - python3.11 | tar -C "$ROOT/usr/lib" -xf -
        # Every library the interpreter and its extension modules load, and what manylinux
        # wheels expect from the system (libstdc++, libgcc_s, glibc's compatibility stubs).
        { ldd "$PYBIN"; find /usr/lib/python3.11/lib-dynload -name '*.so' -exec ldd {} \; ; } \
            | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | sort -u > "$ROOT/libs"
        for extra in /lib/x86_64-linux-gnu/{libstdc++.so.6,libgcc_s.so.1,libpthread.so.0,\
libdl.so.2,librt.so.1,libutil.so.1}; do
            [ -e "$extra" ] && echo "$extra" >> "$ROOT/libs"
        done
        while read -r lib; do
            mkdir -p "$ROOT$(dirname "$lib")"
            cp -L "$lib" "$ROOT$lib"
        done < "$ROOT/libs"
        rm "$ROOT/libs"
        printf 'FROM diagnose-test/busybox:latest\nCOPY . /\n' > "$ROOT/Dockerfile"
        docker build -q --label diagnose.image=python-base -t "$BASE" "$ROOT" >/dev/null
    fi
fi
say "image $TAG from $BASE"
docker build -q "${LABELS[@]}" --build-arg "BASE=$BASE" -t "$TAG" "$CTX" >/dev/null
say "built $TAG"
