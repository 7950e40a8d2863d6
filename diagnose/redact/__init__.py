"""Redaction: every byte that enters the bundle or stdout goes through the
:class:`~diagnose.redact.redactor.Redactor` first.

redactor.py reads documents (JSON by field name, command lines by option, logs line by line
with lines.py); text.py redacts strings and learns values; rules.py and scan.py are the
built-in rules and their linear-time scanners; values.py tells weak values from strong ones
(weak_passwords.txt); argv.py reads command lines; user.py runs the user's RE2 patterns.

DESIGN: a value found once is learned and replaced everywhere, as a whole token, in every
spelling; the rescan of a finished bundle (:mod:`diagnose.bundle.rescan`) uses the same
knowledge.  Redaction imports model and evidence only.
"""
