"""diagnose: walk the "what went wrong" tree for a Docker container and write a support bundle.

Stages: collect (the only code that talks to the engine or host) -> redact -> analyse (pure
checks over the evidence snapshot) -> render/archive.  See README.md for the bundle layout.
"""

__version__ = "0.1.0"
