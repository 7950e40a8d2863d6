"""D601: The engine speaks a much older (or newer) Docker API than this client.

What went wrong
    Client and engine agree on an API version when they connect: the client asks the engine
    for its newest version (`docker version`: `APIVersion`) and uses that when it is older than
    its own.  Each engine release adds one or two API minor versions (1.41 = Engine 20.10,
    1.43 = 24.0, 1.45 = 26.0, 1.47 = 27.x), so the gap between the client's newest version and
    the negotiated one says how far apart they are in time.  A wide gap means an engine long
    past its end of life (no security fixes), evidence fields the client expects are missing,
    and features (one-shot stats, cgroup v2 facts, newer filters) silently fall back.

    Thresholds (skew = client's newest API minor version minus the negotiated one):
    5 or more minor versions (about two and a half years of releases) is information;
    10 or more (about five years: API 1.35 = Engine 17.12 against 1.45) is a warning.
    A client older than the engine by as much is reported the same way (as information): then
    it is diagnose's own docker SDK that needs upgrading.

How to confirm by hand
    docker version --format \\
      '{{.Server.Version}} API {{.Server.APIVersion}} (min {{.Server.MinAPIVersion}})'

Fix
    Upgrade the engine to a maintained release (or diagnose's docker SDK when it is the older
    side).  Until then, read missing evidence fields as "this engine cannot say".
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (api_minor, engine_evidence, check, fact, Finding, layout, Remediation,
                          Severity, Snapshot)

SKEW_INFO = 5
SKEW_WARNING = 10


@check("D601", "engine-api-skew", severity=Severity.WARNING, requires=("engine-version",),
       scope="run")
def engine_api_skew(snap: Snapshot) -> Iterator[Finding]:
    """Compare the client's newest API version with the one negotiated with the engine."""
    v = snap.engine.version
    client = api_minor(v.get("ClientMaxAPIVersion"))
    engine_api = api_minor(v.get("ApiVersion"))
    negotiated = api_minor(v.get("NegotiatedAPIVersion"))
    used = negotiated if negotiated is not None else engine_api
    if client is None or used is None:
        return
    skew = client - used
    if abs(skew) < SKEW_INFO:
        return
    facts = [
        fact("engine version", v.get("Version", "")),
        fact("engine API version", v.get("ApiVersion", "")),
        fact("engine minimum API version", v.get("MinAPIVersion", "")),
        fact("negotiated API version", v.get("NegotiatedAPIVersion", "")),
        fact("client newest API version", f"{v.get('ClientMaxAPIVersion')} "
             f"({v.get('ClientSDK', 'client')})"),
        fact("skew", f"{abs(skew)} minor versions (info at {SKEW_INFO}, warning at "
             f"{SKEW_WARNING})"),
    ]
    ev = (engine_evidence(layout.ENGINE_VERSION, "/ApiVersion", str(v.get("ApiVersion", ""))),
          engine_evidence(layout.ENGINE_VERSION, "/NegotiatedAPIVersion",
                   str(v.get("NegotiatedAPIVersion", ""))),
          engine_evidence(layout.ENGINE_VERSION, "/ClientMaxAPIVersion",
                   str(v.get("ClientMaxAPIVersion", ""))))
    confirm = ("docker version --format '{{.Server.Version}} API {{.Server.APIVersion}} "
               "(min {{.Server.MinAPIVersion}})'")
    if skew > 0:
        sev = Severity.WARNING if skew >= SKEW_WARNING else Severity.INFO
        title = (f"engine {v.get('Version', '?')} speaks API {v.get('ApiVersion', '?')}, "
                 f"{skew} minor versions behind this client's {v.get('ClientMaxAPIVersion')}: "
                 f"the client negotiated down")
        rem = Remediation(
            "Upgrade the engine to a maintained Docker Engine release; evidence fields newer "
            "than its API are missing from this bundle.", (confirm,))
    else:
        sev = Severity.INFO
        title = (f"this client's docker SDK (API {v.get('ClientMaxAPIVersion')}) is "
                 f"{-skew} minor versions older than the engine's API {v.get('ApiVersion')}")
        rem = Remediation("Upgrade diagnose (and its docker SDK) to see what the newer "
                          "engine reports.", (confirm, "pip install --upgrade docker"))
    yield Finding(title=title, facts=tuple(facts), evidence=ev, remediation=rem, severity=sev,
                  target="engine")
