"""Analysis: finding the checks and running them over the evidence.

registry.py finds checks (the built-in package and the `diagnose.checks` entry points) and
validates them; runner.py runs them, one loop for every scope, an exception becoming an
ERRORED outcome; targets.py analyses one container (its checks, its decision path of path.py,
its report); services.py one Swarm service.

DESIGN: analysis builds :mod:`diagnose.model.report` values from evidence, without I/O and
without knowing how the evidence was collected or where the report goes.
"""
