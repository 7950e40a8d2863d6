# diagnose in a container, for `diagnose watch` as a long-lived service (README, "diagnose watch").
#
# Builds without a registry: BASE is any image with CPython 3.11+ (python:3.12-slim where a
# registry is reachable; here scripts/watch-image.sh makes diagnose-base/python:3.11 from the
# host's own Python), and the wheels (diagnose's and its dependencies', plus pip's own) come
# from the build context's wheels/ directory, so nothing is downloaded while building.
#
#   scripts/watch-image.sh                      # wheels + base + this image: diagnose:latest
#   docker run -d --name diagnose-watch --restart unless-stopped \
#     -v /var/run/docker.sock:/var/run/docker.sock:ro \
#     -v /var/lib/diagnose:/var/lib/diagnose diagnose:latest
ARG BASE=python:3.12-slim
FROM ${BASE}
COPY wheels/ /tmp/wheels/
# pip runs from its own wheel (the base needs no pip), offline, from wheels/ only.
RUN PIP=$(ls /tmp/wheels/pip-*.whl) \
 && python3 "$PIP/pip" install --no-cache-dir --no-index --find-links /tmp/wheels \
      --disable-pip-version-check --root-user-action=ignore diagnose \
 && rm -rf /tmp/wheels
# The bundles and the event journal live in the volume; watch needs nothing else writable.
VOLUME /var/lib/diagnose
WORKDIR /var/lib/diagnose
ENV DIAGNOSE_JOURNAL=/var/lib/diagnose/journal
STOPSIGNAL SIGTERM
ENTRYPOINT ["python3", "-m", "diagnose", "watch", "--output", "/var/lib/diagnose"]
