"""D712: A password (or other secret) of the container is a common word or a default.

What went wrong
    A variable, label, command-line option, healthcheck or URL of the container holds a
    secret that anyone could guess: a default such as `root`, `postgres`, `admin`,
    `changeme`, `secret`, `1234`, a word of letters only or digits only of up to 10
    characters, or anything shorter than 4 characters.  `MYSQL_ROOT_PASSWORD=root` and
    `POSTGRES_PASSWORD=postgres` are the usual development setups; they are fine on a laptop
    and a liability anywhere the port is reachable.  The finding names WHERE the secret is
    (the variable, the option, the URL's variable), never the value.

    Redaction found it: such a value is replaced where it stands as the secret (the
    variable's value, the option's argument, the URL's password) but not searched for in
    every other file, because the same word also occurs in image names, paths and log lines
    ("password authentication failed for user postgres") that must stay readable.  The
    redaction report says how many values were handled that way.  Read from
    `redaction.json` next to the container's inspect.json (written by the redaction stage,
    names only; `diagnose redact` and `diagnose analyze` of an -UNREDACTED bundle write it
    again).

How to confirm by hand
    docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' NAME | grep -i -e pass -e secret
    docker inspect -f '{{json .Config.Healthcheck}}' NAME

Fix
    Use a long random secret (`openssl rand -base64 24`), and give it to the container as a
    file rather than a variable where the image supports it (`POSTGRES_PASSWORD_FILE`,
    `MYSQL_ROOT_PASSWORD_FILE`, Compose or Swarm secrets under /run/secrets), so it is not in
    `docker inspect` either.  Change it in the database too: the variable is usually only
    read when the data directory is first initialised.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from diagnose.api import (inspect_evidence, q, check, ContainerEvidence, Evidence, fact, Finding,
                          layout, Remediation, Severity)

#: The inspect field a weak secret was found in, as people call it.
_FIELDS = {"Env": "environment", "Labels": "label", "Cmd": "command", "Args": "command",
           "Path": "command", "Entrypoint": "entrypoint", "Test": "healthcheck",
           "Shell": "shell"}


def _field(item: Mapping[str, Any]) -> str:
    field = str(item.get("field", ""))
    return _FIELDS.get(field, field or "inspect")


def where(item: Mapping[str, Any]) -> str:
    """`MYSQL_ROOT_PASSWORD (environment)`, `curl -u (healthcheck)`, `the URL in
    DATABASE_URL (environment)`."""
    kind, name = str(item.get("kind", "")), str(item.get("name", ""))
    field = _field(item)
    if kind == "url":
        return f"the password of the URL in {name or field}" + (f" ({field})" if name else "")
    if kind == "setting":
        return f"{name} ({field})"
    return f"{name or kind} ({field})"


@check("D712", "weak-default-password", severity=Severity.INFO, requires=("inspect",))
def weak_default_password(c: ContainerEvidence) -> Iterator[Finding]:
    """redaction.json: the weak secrets the redaction stage found in inspect.json."""
    doc = c.json(layout.REDACTION)
    weak = [w for w in (doc.get("weak") if isinstance(doc, dict) else None) or ()
            if isinstance(w, Mapping)]
    if not weak:
        return
    places = [where(w) for w in weak]
    evidence = [Evidence(file=c.path(layout.REDACTION), pointer=f"/weak/{i}",
                         excerpt=f"{places[i]}: {w.get('why', '')}")
                for i, w in enumerate(weak[:8])]
    env = [str(e) for e in c.config.get("Env") or ()]
    for w in weak[:8]:  # the variable itself, its value a placeholder
        if w.get("kind") == "env" and w.get("field") == "Env":
            i = next((n for n, e in enumerate(env) if e.startswith(f"{w.get('name')}=")), -1)
            if i >= 0:
                evidence.append(inspect_evidence(c, f"/Config/Env/{i}"))
    title = (f"{places[0]} holds a weak or default password" if len(weak) == 1 else
             f"weak or default passwords in {len(weak)} places: " + ", ".join(places[:3])
             + (", ..." if len(weak) > 3 else ""))
    yield Finding(
        title=title,
        facts=tuple(fact(str(w.get("name") or w.get("kind", "")),
                         f"{_field(w)}: {w.get('why', '')}") for w in weak[:8])
        + ((fact("more", f"{len(weak) - 8} more places"),) if len(weak) > 8 else ()),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Use a long random secret, given as a file (a *_FILE variable, Compose or Swarm "
            "secrets) rather than a variable; change it where it is stored too.",
            ("openssl rand -base64 24",
             f"docker inspect -f '{{{{json .Config.Healthcheck}}}}' {q(c.name)}"),
        ),
    )
