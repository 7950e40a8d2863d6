"""diagnose.evidence.readings."""
