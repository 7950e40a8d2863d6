"""diagnose: walk the "what went wrong" tree for a Docker container and write a support bundle.

The folders are the pipeline, and imports go one way, down (README, "Architecture"; enforced
by import-linter, pyproject.toml):

    cli -> runs -> pipeline -> collect | redact | analysis | render | bundle -> evidence -> model

`checks/` (installed as diagnose.checks) sits on :mod:`diagnose.api`, the one surface for check
authors.  :mod:`diagnose.entry` answers `--version` before anything heavy is imported.
"""

__version__ = "0.1.0"
