"""Report templates (jinja2), installed as package data of `diagnose.templates`."""
