"""`make bench` outside the unit suite: here only what needs no timing. The goal check fails the
command on a miss (fabricated figures), the benchmark's policy has the shape it claims, and the
bare program it times registers exactly what the program does."""

from __future__ import annotations

import json

import pytest

from bench import goals, lifecycle_bench
from bench.goals import Figure, Goal
from bench.render_bench import GIT_ENV, STACK_DIR, bare_program
from plan import engine


def test_each_figure_is_printed_with_its_goal_and_a_verdict() -> None:
    lines: list[str] = []
    figures = [
        Figure("evaluator vs naive", 12.24, Goal(">=", 10)),
        Figure("growth", 1.31, Goal("<=", 1.25, "")),
        Figure("disagreements", 0, Goal("<=", 0, " images", digits=0)),
    ]
    assert goals.report(figures, lines.append) == 1
    assert lines == [
        "PASS  evaluator vs naive: 12.24x (goal >= 10x)",
        "FAIL  growth: 1.31 (goal <= 1.25)",
        "PASS  disagreements: 0 images (goal <= 0 images)",
        "2 of 3 goals met",
    ]


@pytest.mark.parametrize(
    ("goal", "value", "met"),
    [
        (Goal(">=", 10), 10.0, True),
        (Goal(">=", 10), 9.99, False),
        (Goal("<=", 1.2), 1.2, True),
        (Goal("<=", 1.2), 1.21, False),
    ],
)
def test_a_goal_is_met_up_to_and_including_its_limit(goal: Goal, value: float, met: bool) -> None:
    assert goal.met(value) is met


def test_the_stated_goals() -> None:
    """The goals the README and CHANGELOG state for `make bench`."""
    assert (goals.SPEED_UP.bound, goals.SPEED_UP.limit) == (">=", 10)
    assert (goals.DISAGREEMENTS.bound, goals.DISAGREEMENTS.limit) == ("<=", 0)
    assert (goals.GROWTH.bound, goals.GROWTH.limit) == ("<=", 1.5)
    assert (goals.RENDER.bound, goals.RENDER.limit) == ("<=", 1.2)


@pytest.mark.parametrize(
    ("speed_up", "disagreements", "slope", "render", "status"),
    [
        (12.0, 0, 1.1, (1.1, 1.0), 0),
        (9.0, 0, 1.1, (1.1, 1.0), 1),  # the evaluator is too slow
        (12.0, 3, 1.1, (1.1, 1.0), 1),  # fast, but wrong
        (12.0, 0, 2.3, (1.1, 1.0), 1),  # worse than n log n
        (12.0, 0, 1.1, (1.3, 1.0), 1),  # the render costs too much
    ],
)
def test_make_bench_exits_non_zero_when_a_goal_is_missed(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    speed_up: float,
    disagreements: int,
    slope: float,
    render: tuple[float, float],
    status: int,
) -> None:
    """`main` on fabricated measurements: its exit status is the goals' verdict."""
    monkeypatch.setattr(lifecycle_bench, "speed_up", lambda *_: (speed_up, disagreements))
    monkeypatch.setattr(lifecycle_bench, "growth", lambda *_: slope)
    monkeypatch.setattr(lifecycle_bench, "render_times", lambda *_: render)
    assert lifecycle_bench.main(["--images", "400", "--base", "100"]) == status
    verdicts = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:-1]]
    assert len(verdicts) == 4 and verdicts.count("FAIL") == status


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
