"""The command line: parse and validate options, call :mod:`diagnose.runs`, print the report,
map the outcome to the documented exit code.

app.py is the typer application; main.py registers the commands (run.py, engine.py,
service.py, analyze.py, catalogue.py) and exits; options.py declares every option once and
common.py what every command does around its work (one-line errors, colour, output, the
shared options of the collecting commands); values.py parses option values; config.py reads
the configuration file; progress.py shows progress on stderr.

DESIGN: thin on purpose; a command's machinery is imported only when it runs (start-up cost),
and errors never end in a traceback.
"""
