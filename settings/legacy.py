"""The old single-service `fargate` form, rewritten into `services[i].run` and `network`.

This is the one place that knows the old form. Before anything is validated, `rewrite` moves the
section's run keys into the named service's `run` (kind `web`, port 8080 unless given) and its
`subnetIds`, `securityGroupIds` and `assignPublicIp` into `network`; the loaders then read one
form. Problems keep their old keys (`fargate.cpu`), because the rewritten run and network are
read at the path `fargate`. The rendered resources, and their URNs, are the same as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from settings.errors import Collector, show
from settings.keys import FARGATE, NETWORK
from settings.reader import Obj

PATH = "fargate"  # where the old section's problems are reported, as before
WARNING = (
    "fargate is the old single-service form: move it to services[i].run (kind: web, with the "
    "service's own keys) and network (subnetIds, securityGroupIds, assignPublicIp); the "
    "cluster, service, task definition family, roles and log group are kept"
)


@dataclass(frozen=True)
class Rewritten:
    """The config values in the one form the loaders read, and where each part came from."""

    values: dict[str, Any]
    run_paths: Mapping[int, str] = field(default_factory=dict)  # services[i] -> its run's path
    network_path: str = "network"
    warnings: tuple[str, ...] = ()
    # The old section's run when its `service` was refused: still checked, every problem at once.
    orphan_run: Mapping[str, Any] | None = None

    def run_path(self, index: int) -> str:
        return self.run_paths.get(index, f"services[{index}].run")


def rewrite(errors: Collector, values: Mapping[str, Any]) -> Rewritten:
    """`values` with the old `fargate` section moved into `services[i].run` and `network`."""
    out = {k: v for k, v in values.items() if k != PATH}
    legacy = Obj(errors, PATH, values.get(PATH), FARGATE)
    services = values.get("services")
    if not legacy.value or not isinstance(services, list):
        return Rewritten(out)  # nothing to move, or `services` is refused as a whole
    if any(isinstance(s, dict) and "run" in s for s in services):
        errors.add(PATH, "give services[].run with network, or the old fargate, not both")
        return Rewritten(out)
    index = _service_index(errors, legacy, services)
    # The old form's network is its own three keys; a `network` beside it was never read.
    out["network"] = {k: v for k, v in legacy.value.items() if k in NETWORK}
    run = {k: v for k, v in legacy.value.items() if k not in NETWORK and k != "service"}
    run = {"kind": "web", "port": FARGATE["port"].default, **run}
    if index is None:
        return Rewritten(out, {}, PATH, (WARNING,), run)
    out["services"] = [{**s, "run": run} if i == index else s for i, s in enumerate(services)]
    return Rewritten(out, {index: PATH}, PATH, (WARNING,))


def _service_index(errors: Collector, legacy: Obj, services: list[Any]) -> int | None:
    """The `services[i]` the section runs: one with a build or an image."""
    name = legacy.string("service")
    if name is None and legacy.has("service"):
        return None  # not a string: refused by the reader already
    named = {
        s["name"]: i
        for i, s in reversed(list(enumerate(services)))
        if isinstance(s, dict) and isinstance(s.get("name"), str)
    }
    runnable = sorted(n for n, i in named.items() if {"build", "image"} & set(services[i]))
    if name is None or name not in runnable:
        allowed = ", ".join(runnable) or "none: give a service a build or an image first"
        errors.add(
            legacy.at("service"),
            f"{show(name)} is not allowed; the service to run must have a build or image ({allowed})",
        )
        return None
    return named[name]
