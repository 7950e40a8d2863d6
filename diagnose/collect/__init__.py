"""Collection: the only stage that talks to the Docker engine (docker SDK) or the host (psutil).

It produces evidence files and collector records; nothing downstream calls the engine.
"""
