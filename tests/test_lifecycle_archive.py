"""Prod archives release images instead of counting them away; dev never archives.

docs/lifecycle.md shows prod's rendered release policy and its offline preview on a sample image
set; both are compared here with what the stack renders and what the evaluator says.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from cli.lifecycle.cli import _table
from rules import lifecycle
from rules.lifecycle.evaluate import preview_lifecycle_policy
from settings import load
from settings.source import from_files
from tests.conftest import STACKS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "lifecycle.md"
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def policies(stack: str) -> dict[str, dict[str, Any]]:
    settings = load(from_files(stack, stack_dir=STACKS))
    return {r.service: json.loads(r.lifecycle_policy) for r in settings.registry.repositories}


def doc_block(marker: str) -> str:
    """The fenced block right after `<!-- marker -->` in docs/lifecycle.md."""
    found = re.search(rf"<!-- {marker} -->\n```\w*\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert found, marker
    return found.group(1)


def archive(prefix: str, priority: int) -> dict[str, Any]:
    return {
        "rulePriority": priority,
        "description": f"archive {prefix} images not pulled for 90 days",
        "selection": {
            "tagStatus": "tagged",
            "tagPrefixList": [prefix],
            "countType": "sinceImagePulled",
            "countUnit": "days",
            "countNumber": 90,
        },
        "action": {"type": "transition", "targetStorageClass": "archive"},
    }


def test_prod_worker_archives_release_images_and_expires_them_a_year_later() -> None:
    rules = policies("prod")["worker"]["rules"]
    assert [r["rulePriority"] for r in rules] == list(range(1, 11))
    assert rules[0]["selection"]["tagPrefixList"] == ["prod-running-"]
    assert rules[1]["selection"] == {
        "tagStatus": "tagged",
        "tagPrefixList": ["prod-"],
        "countType": "imageCountMoreThan",
        "countNumber": 10,
    }
    assert rules[1]["action"] == {"type": "transition", "targetStorageClass": "archive"}
    assert rules[2]["selection"]["tagPatternList"] == ["buildcache"]
    assert rules[3:6] == [archive("v", 4), archive("release", 5), archive("prod", 6)]
    assert rules[9] == {
        "rulePriority": 10,
        "description": "expire archived images after 365 days",
        "selection": {
            "tagStatus": "any",
            "storageClass": "archive",
            "countType": "sinceImageTransitioned",
            "countUnit": "days",
            "countNumber": 365,
        },
        "action": {"type": "expire"},
    }
    assert json.loads(doc_block("prod-release-policy")) == policies("prod")["worker"]


def test_the_committed_prod_stack_uses_the_same_preset_as_the_fixture() -> None:
    def worker(path: Path) -> Any:
        services = yaml.safe_load(path.read_text())["config"]["ecr-fargate:services"]
        return next(s for s in services if s["name"] == "worker")["lifecycle"]

    assert worker(ROOT / "Pulumi.prod.yaml") == worker(STACKS / "Pulumi.prod.yaml")
    assert worker(ROOT / "Pulumi.prod.yaml") == {"preset": "release-archive"}


def test_dev_never_archives() -> None:
    for service, policy in policies("dev").items():
        kinds = {r["action"]["type"] for r in policy["rules"]}
        assert kinds == {"expire"}, service
    for preset in ("keep-last-10", "env-prefixes", "release-channels"):
        assert not lifecycle.protect.archives(lifecycle.preset_policy(preset))


def image(n: int, tags: list[str], pushed_days: float, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "imageDigest": f"sha256:{n:02x}" + "0" * 62,
        "imageTags": tags,
        "imagePushedAt": NOW - timedelta(days=pushed_days),
    }
    for key, days in extra.items():
        found[key] = NOW - timedelta(days=days)
    return found


def sample() -> list[dict[str, Any]]:
    """A year and a half of a worker repository: what the docs' preview table shows."""
    images = [
        image(1, ["prod-1a2b3c4d5e6f7a8b", "v1.0.0"], 560, lastArchivedAt=400),
        image(2, ["buildcache"], 420),
        image(3, ["prod-2b3c4d5e6f7a8b9c", "prod-running-previous"], 300, lastRecordedPullTime=20),
        image(4, ["v1.1.0"], 200, lastRecordedPullTime=120),
        image(5, ["prod-3c4d5e6f7a8b9c0d", "v1.2.0"], 190),
        image(6, ["release-2026.06"], 150, lastRecordedPullTime=10),
    ]
    images[0]["imageStatus"] = "ARCHIVED"
    images += [image(6 + i, [f"prod-{i:x}d5e6f7a8b9c0d1e"], 100 - 9 * i) for i in range(1, 10)]
    images += [image(16, ["dev-0f1e2d3c4b5a6978"], 9), image(17, [], 3)]
    images.append(image(18, ["prod-ad5e6f7a8b9c0d1e", "prod-running-current"], 2))
    return images


def rendered_preview() -> str:
    images = sample()
    results = preview_lifecycle_policy(policies("prod")["worker"], images, now=NOW)
    return _table(results, images, {images[-1]["imageDigest"]}) + "\n"


def test_the_docs_preview_is_the_evaluators() -> None:
    assert doc_block("prod-release-preview") == rendered_preview()
    rows = {line.split()[1]: line.split() for line in rendered_preview().splitlines()[1:]}
    # Literal reading of the table: rule, action.
    assert rows["prod-1a2b3c4d5e6f7a8b,v1.0.0"][3:5] == ["10", "EXPIRE"]
    assert rows["prod-2b3c4d5e6f7a8b9c,prod-running-previous"][3:5] == ["-", "keep"]
    assert rows["v1.1.0"][3:5] == ["4", "TRANSITION"]
    assert rows["prod-3c4d5e6f7a8b9c0d,v1.2.0"][3:5] == ["2", "TRANSITION"]
    assert rows["release-2026.06"][3:5] == ["-", "keep"]
    assert rows["<untagged>"][3:5] == ["9", "EXPIRE"]
