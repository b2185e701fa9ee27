"""The program's render time against a bare program that registers the same resources.

Both run under the same Pulumi mocks (`plan.engine.run_program`). The bare program is what a
person would write by hand for the same stack: one call per resource, with the provider SDKs'
own classes (`aws.ecs.Service(...)`, `docker.Image(...)`), literal inputs, the same names,
parents, dependencies, secrets and protection (parents first), and the same outputs. What is
left of the ratio above 1.0 is what the program itself costs (settings load and validation,
model look-ups, policy documents, component classes, `apply` chains), not the engine's or the
provider SDK's.
"""

from __future__ import annotations

import importlib
import keyword
import re
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
ROUNDS = 10
GIT_ENV = {"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}


# The provider SDK each type token's package lives in (`aws:ecs/service:Service` is
# `pulumi_aws.ecs.Service`; `index` is the package's top-level module).
SDKS = {"aws": "pulumi_aws", "docker": "pulumi_docker"}


def sdk_class(type_token: str) -> Callable[..., pulumi.CustomResource]:
    """The provider SDK's class for a type token, as a hand-written program would import it."""
    package, module_path, name = type_token.split(":")
    module = module_path.split("/")[0]
    if keyword.iskeyword(module):  # `aws:lambda/...` is `pulumi_aws.lambda_`
        module += "_"
    found = importlib.import_module(
        SDKS[package] if module == "index" else f"{SDKS[package]}.{module}"
    )
    cls: Callable[..., pulumi.CustomResource] = getattr(found, name)
    return cls


def python_name(wire_name: str) -> str:
    """`healthCheckGracePeriodSeconds` -> `health_check_grace_period_seconds`: the SDKs' keyword
    for a top-level input (nested dicts keep their wire names, which the SDKs pass through)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", wire_name).lower()


class _Component(pulumi.ComponentResource):
    def __init__(self, t: str, name: str, opts: pulumi.ResourceOptions):
        super().__init__(t, name, None, opts)


def _literal(key: str, value: Any, type_token: str) -> Any:
    """A recorded input as the SDK takes it: a function's code, recorded as its files' text
    (`plan.engine`), as the archive it was."""
    if type_token == "aws:lambda/function:Function" and key == "code":
        assets = {k: pulumi.StringAsset(v["text"]) for k, v in value["assets"].items()}
        return pulumi.AssetArchive(assets)  # type: ignore[arg-type]
    return value


def bare_program(rendered: Rendered) -> Callable[[Settings], dict[str, Any]]:
    """A program that registers the rendered resources again and exports the same outputs, all
    as literals, and does nothing else."""

    def program(_: Settings) -> dict[str, Any]:
        created: dict[str, pulumi.Resource] = {}
        for r in rendered.resources:
            opts = pulumi.ResourceOptions(
                parent=created.get(r.parent),
                protect=r.protect,
                depends_on=[created[urn] for urn in r.dependencies],
            )
            if r.custom:
                props = {
                    k: pulumi.Output.secret(v) if k in r.secret_inputs else v
                    for k, v in r.inputs.items()
                }
                kwargs = {python_name(k): _literal(k, v, r.type) for k, v in props.items()}
                created[r.urn] = sdk_class(r.type)(r.name, opts=opts, **kwargs)
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
    """(the program from raw config, the bare program), the best of `ROUNDS` runs each, the two
    alternating so that a slow spell of a shared machine weighs on both alike."""
    raw = engine.raw_stack_config(stack, stack_dir=STACK_DIR)
    loaded = engine.stack_settings.load(raw, env=GIT_ENV)
    bare = bare_program(engine.render(raw, env=GIT_ENV))
    program_time = bare_time = float("inf")
    for _ in range(ROUNDS):
        program_time = min(program_time, best_of(1, lambda: engine.render(raw, env=GIT_ENV)))
        bare_time = min(bare_time, best_of(1, lambda: engine.run_program(loaded, stack, bare)))
    return program_time, bare_time
