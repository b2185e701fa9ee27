"""How a service's new revisions reach traffic (`services[i].run.deployment`) and the migration
that runs before they scale up (`services[i].run.migrate`), validated at their exact keys.

ECS's own deployment controller runs four strategies (DeploymentConfiguration.strategy). Rolling
replaces tasks in place. Blue/green, canary and linear start the whole new revision beside the
old one and move traffic between two target groups by rewriting the listener rules; a service
without a load balancer may still go blue/green (ECS then manages no traffic shift), but canary
and linear move shares of load balancer traffic, so a backend or worker is refused them here:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-implementation.html
"""

from __future__ import annotations

from dataclasses import dataclass

from settings.errors import Collector, show
from settings.keys import DEPLOYMENT, MIGRATE
from settings.keys.deploy import STRATEGIES
from settings.legacy import PATH as LEGACY_PATH
from settings.reader import Obj
from settings.services import ServiceSettings

ROLLING = "rolling"
# The strategies that take traffic shares: only through the stack's load balancer.
SHIFTING = ("canary", "linear")
# What each strategy's own keys are (given with another strategy they would do nothing).
OWN_KEYS = {
    "canaryPercent": "canary",
    "canaryBakeMinutes": "canary",
    "stepPercent": "linear",
    "stepBakeMinutes": "linear",
}


@dataclass(frozen=True)
class DeploymentSettings:
    strategy: str  # rolling | blue-green | canary | linear (the stack file's spelling)
    bake_minutes: int
    canary_percent: int
    canary_bake_minutes: int
    step_percent: int
    step_bake_minutes: int

    @property
    def ecs_strategy(self) -> str:
        """DeploymentConfiguration.strategy: ROLLING, BLUE_GREEN, CANARY or LINEAR."""
        return STRATEGIES[self.strategy]

    @property
    def rolling(self) -> bool:
        return self.strategy == ROLLING


ROLLING_DEPLOYMENT = DeploymentSettings(ROLLING, 0, 10, 10, 20, 5)


@dataclass(frozen=True)
class MigrateSettings:
    """A one-off task of the new revision's image, run at the PRE_SCALE_UP lifecycle stage."""

    command: tuple[str, ...]
    timeout_minutes: int


def load_deployment(errors: Collector, run: Obj, kind: str, prod: bool) -> DeploymentSettings:
    """The run's strategy (rolling by default; canary for a web service in prod) and its timings.
    A refused strategy falls back to rolling, so no second line follows from it."""
    obj = Obj(
        errors,
        run.at("deployment"),
        run.raw("deployment"),
        DEPLOYMENT,
        environment=run.environment,
    )
    # The old single-service `fargate` form declares no `deployment` (it could not opt out), so
    # it keeps rolling; `services[].run` gets prod's canary.
    legacy = run.path == LEGACY_PATH
    default = "canary" if prod and kind == "web" and not legacy else ROLLING
    if kind == "job":
        if run.has("deployment"):
            errors.add(
                obj.path, "is not allowed for a job: it runs on its schedule, not as a service"
            )
        return ROLLING_DEPLOYMENT
    strategy = obj.string("strategy", default)
    refused = strategy not in STRATEGIES or (strategy in SHIFTING and kind != "web")
    if strategy not in STRATEGIES:
        errors.add(
            obj.at("strategy"),
            f"{show(strategy)} is not allowed; use one of {', '.join(STRATEGIES)}",
        )
    elif refused:
        errors.add(
            obj.at("strategy"),
            f"{strategy} is not allowed for a {kind}; it shifts shares of load balancer traffic "
            "and only a web service has a load balancer (use rolling or blue-green)",
        )
    else:  # the timings of another strategy would do nothing (not checked after a refusal)
        _own_keys(errors, obj, strategy)
    strategy = default if refused else strategy  # a refused strategy is never used
    return DeploymentSettings(
        strategy,
        obj.number("bakeMinutes"),
        obj.number("canaryPercent"),
        obj.number("canaryBakeMinutes"),
        obj.number("stepPercent"),
        obj.number("stepBakeMinutes"),
    )


def _own_keys(errors: Collector, obj: Obj, strategy: str) -> None:
    for key, owner in OWN_KEYS.items():
        if obj.has(key) and strategy != owner:
            errors.add(obj.at(key), f"applies to strategy {owner} only; this one is {strategy}")
    if obj.has("bakeMinutes") and strategy == ROLLING:
        errors.add(
            obj.at("bakeMinutes"), "does not apply to rolling; its old tasks stop as it goes"
        )


def load_migrate(
    errors: Collector,
    run: Obj,
    service: ServiceSettings | None,
    deployment: DeploymentSettings,
    kind: str,
) -> MigrateSettings | None:
    """`migrate` of a built service on a strategy with lifecycle stages; None when absent or
    refused (every problem reported)."""
    if run.raw("migrate") is None:
        return None
    obj = Obj(errors, run.at("migrate"), run.raw("migrate"), MIGRATE)
    if not isinstance(run.raw("migrate"), dict):
        return None
    if kind == "job":
        errors.add(obj.path, "is not allowed for a job: it has no deployments to run it in")
        return None
    before = len(errors.errors)
    command = obj.str_list("command")
    raw = obj.raw("command")
    if not obj.has("command") or (isinstance(raw, list) and not raw):
        errors.add(obj.at("command"), "is required: a non-empty list of strings")
    timeout = obj.number("timeoutMinutes")
    if service is not None and (service.image is None or service.image.build is None):
        errors.add(
            obj.path,
            "is not allowed for a service that is not built here: the migration runs the "
            "revision's image, which the stack builds (give the service a build)",
        )
    refused = f"{run.at('deployment')}.strategy"
    strategy_refused = any(e.path == refused for e in errors.errors)
    if deployment.rolling and not strategy_refused:
        errors.add(
            obj.path,
            "needs strategy blue-green, canary or linear: ECS runs it at the PRE_SCALE_UP "
            "lifecycle stage, before the new revision starts beside the old one",
        )
    if len(errors.errors) > before:
        return None
    return MigrateSettings(command, timeout)
