"""Lifecycle evaluator at ECR's quotas (100,000 images, 50 rules), side by side with a full scan.

Run: `make bench` (or `venv/bin/python bench/lifecycle_bench.py`). Prints times and ratios only;
nothing here asserts on time.
"""

from __future__ import annotations

import gc
import math
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.naive_lifecycle import naive_preview
from registry.lifecycle import preview_lifecycle_policy

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def make_images(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    images = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.25:
            tags: list[str] = []
        elif roll < 0.55:
            tags = [f"{rng.choice(['dev', 'prod', 'staging'])}-{i:07x}-{rng.getrandbits(48):012x}"]
        elif roll < 0.75:
            tags = [f"v{rng.randint(0, 9)}.{rng.randint(0, 30)}.{i}"]
        else:
            tags = [
                f"{rng.choice(['feature', 'fix', 'pr', 'release', 'team'])}{rng.randint(0, 49)}-{i}"
            ]
            if rng.random() < 0.2:
                tags.append("latest" if rng.random() < 0.5 else f"sha-{i:x}")
        images.append(
            {
                "imageDigest": f"sha256:{i:064x}",
                "imageTags": tags,
                # Spread over one year whatever n is, so each rule acts on the same share.
                "imagePushedAt": NOW - timedelta(days=365 * (n - i) / n),
            }
        )
    return images


def make_policy() -> dict[str, Any]:
    rules: list[dict[str, Any]] = []

    def add(selection: dict[str, Any]) -> None:
        rules.append(
            {"rulePriority": len(rules) + 1, "selection": selection, "action": {"type": "expire"}}
        )

    for prefix in ("dev-", "prod-", "staging-", "v"):
        add(
            {
                "tagStatus": "tagged",
                "tagPrefixList": [prefix],
                "countType": "imageCountMoreThan",
                "countNumber": 50,
            }
        )
    for k in range(25):
        add(
            {
                "tagStatus": "tagged",
                "tagPrefixList": [f"team{k}-"],
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 3,
            }
        )
    for k in range(19):
        add(
            {
                "tagStatus": "tagged",
                "tagPatternList": [f"*{k}-*"],
                "countType": "imageCountMoreThan",
                "countNumber": 20,
            }
        )
    add(
        {
            "tagStatus": "untagged",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 7,
        }
    )
    add(
        {
            "tagStatus": "any",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 180,
        }
    )
    assert len(rules) == 50
    return {"rules": rules}


def best_of(runs: int, fn: Any) -> float:
    """Inputs are frozen out of the cyclic GC, so earlier data sets don't tax later timings."""
    best = math.inf
    for _ in range(runs):
        gc.collect()
        gc.freeze()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
        gc.unfreeze()
    return best


def at_the_quotas(policy: dict[str, Any]) -> None:
    images = make_images(100_000)
    fast = best_of(3, lambda: preview_lifecycle_policy(policy, images, now=NOW))
    naive = best_of(1, lambda: naive_preview(policy, images, NOW))
    same = {r["imageDigest"] for r in preview_lifecycle_policy(policy, images, now=NOW)} == {
        images[i]["imageDigest"] for i in naive_preview(policy, images, NOW)
    }
    print(f"100,000 images x 50 rules: evaluator {fast:.3f} s, full scan per rule {naive:.3f} s")
    print(f"speed-up: {naive / fast:.1f}x (same results: {same})")


def main() -> None:
    policy = make_policy()
    at_the_quotas(policy)
    print("growth (time / (n log2 n), normalised to n = 12,500):")
    base = None
    for n in (12_500, 25_000, 50_000, 100_000):
        subset = make_images(n)
        t = best_of(3, lambda s=subset: preview_lifecycle_policy(policy, s, now=NOW))
        per = t / (n * math.log2(n))
        base = base or per
        print(f"  n={n:>7,}: {t:.3f} s, ratio {per / base:.2f}")


if __name__ == "__main__":
    main()
