"""How the stack's services run on Fargate: every `services[i].run` (settings.run), the
stack-wide `network`, the load balancer of the web services, and the checks across services.

The old single-service `fargate` section reaches here rewritten into a run (settings.legacy); it
renders the same resources with the same URNs.
"""

from __future__ import annotations

from typing import Any

from rules.naming import StackNames
from settings import legacy
from settings.errors import Collector, show
from settings.keys import NETWORK, RUN
from settings.legacy import Rewritten
from settings.reader import Obj
from settings.run import load_network, load_run
from settings.runs import FargateSettings, FargateStack, NetworkSettings, task_request
from settings.services import ServiceSettings
from settings.web import LoadBalancerSettings, load_load_balancer

__all__ = ["FargateSettings", "FargateStack", "NetworkSettings", "load_fargate", "task_request"]


def load_fargate(
    errors: Collector,
    config: Rewritten,
    *,
    environment_name: str,
    services: tuple[ServiceSettings, ...],
    names: StackNames,
) -> FargateStack | None:
    """Every run, from `services[i].run`, with the stack's `network` and load balancer."""
    values = config.values
    entries = _run_entries(values.get("services"))
    prod = environment_name == "prod"
    warnings: list[str] = list(config.warnings)
    if not entries and config.orphan_run is None:
        for key in ("network", "primaryService", "loadBalancer"):
            # A `services` that is not a list is refused as a whole: no second line here.
            if values.get(key) and isinstance(values.get("services"), list):
                errors.add(key, "only applies to services that run: give a service a run")
        return None
    network_obj = Obj(
        errors, config.network_path, values.get("network"), NETWORK, environment=environment_name
    )
    net = load_network(errors, network_obj, prod, warnings)
    indexed = _load_runs(errors, config, entries, services, names, net, warnings, prod)
    _cross_check(errors, indexed, warnings)
    found = tuple(r for _, r in indexed if r is not None)
    balancer = _load_balancer(
        errors, values.get("loadBalancer"), entries, found, prod, names, net, warnings
    )
    primary = _primary(errors, values.get("primaryService"), found)
    return FargateStack(found, net, primary, tuple(warnings), balancer)


def _load_balancer(
    errors: Collector,
    value: Any,
    entries: list[tuple[int, str, Any]],
    runs: tuple[FargateSettings, ...],
    prod: bool,
    names: StackNames,
    net: NetworkSettings,
    warnings: list[str],
) -> LoadBalancerSettings | None:
    """The load balancer of the web services, each with the `services[i]` index of its entry."""
    index = {name: i for i, name, _ in entries}
    routes = [
        (index.get(r.service.name, 0), r.service.name, r.route) for r in runs if r.route is not None
    ]
    if routes and net.security_group_ids:
        warnings.append(
            f"network.securityGroupIds: the stack creates no task groups, so yours must admit "
            f"each web service's port from the load balancer's group "
            f"{names.load_balancer_security_group}"
        )
    return load_load_balancer(
        errors,
        value,
        routes=routes,
        prod=prod,
        names=names,
        given_subnets=bool(net.subnet_ids),
        warnings=warnings,
    )


def _load_runs(
    errors: Collector,
    config: Rewritten,
    entries: list[tuple[int, str, Any]],
    services: tuple[ServiceSettings, ...],
    names: StackNames,
    net: NetworkSettings,
    warnings: list[str],
    prod: bool,
) -> list[tuple[int, FargateSettings | None]]:
    """Each `services[i].run`, with its index (a refused service name is reported at its name;
    a refused build or image at its own key)."""
    by_name = {s.name: s for s in services}
    imaged = _imaged(config.values.get("services"))
    environment = "prod" if prod else "dev"
    found: list[tuple[int, FargateSettings | None]] = []
    for i, name, raw in entries:
        obj = Obj(errors, config.run_path(i), raw, RUN, environment=environment)
        kind = obj.string("kind")
        if kind is None and not obj.has("kind"):  # else refused by the reader already
            kinds = ", ".join(RUN["kind"].choices or ())
            errors.add(obj.at("kind"), f"null is not allowed; use one of {kinds}")
        service = by_name.get(name)
        if service is not None and service.image is None and i not in imaged:
            errors.add(obj.path, "a service that runs needs a build or an image")
        if service is None or service.image is None:
            service = None  # refused at its own key: its run's fields are still checked
        run = load_run(errors, obj, service, kind or "worker", prod, names, net, warnings)
        found.append((i, run))
    if config.orphan_run is not None:
        obj = Obj(errors, legacy.PATH, config.orphan_run, RUN, environment=environment)
        load_run(errors, obj, None, "web", prod, names, net, warnings)
    return found


def _imaged(value: Any) -> set[int]:
    """The indexes of the service entries that give a build or an image (maybe a refused one)."""
    items = value if isinstance(value, list) else []
    return {
        i
        for i, item in enumerate(items)
        if isinstance(item, dict) and {"build", "image"} & set(item)
    }


def _run_entries(value: Any) -> list[tuple[int, str, Any]]:
    """(index, name, run) of every service entry with a `run`; the rest only get a repository."""
    items = value if isinstance(value, list) else []
    return [
        (i, item["name"] if isinstance(item.get("name"), str) else "", item["run"])
        for i, item in enumerate(items)
        if isinstance(item, dict) and "run" in item
    ]


def _cross_check(
    errors: Collector, runs: list[tuple[int, FargateSettings | None]], warnings: list[str]
) -> None:
    """What no single service shows: who can call a backend."""
    valid = [(i, r) for i, r in runs if r is not None]
    # One name, one service: a client's `http://<name>:<port>` must reach exactly one of them.
    taken: dict[str, int] = {}
    for i, run in valid:
        if not run.listens:
            continue
        if run.connect_name in taken:
            errors.add(
                f"services[{i}].run.serviceConnectName",
                f"{run.connect_name!r} is not allowed; services[{taken[run.connect_name]}] "
                "already has that Service Connect name",
            )
        taken.setdefault(run.connect_name, i)
    # Service Connect is for ECS services only: a job's RunTask task is not a client, so a
    # backend is callable when some other long-running service (web, backend, worker) exists.
    for i, run in valid:
        callers = [r for _, r in valid if r is not run and r.kind != "job"]
        if run.kind == "backend" and not callers:
            warnings.append(
                f"services[{i}].run: backend {run.service.name} has no caller (no other web, "
                "backend or worker service in the stack; jobs do not use Service Connect)"
            )


def _primary(errors: Collector, value: Any, runs: tuple[FargateSettings, ...]) -> str | None:
    """The service behind the singular outputs: given, or the first web or backend."""
    long_running = [r.service.name for r in runs if r.kind != "job"]
    if value is None:
        listening = [r.service.name for r in runs if r.listens]
        return next(iter(listening + long_running), None)
    if value not in long_running:
        allowed = ", ".join(long_running) or "none: give a service a run of a kind other than job"
        errors.add("primaryService", f"{show(value)} is not allowed; use one of {allowed}")
        return None
    return str(value)
