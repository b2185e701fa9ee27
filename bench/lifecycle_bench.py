"""`make bench`: four ratios, each measured side by side in one run, each checked against its goal
(bench/goals.py): PASS or FAIL per figure, exit status 1 when any goal is missed.

1. The lifecycle evaluator against the naive one (every rule scans every image) at ECR's quotas,
   100,000 images x 50 rules, ten of them `*`-leading tag patterns; and again with a quarter of
   the rules archive-tier (transitions on `sinceImagePulled`, archive expiries on
   `sinceImageTransitioned`) over images with pull times, one in eight archived.
2. Its growth: time / (n log n) at 100,000 images over the same at 12,500 (1.0 is n log n).
3. The program's render of a fixture stack under Pulumi mocks against a bare program that
   registers the same resources and outputs (bench/render_bench.py).

Run: `venv/bin/python bench/lifecycle_bench.py` (`--images`/`--base` for smaller sizes). Only
ratios are meaningful on a shared machine, so only ratios have goals. Not part of `make test`: the
unit suite checks the goal logic on fabricated figures (tests/test_bench.py), never a timing.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.goals import DISAGREEMENTS, GROWTH, RENDER, SPEED_UP, Figure, report
from bench.naive_lifecycle import naive_preview
from bench.render_bench import render_times
from rules.lifecycle import preview_lifecycle_policy

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _tags(rng: random.Random, i: int) -> list[str]:
    roll = rng.random()
    if roll < 0.25:
        return []
    if roll < 0.55:
        env = rng.choice(["dev", "prod", "preprod", "staging"])
        return [f"{env}-{i:07x}-{rng.getrandbits(48):012x}"]
    if roll < 0.75:
        suffix = rng.choice(["", "", "", "", "", "", f"-rc{rng.randint(1, 5)}", "-hotfix"])
        return [f"v{rng.randint(0, 9)}.{rng.randint(0, 30)}.{i}{suffix}"]
    tags = [f"{rng.choice(['feature', 'fix', 'pr', 'release', 'team'])}{rng.randint(0, 49)}-{i}"]
    if rng.random() < 0.2:
        tags.append("latest" if rng.random() < 0.5 else f"sha-{i:x}")
    return tags


def make_images(n: int, seed: int = 7, archive: bool = False) -> list[dict[str, Any]]:
    """`archive`: most images were pulled at some time after their push, and one in eight is in
    the archive (moved there some time ago), as `DescribeImages` reports them."""
    rng = random.Random(seed)
    images = []
    for i in range(n):
        # Spread over one year whatever n is, so each rule acts on the same share.
        pushed = NOW - timedelta(days=365 * (n - i) / n)
        image: dict[str, Any] = {
            "imageDigest": f"sha256:{i:064x}",
            "imageTags": _tags(rng, i),
            "imagePushedAt": pushed,
        }
        if archive:
            if rng.random() < 0.8:
                image["lastRecordedPullTime"] = pushed + (NOW - pushed) * rng.random()
            if rng.random() < 0.125:
                image["imageStatus"] = "ARCHIVED"
                image["lastArchivedAt"] = pushed + (NOW - pushed) * rng.random()
        images.append(image)
    return images


def make_policy(archive: bool = False) -> dict[str, Any]:
    """50 rules: 24 prefixes, 15 `*k-*`, 5 more `*`-leading patterns, 4 other patterns, untagged
    and any. `archive`: 13 of the 20 `team<k>-` rules (a quarter of the policy) are archive-tier
    instead, ahead of the standard rules: 7 move images not pulled for 90 days to the archive, 6
    expire archived images a year after they moved."""
    count = {"countType": "imageCountMoreThan"}
    age = {"countType": "sinceImagePushed", "countUnit": "days"}
    selections: list[dict[str, Any]] = [
        {"tagPrefixList": [p], **count, "countNumber": 50}
        for p in ("dev-", "prod-", "staging-", "v")
    ]
    tiers = 13 if archive else 0
    selections += [
        {"tagPrefixList": [f"team{k}-"], **age, "countNumber": 3} for k in range(tiers, 20)
    ]
    selections += [{"tagPatternList": [f"*{k}-*"], **count, "countNumber": 20} for k in range(15)]
    selections += [
        {"tagPatternList": ["*-rc*"], **count, "countNumber": 10},
        {"tagPatternList": ["*prod*"], **count, "countNumber": 30},
        {"tagPatternList": ["*-hotfix"], **age, "countNumber": 30},
        {"tagPatternList": ["*.0.*"], **count, "countNumber": 25},
        {"tagPatternList": ["*sha-*"], **age, "countNumber": 14},
        {"tagPatternList": ["release*-*"], **count, "countNumber": 15},
        {"tagPatternList": ["fix*-1*"], **age, "countNumber": 10},
        {"tagPatternList": ["v*-rc*"], **count, "countNumber": 5},
        {"tagPatternList": ["pr*"], **age, "countNumber": 7},
    ]
    # The archive-tier rules come first, so the `*k-*` patterns do not take their images.
    rules = _archive_rules(tiers, first=1)
    rules += [
        {"rulePriority": i, "selection": {"tagStatus": "tagged", **s}, "action": {"type": "expire"}}
        for i, s in enumerate(selections, len(rules) + 1)
    ]
    for status, days in (("untagged", 7), ("any", 180)):
        selection = {"tagStatus": status, **age, "countNumber": days}
        rules.append(
            {"rulePriority": len(rules) + 1, "selection": selection, "action": {"type": "expire"}}
        )
    assert len(rules) == 50
    return {"rules": rules}


def _archive_rules(tiers: int, first: int) -> list[dict[str, Any]]:
    """`tiers` archive-tier rules on the `team<k>-` prefixes: transitions, then archive expiries."""
    pulled: dict[str, Any] = {
        "countType": "sinceImagePulled",
        "countUnit": "days",
        "countNumber": 90,
    }
    moved: dict[str, Any] = {
        "countType": "sinceImageTransitioned",
        "countUnit": "days",
        "countNumber": 365,
    }
    found: list[dict[str, Any]] = []
    for k in range(tiers):
        transition = k < (tiers + 1) // 2
        selection: dict[str, Any] = {"tagStatus": "tagged", "tagPrefixList": [f"team{k}-"]}
        selection |= pulled if transition else {"storageClass": "archive", **moved}
        action = {"type": "transition", "targetStorageClass": "archive"} if transition else None
        found.append(
            {
                "rulePriority": first + k,
                "selection": selection,
                "action": action or {"type": "expire"},
            }
        )
    return found


def best_of(runs: int, fn: Callable[[], Any]) -> float:
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


def speed_up(
    policy: dict[str, Any], n: int, rounds: int = 2, archive: bool = False
) -> tuple[float, int]:
    """Naive time over evaluator time, best of each (the two alternate, so a change in the
    machine's load touches both alike), and how many images the two evaluators treat differently."""
    images = make_images(n, archive=archive)
    fast = naive = math.inf
    for _ in range(rounds):
        fast = min(fast, best_of(2, partial(preview_lifecycle_policy, policy, images, now=NOW)))
        naive = min(naive, best_of(1, partial(naive_preview, policy, images, NOW)))
    results = preview_lifecycle_policy(policy, images, now=NOW)
    found = sorted((r["imageDigest"], r["appliedRulePriority"]) for r in results)
    expected = naive_preview(policy, images, NOW)
    wanted = sorted((images[i]["imageDigest"], p) for i, p in expected.items())
    tier = ", a quarter archive-tier" if archive else ""
    print(f"  {n:,} images x 50 rules{tier}: evaluator {fast:.3f} s, naive {naive:.3f} s")
    return naive / fast, len(set(found) ^ set(wanted))


def growth(policy: dict[str, Any], base: int, n: int, rounds: int = 5) -> float:
    """time / (n log2 n) at n over the same at base, base doubling up to n. Each round times
    every size once, so a change in the machine's load touches all sizes alike; best per size."""
    sizes = [base]
    while sizes[-1] * 2 <= n:
        sizes.append(sizes[-1] * 2)
    if sizes[-1] != n:
        sizes.append(n)
    data = {size: make_images(size) for size in sizes}
    best = dict.fromkeys(sizes, math.inf)
    for _ in range(rounds):
        for size in sizes:
            run = partial(preview_lifecycle_policy, policy, data[size], now=NOW)
            best[size] = min(best[size], best_of(1, run))
    per = {size: best[size] / (size * math.log2(size)) for size in sizes}
    for size in sizes:
        print(
            f"  n={size:>7,}: {best[size]:.3f} s, time/(n log n) {per[size] / per[base]:.2f} of n={base:,}"
        )
    return per[sizes[-1]] / per[base]


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, then print every figure with its goal; 1 when any goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--base", type=int, default=12_500)
    args = parser.parse_args(argv)
    policy = make_policy()
    ratio, disagreements = speed_up(policy, args.images)
    tiered, tiered_disagreements = speed_up(make_policy(archive=True), args.images, archive=True)
    slope = growth(policy, args.base, args.images)
    program, bare = render_times("prod", best_of)
    print(f"  render: program {program:.3f} s, bare program {bare:.3f} s")
    at = f"at {args.images:,} images x 50 rules"
    return report(
        [
            Figure(f"evaluator vs naive {at}", ratio, SPEED_UP),
            Figure(
                f"images the evaluator and the naive one treat differently {at}",
                disagreements,
                DISAGREEMENTS,
            ),
            Figure(f"evaluator vs naive {at}, a quarter archive-tier", tiered, SPEED_UP),
            Figure(
                f"images the two treat differently {at}, a quarter archive-tier",
                tiered_disagreements,
                DISAGREEMENTS,
            ),
            Figure(
                f"growth, time/(n log n) at {args.images:,} vs {args.base:,} images", slope, GROWTH
            ),
            Figure("render, program vs bare program", program / bare, RENDER),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
