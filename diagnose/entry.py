"""Console-script entry point, kept free of heavy imports.

`diagnose --version` must answer in a few tens of milliseconds (runbooks call it), so it is
answered here before typer, the docker SDK or jinja2 are imported; everything else goes to the
typer application in :mod:`diagnose.cli.main`.
"""

from __future__ import annotations

import gc
import sys

from diagnose import __version__

#: The cyclic garbage collector's first threshold (Python's default is 700 allocations).  A
#: run allocates millions of short-lived objects (parsed JSON, log lines, findings) and few
#: cycles: at 700, collections (nearly all finding nothing) took 6 % of a 50-container run's
#: CPU and 8 % of a 200-container run's, most of it in full collections that walk every
#: object kept for the report; at 10,000 they take about 2 %, and peak memory is unchanged
#: (docs/performance.md).  Cycles are still collected, at the same ratios between
#: generations.
GC_THRESHOLD = 10_000


def main() -> None:
    """Run the CLI."""
    if sys.argv[1:] in (["--version"], ["-V"]):
        sys.stdout.write(f"diagnose {__version__}\n")
        return
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    import os  # startup: `--version` above answers before anything else is imported

    from diagnose.model import interrupts  # startup: as above

    interrupts.install()  # before the slow imports: a signal during them still ends cleanly
    try:
        from diagnose.cli.main import main as cli_main  # startup: typer loads here
    except interrupts.Interrupted as exc:  # nothing was created yet
        os._exit(interrupts.stop(exc))
    cli_main()
