"""`make bench` runs on a tiny size and prints its three ratios with their goals; the bare program
it times registers exactly what the program does. Nothing here asserts on time."""

from __future__ import annotations

import json
import re

import pytest

from bench import lifecycle_bench
from bench.render_bench import GIT_ENV, STACK_DIR, bare_program
from plan import engine


def test_bench_prints_the_three_ratios_with_their_goals(capsys: pytest.CaptureFixture[str]) -> None:
    lifecycle_bench.main(["--images", "400", "--base", "100"])
    lines = capsys.readouterr().out.splitlines()
    ratios = [line for line in lines if "(goal" in line]
    assert len(ratios) == 3
    assert re.fullmatch(
        r"evaluator vs naive at 400 images x 50 rules: [0-9.]+x \(goal >= 10x; same results: True\)",
        ratios[0],
    )
    assert re.fullmatch(
        r"growth, time/\(n log n\) at 400 vs 100 images: [0-9.]+ \(goal ~1.0, n log n\)", ratios[1]
    )
    assert re.fullmatch(r"render, program vs bare program: [0-9.]+x \(goal <= 1.2x\)", ratios[2])


def test_the_benchmark_policy_has_50_rules_with_star_leading_patterns() -> None:
    rules = lifecycle_bench.make_policy()["rules"]
    patterns = [p for r in rules for p in r["selection"].get("tagPatternList", [])]
    assert len(rules) == 50
    assert {"*-rc*", "*prod*", "*-hotfix"} <= set(patterns)
    assert sum(p.startswith("*") for p in patterns) >= 10


def test_the_bare_program_registers_the_same_resources_and_outputs() -> None:
    raw = engine.raw_stack_config("prod", stack_dir=STACK_DIR)
    program = engine.render(raw, env=GIT_ENV)
    bare = engine.run_program(
        engine.stack_settings.load(raw, env=GIT_ENV), "prod", bare_program(program)
    )

    def registered(r: engine.Rendered) -> list[tuple[object, ...]]:
        return sorted(
            (
                x.type,
                x.name,
                json.dumps(x.inputs, sort_keys=True),
                x.parent,
                x.custom,
                x.protect,
                sorted(x.secret_inputs),
                x.urn,
                sorted(x.dependencies),
            )
            for x in r.resources
        )

    assert len(program.resources) > 20
    assert registered(bare) == registered(program)
    assert bare.outputs == program.outputs and bare.secret_outputs == program.secret_outputs
