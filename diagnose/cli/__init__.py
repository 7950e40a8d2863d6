"""diagnose.cli."""
