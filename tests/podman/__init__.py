"""diagnose against a real Podman service (`podman system service`, scripts/podman.sh)."""
