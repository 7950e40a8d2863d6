"""Compare: what differs between two containers, most likely explanation of a failure first.

`diagnose diff A B` reads each side as the other commands do (a live container through
collection, redaction and analysis; a bundle through replay) and hands both containers'
evidence and reports here.  diff.py builds the :class:`~diagnose.model.diff.Diff`; items.py
is the shape every category is read into and compared in; config.py and image.py read what
decides behaviour (image and its build steps, command, env, user, mounts, ports, networks,
limits, healthcheck, capabilities, security, labels, the engine); outcome.py how each side
is doing (state, findings, log line shapes); rank.py links differences to the failing side's
findings and orders them.

DESIGN: a stage like analysis: pure functions of evidence and reports (no I/O, no clock, no
engine), reading the evidence and model layers only.  Values are redacted evidence: a
secret is compared by its placeholder and never printed (see items.py).
"""
