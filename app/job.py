"""The sample job: the same image, run by its schedule (or by hand with `jobRunCommands`).

It does one unit of work, logs what it did and exits: 0 on success, which is what ECS records as
the task's exit code.
"""

from __future__ import annotations

import datetime
import json
import os
import sys


def run(now: datetime.datetime) -> dict[str, str]:
    """The job's report: what ran and when."""
    return {"job": os.environ.get("SERVICE_NAME", "job"), "ranAt": now.isoformat()}


def main() -> None:
    sys.stdout.write(json.dumps(run(datetime.datetime.now(datetime.UTC))) + "\n")


if __name__ == "__main__":
    main()
