"""D512: Nodes cannot get the service's image, so its tasks are rejected.

What went wrong
    Each node pulls the service's image itself before it creates the task's container.  When
    the image is not on the node and no registry gives it (a name only built on one machine,
    a typo in the name or tag, a private registry without credentials, a registry that cannot
    be reached), the node rejects the task: `No such image: NAME:TAG`, `pull access denied`,
    `manifest unknown`.  The orchestrator then creates another task after the restart delay,
    and it is rejected the same way.  This finding names the image as the spec gives it,
    whether it is pinned to a digest (`docker service create` warns when it cannot resolve the
    image on a registry, which means every node must find it by itself), the error text and the
    nodes that said it.

How to confirm by hand
    docker service ps --no-trunc NAME     # Rejected ... "No such image: ..."
    docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' NAME
    docker image ls IMAGE                  # on each node that rejected it
    docker pull IMAGE                      # does a registry serve it?

Look-alikes told apart
    A task whose image is there but whose container fails is `task-failing`; a task that was
    never placed is `no-suitable-node` or `node-down`.  `pull access denied` and
    `unauthorized` mean the registry answered but refused: credentials
    (`--with-registry-auth`), not a missing image.

Fix
    Push the image to a registry every node can reach and point the service at it, or load
    it on every node (`docker save`/`docker load`), or fix the name; pass credentials with
    `docker service update --with-registry-auth`.  `docker service update --rollback NAME`
    returns to the previous image.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from diagnose.api import (counted, current_of, IMAGE_ERROR, lazy_compile, newest, q, spec_evidence,
                          task_evidence, tasks_of, check, fact, Finding, Remediation,
                          ServiceEvidence, Severity)

_AUTH = lazy_compile(r"pull access denied|unauthorized|requested access to the resource is denied",
                     re.IGNORECASE)


@check("D512", "image-unavailable", severity=Severity.ERROR, requires=("service", "tasks"),
       scope="service")
def image_unavailable(s: ServiceEvidence) -> Iterator[Finding]:
    """Tasks rejected because their node could not get the image."""
    rejected = tasks_of(s, "image")
    if not rejected:
        return
    latest = rejected[0]
    now = current_of(s, "image")
    image = s.image
    name, _, digest = image.partition("@")
    auth = bool(_AUTH.search(latest.error))
    facts = [
        fact("image (service spec)", image),
        fact("pinned to a digest", f"yes ({digest})" if digest else
             "no: each node resolves the name by itself"),
        fact("tasks rejected (kept by the managers)", len(rejected)),
        fact("slots failing now", len(now)),
        fact("error", latest.error),
        fact("nodes", counted(s.hostname(t.node_id) for t in rejected if t.node_id) or "-"),
        fact("kind", "the registry refused (credentials or access)" if auth
             else "the image was not found"),
    ]
    evidence = [task_evidence(s, t, "Status", "Err") for t in newest(rejected)]
    evidence.append(spec_evidence(s, "/Spec/TaskTemplate/ContainerSpec/Image", image))
    commands = [f"docker service ps --no-trunc {q(s.name)}", f"docker image ls {q(name)}",
                f"docker pull {q(image)}"]
    if auth:
        commands.append(f"docker service update --with-registry-auth --image {q(image)} "
                        f"{q(s.name)}")
    else:
        commands.append(f"docker service update --image {q('REGISTRY/' + name)} {q(s.name)}")
    if s.inspect.get("PreviousSpec"):
        commands.append(f"docker service update --rollback {q(s.name)}")
    said = IMAGE_ERROR.search(latest.error)
    yield Finding(
        title=(f"{len(rejected)} task(s) of {s.name} rejected: nodes cannot get image {image}"
               + (f" ({said.group(0)})" if said else "")),
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Give every node the image: push it to a registry they can all reach (and pass "
            "credentials with --with-registry-auth), or fix its name; roll back if an update "
            "brought the new image.", tuple(commands)),
        severity=Severity.ERROR if now else Severity.WARNING,
    )
