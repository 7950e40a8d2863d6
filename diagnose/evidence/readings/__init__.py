"""Readings: what the evidence means, written once for every check that asks.

One module per subject: common.py (signals, events, evidence pointers, commands), lifecycle.py
(the latest run, state and exit code in words), start.py and exec_failure.py (why it did not
start or exec), start_facts.py (what every start finding carries), exit.py (kill story, the
one check that explains an exit), log_signatures.py and log_facts.py (what the logs say and
what they are about), swarm.py, engine.py and security.py.

DESIGN: checks are independent and never see each other's results, so look-alikes are told
apart here (a CRLF shebang is `bad-shebang-crlf`, never also `app-exit-error`), and readings
name causes with :class:`diagnose.model.causes.Cause`.  Pure functions of the evidence; the
order of the modules above is their import order (a later one may use an earlier one).
"""
