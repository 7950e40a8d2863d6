"""The pipeline every run feeds: redact -> analyse -> archive, then the report and its bundle.

sink.py is :class:`~diagnose.pipeline.sink.Pipeline`, fed one target at a time by live runs
and replays alike; replay.py feeds it a bundle's members (`diagnose analyze`, `diagnose
redact`); report.py builds the report from a run's :class:`~diagnose.pipeline.report.RunFacts`;
publish.py writes the head files and the manifest and publishes after the rescan.

DESIGN: the pipeline joins the stages (redact, analysis, render, bundle), none of which
imports another; it never talks to the engine.
"""
