"""Console-script entry point, kept free of heavy imports.

`diagnose --version` must answer in a few tens of milliseconds (runbooks call it), so it is
answered here before typer, the docker SDK or jinja2 are imported; everything else goes to the
typer application in :mod:`diagnose.cli.main`.
"""

from __future__ import annotations

import sys

from diagnose import __version__


def main() -> None:
    """Run the CLI."""
    if sys.argv[1:] in (["--version"], ["-V"]):
        sys.stdout.write(f"diagnose {__version__}\n")
        return
    import os  # startup: `--version` above answers before anything else is imported

    from diagnose.model import interrupts  # startup: as above

    interrupts.install()  # before the slow imports: a signal during them still ends cleanly
    try:
        from diagnose.cli.main import main as cli_main  # startup: typer loads here
    except interrupts.Interrupted as exc:  # nothing was created yet
        os._exit(interrupts.stop(exc))
    cli_main()
