"""diagnose.analysis."""
