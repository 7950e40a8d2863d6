"""diagnose.model."""
