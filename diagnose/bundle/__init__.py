"""The bundle: writing it, reading it back, and what it holds.

writer.py streams evidence into one gzip stream and publishes it atomically; rescan.py
rereads a finished bundle for learned secrets; reader.py reads one back within the bounds of
:mod:`diagnose.model.limits` (budget.py counts them, manifest_check.py checks the manifest's
shape); manifest.py builds manifest.json; naming.py names the bundle and its directories.

DESIGN: the bundle knows nothing of redaction or analysis: the rescan takes the learned values
and a `leaks` function, the writer takes bytes.  Paths come from
:mod:`diagnose.evidence.layout`, shared with the views that read them.
"""
