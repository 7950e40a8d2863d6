"""The evidence as checks and renderers see it: views over the bundle's bytes.

layout.py names every path of a bundle; records.py what each collector did; target.py,
container.py and service.py one target's files (a container, a Swarm service), engine.py the
engine's and host's, snapshot.py the whole run's; entrypoint.py types entrypoint.json; logs.py
and logwindow.py split a log into numbered lines through its analysed window; incidents.py
what `diagnose watch` counts as a failure in the event stream.  readings/ holds
the pure functions that classify evidence and word findings, by subject.

DESIGN: the views are parsed from exactly the bytes the archive writer stores, so a live run
and `diagnose analyze` feed the checks identical input.  Nothing here talks to the engine or
reads the clock; evidence imports model only.
"""
