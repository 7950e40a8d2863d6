"""Built-in checks: one module per check, found by scanning this package.

Installed as `diagnose.checks`.  Each module's docstring is that check's user documentation
(`diagnose explain ID`).
"""
