"""The values every stage shares, and nothing else: the bottom layer.

Findings, outcomes and report types (findings.py, report.py), what a check is (checks.py),
the causes readings name (causes.py), the errors that end a run with their exit codes
(errors.py), a run's options (options.py), every bound (limits.py), and the small helpers
written once: text and sizes (text.py), times (times.py), JSON read type-tolerantly
(jsonview.py) or measured before parsing (jsonscan.py), walking and escaping strings
(walk.py, escape.py), lazily compiled patterns (lazyre.py), and signals and temporary files
(interrupts.py).

DESIGN: model imports nothing from diagnose outside model, and no third-party package: every
other layer may use it, it can use none of them.
"""
