"""D407: A required environment variable is not set.

What went wrong
    The application or its entrypoint needs a variable the container was started without:
    postgres `Database is uninitialized and superuser password is not specified`, mysql/mariadb
    `Database is uninitialized and password option is not specified` (then `You need to specify
    one of MYSQL_ROOT_PASSWORD, ...`), bash `DB_HOST: unbound variable` and ash/dash
    `DB_HOST: parameter not set` (scripts under `set -u`, `${VAR?}`), Python
    `KeyError: 'DB_HOST'` from `os.environ[...]`, Go envconfig `required key DB_HOST missing
    value`.  Config.Env says whether the variable is absent or present but empty (Compose
    interpolation of an unset `${VAR}` yields an empty string, which is not "set" to most
    images).

How to confirm by hand
    docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' NAME | cut -d= -f1
    docker logs --tail 30 NAME

Look-alikes told apart
    A Python `KeyError` for a key that is not read from `os.environ` (no environ lookup in the
    traceback) is an ordinary bug, left to `app-exit-error`.

Fix
    Pass the variable (`-e VAR=value`, `--env-file`, Compose `environment:` / `env_file:`),
    and check that Compose interpolation really resolved (`docker compose config`).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (env_state, env_vars_in, hits_evidence, hits_facts, inspect_evidence,
                          log_severity, LogLine, logs_command, q, scan_log, Cause, check,
                          ContainerEvidence, fact, Finding, Remediation, Severity)

SLUG = Cause.MISSING_ENV_VAR


def _following(c: ContainerEvidence, line: LogLine, count: int = 3) -> tuple[LogLine, ...]:
    return c.lines_after(line, count)


@check("D407", SLUG, severity=Severity.ERROR, requires=("inspect", "logs"))
def missing_env_var(c: ContainerEvidence) -> Iterator[Finding]:
    """Missing-variable messages in the logs, confirmed against Config.Env."""
    hits = scan_log(c, SLUG)
    if hits is None:
        return
    env = c.env
    variables: dict[str, str] = {}
    context: list[LogLine] = []
    quoted = hits.quoted()
    for ln in hits.lines:
        after = _following(c, ln)
        for var in env_vars_in(ln.text, after):
            variables[var] = env_state(env, var)
        if ln in quoted and any(v in " ".join(a.text for a in after) for v in variables):
            context += after
    facts = [fact(f"Config.Env {var}", state) for var, state in list(variables.items())[:8]]
    facts += hits_facts(hits)
    evidence = hits_evidence(c, hits, extra=context)
    evidence.append(inspect_evidence(c, "/Config/Env",
                                     sorted(str(e).split("=", 1)[0] for e in
                                            c.config.get("Env") or ())))
    unset = [v for v, s in variables.items() if s != "set"]
    if unset:
        states = {variables[v] for v in unset}
        how = "is not set" if states == {"not set"} else "is empty or not set"
        title = (f"{unset[0]} {how}" if len(unset) == 1
                 else f"none of {', '.join(unset[:4])} is set")
    elif variables:
        title = (f"the application reports {', '.join(variables)} missing although Config.Env "
                 "sets it (read before it is exported, or under another name?)")
    else:
        title = "a required environment variable is missing"
    example = unset[0] if unset else "VAR"
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Pass the variable when creating the container (a container's environment cannot "
            "be changed afterwards: recreate it), and check Compose interpolation resolved.",
            (logs_command(c),
             f"docker inspect -f '{{{{range .Config.Env}}}}{{{{println .}}}}{{{{end}}}}' "
             f"{q(c.name)}",
             f"docker run -e {example}=... {q(c.image_ref or 'IMAGE')}",
             "docker compose config"),
        ),
        severity=log_severity(c, hits),
    )
