"""What each command does, start to end: live.py (`diagnose CONTAINER`), engine.py, service.py,
analyze.py and redact.py (the offline commands), watch.py (`diagnose watch`: each incident
runs live.run_inspected, the live run's own path; watched.py its helpers, hook.py --exec).

sessions.py holds what the commands share (naming and connecting engines, resolving targets,
the engine section), warmup.py the background loading of the pipeline during a live run.

DESIGN: a command never imports another command; what two share lives in sessions.py or in a
lower layer.  Runs are the only layer that connects to engines and opens bundles.
"""
