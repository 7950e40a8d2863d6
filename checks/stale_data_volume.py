"""D412: The database refuses its data directory: it was written by another major version.

What went wrong
    A database image was upgraded (or downgraded) while its data stayed on a volume or bind
    mount written by the old major version, which the new server cannot read without an
    upgrade step.  The servers say so themselves, and exit:

        PostgreSQL  FATAL:  database files are incompatible with server
                    DETAIL:  The data directory was initialized by PostgreSQL version 14,
                    which is not compatible with this version 15.18
        MySQL 8     [InnoDB] Cannot boot server version 80023 on data directory built by
                    version 80029. Downgrade is not supported
        MongoDB     UPGRADE PROBLEM: Found an invalid featureCompatibilityVersion document
                    ("msg":"Wrong mongod version", exit 62)
        Elastic     cannot upgrade a node from version [7.13.3] directly to version [8.2.2]

    Typical trigger: an unpinned tag (`postgres:latest`, `mysql`) that moved to a new major
    version, or a Compose file whose image tag was bumped without migrating the volume.

How to confirm by hand
    docker logs --tail 30 NAME
    docker inspect -f '{{.Config.Image}} {{json .Mounts}}' NAME
    docker run --rm -v VOLUME:/d busybox cat /d/PG_VERSION       (PostgreSQL's data version)

Look-alikes told apart
    `app-exit-error` for a data directory the server cannot initialise (`initdb: error:
    directory ... exists but is not empty` because of `lost+found` in a mount point);
    `permission-denied` for data files owned by another user; `missing-env-var` for a
    server that refuses to initialise without a password.

Fix
    Run the image of the version that wrote the data (pin the tag), then migrate: PostgreSQL
    `pg_upgrade` or `pg_dumpall` into the new version, MySQL an in-place upgrade through each
    major version (downgrades are not supported), MongoDB `setFeatureCompatibilityVersion`
    one major version at a time, Elasticsearch through the last minor release of the old
    major.  Back the volume up first.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (data_dir, hits_evidence, hits_facts, inspect_evidence, log_severity,
                          logs_command, mount_for, q, scan_log, stale_versions, Cause, check,
                          ContainerEvidence, fact, Finding, Remediation, Severity)

SLUG = Cause.STALE_DATA_VOLUME


@check("D412", SLUG, severity=Severity.ERROR, requires=("inspect", "logs"))
def stale_data_volume(c: ContainerEvidence) -> Iterator[Finding]:
    """A database's own refusal of a data directory of another major version."""
    hits = scan_log(c, SLUG)
    if hits is None:
        return
    versions = stale_versions(ln.text for ln in hits.lines)
    path = data_dir(c)
    where = mount_for(c, path) if path else None
    facts = []
    if versions:
        facts += [fact("data directory written by", f"version {versions[0]}"),
                  fact("server version", versions[1])]
    facts.append(fact("image", c.image_ref or "?"))
    if where is not None and path:
        facts.append(fact("data directory", f"{path} on {where.describe()}"))
    facts += hits_facts(hits)
    evidence = hits_evidence(c, hits)
    if where is not None and where.pointer:
        evidence.append(inspect_evidence(c, where.pointer))
    old = f" {versions[0]}" if versions else ""
    title = (f"the data directory was written by another major version{old}"
             + (f" than the server's {versions[1]}" if versions else "")
             + (f" ({where.describe()})" if where is not None else "")
             + ": the server refuses it")
    source = where.source if where is not None and where.source else "VOLUME"
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Pin the image to the major version that wrote the data, back the volume up, then "
            "migrate it with the database's own upgrade path (pg_upgrade or dump and restore, "
            "MySQL's in-place upgrade, MongoDB's setFeatureCompatibilityVersion).",
            (logs_command(c),
             f"docker inspect -f '{{{{json .Mounts}}}}' {q(c.name)}",
             f"docker run --rm -v {q(source)}:/d {q(c.image_ref or 'IMAGE')} ls -la /d"),
        ),
        severity=log_severity(c, hits),
    )
