"""Collection: the only stage that talks to the Docker engine (docker SDK) or the host (psutil).

connect.py finds and connects to an engine; targets.py resolves names; runner.py collects
containers on a bounded pool (container.py, host.py, probe.py with containerfs.py and
fileinfo.py, override.py for --probe, ports.py), section.py the engine section (engine_facts.py,
cleanup.py, host.py), swarm.py a Swarm service; record.py runs each collector and records what
it did; memo.py and pool.py share engine answers and threads.  For `diagnose watch`:
events.py follows the event stream (reconnect, replay), follow.py the logs of `--rm`
containers, journal.py keeps the event journal that every events collection reads back.

DESIGN: it produces evidence files and collector records; nothing downstream calls the
engine.  Collect imports model and evidence only (import-linter keeps docker, psutil and
requests out of every other stage but the runs that connect).
"""
