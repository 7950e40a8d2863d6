"""diagnose.bundle."""
