"""The sample migration: the new revision's image, run once before that revision scales up.

A real service would apply its schema changes here (idempotently: a rolled-back deployment runs
it again next time). This one says what it would do and exits 0, which continues the deployment;
any other exit code rolls it back.
"""

from __future__ import annotations

import json
import os
import sys


def run() -> dict[str, str]:
    """What the migration did."""
    return {"migrate": os.environ.get("SERVICE_NAME", "migrate"), "applied": "nothing to apply"}


def main() -> int:
    sys.stdout.write(json.dumps(run()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
