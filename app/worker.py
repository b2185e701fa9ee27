"""The sample worker: the same image as the API, another command (`python /app/worker.pyc`).

It logs a heartbeat, named by the `SERVICE_NAME` the stack sets, every `HEARTBEAT_SECONDS` until
ECS stops the task: SIGTERM ends the loop at once and the process exits 0 well within the task's
stopTimeout.
"""

from __future__ import annotations

import os
import signal
import sys
import threading


def run(stop: threading.Event, interval: float, name: str = "worker") -> int:
    """Beat until `stop` is set; the number of beats (what the tests count)."""
    beats = 0
    while not stop.is_set():
        beats += 1
        sys.stdout.write(f"{name} heartbeat {beats}\n")
        sys.stdout.flush()
        stop.wait(interval)
    sys.stdout.write(f"{name} stopping\n")
    sys.stdout.flush()
    return beats


def main() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    name = os.environ.get("SERVICE_NAME", "worker")
    run(stop, float(os.environ.get("HEARTBEAT_SECONDS", "30")), name)


if __name__ == "__main__":
    main()
