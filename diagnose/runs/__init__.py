"""diagnose.runs."""
