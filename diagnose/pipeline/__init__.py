"""diagnose.pipeline."""
