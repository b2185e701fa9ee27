"""The program's render time against a bare program that registers the same resources.

Both run under the same Pulumi mocks (`plan.engine.run_program`). The bare program replays the
program's registrations (same types, names, inputs, secrets, parents, protection; parents first)
and outputs as literals through minimal `CustomResource`/`ComponentResource` subclasses: what is
left of the ratio above 1.0 is what the program itself costs (settings load and validation, model
look-ups, policy documents, typed resource classes, `apply` chains), not the engine's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi

from plan import engine
from plan.engine import Rendered
from settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# The tests' own fixture stack: a web and a worker service, both built, one cluster.
STACK_DIR = ROOT / "tests" / "stacks"
GIT_ENV = {"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}


class _Custom(pulumi.CustomResource):
    """A resource class of its own, as every provider SDK's is: the engine records the stack
    trace of each registration from the caller of the concrete class's `__init__`."""

    def __init__(self, t: str, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions):
        super().__init__(t, name, props, opts)


class _Component(pulumi.ComponentResource):
    def __init__(self, t: str, name: str, opts: pulumi.ResourceOptions):
        super().__init__(t, name, None, opts)


def bare_program(rendered: Rendered) -> Callable[[Settings], dict[str, Any]]:
    """A program that registers the rendered resources again and exports the same outputs, all
    as literals, and does nothing else."""

    def program(_: Settings) -> dict[str, Any]:
        created: dict[str, pulumi.Resource] = {}
        for r in rendered.resources:
            opts = pulumi.ResourceOptions(parent=created.get(r.parent), protect=r.protect)
            if r.custom:
                props = {
                    k: pulumi.Output.secret(v) if k in r.secret_inputs else v
                    for k, v in r.inputs.items()
                }
                created[r.urn] = _Custom(r.type, r.name, props, opts)
            else:
                created[r.urn] = _Component(r.type, r.name, opts)
        return {
            k: pulumi.Output.secret(v) if k in rendered.secret_outputs else v
            for k, v in rendered.outputs.items()
        }

    return program


def render_times(
    stack: str, best_of: Callable[[int, Callable[[], Any]], float]
) -> tuple[float, float]:
    """(the program from raw config, the bare program), best of several runs each."""
    raw = engine.raw_stack_config(stack, stack_dir=STACK_DIR)
    loaded = engine.stack_settings.load(raw, env=GIT_ENV)
    bare = bare_program(engine.render(raw, env=GIT_ENV))
    program_time = best_of(5, lambda: engine.render(raw, env=GIT_ENV))
    bare_time = best_of(5, lambda: engine.run_program(loaded, stack, bare))
    return program_time, bare_time
