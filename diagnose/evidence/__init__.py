"""diagnose.evidence."""
