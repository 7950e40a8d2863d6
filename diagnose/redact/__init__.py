"""diagnose.redact."""
