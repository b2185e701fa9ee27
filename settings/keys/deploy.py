"""Declarations of how a service's new revisions reach traffic (`services[].run.deployment`) and
the one-off task that runs before they scale up (`services[].run.migrate`).

The limits are ECS's own (botocore's ECS model, `DeploymentConfiguration`, `CanaryConfiguration`,
`LinearConfiguration`, and pulumi-aws 7.51.1's `ServiceDeploymentConfiguration*` inputs):
- `bakeTimeInMinutes`, `canaryBakeTimeInMinutes`, `stepBakeTimeInMinutes`: 0 to 1440 minutes;
- `canaryPercent`: multiples of 0.1 from 0.1 to 100.0 (AWS's default 5.0); this stack takes
  whole percents, 1 to 100;
- `stepPercent`: multiples of 0.1 from 3.0 to 100.0 (AWS's default 10.0); whole percents, 3 to 100.
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html
"""

from __future__ import annotations

from settings.keys.model import Computed, Env, Key, Section

# The strategies as the stack file spells them, and as ECS does (DeploymentStrategy).
STRATEGIES = {
    "rolling": "ROLLING",
    "blue-green": "BLUE_GREEN",
    "canary": "CANARY",
    "linear": "LINEAR",
}
MAX_BAKE_MINUTES = 1440
MIN_STEP_PERCENT = 3
# A lifecycle hook that has not answered SUCCEEDED or FAILED after this long times out and ECS
# rolls the deployment back: `timeoutInMinutes` defaults to 1440 (24 hours); pulumi-aws 7.51.1
# passes `timeoutConfiguration` for PAUSE hooks only, so a Lambda hook keeps the default.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHookTimeoutConfiguration.html
MAX_HOOK_MINUTES = 1440

DEPLOYMENT = Section(
    "services[].run.deployment",
    (
        Key(
            "strategy",
            "string",
            "How a new revision takes traffic: `rolling` replaces tasks in place; `blue-green` "
            "starts the new revision beside the old, sends the test route to it, then all "
            "traffic; `canary` sends `canaryPercent` first, then the rest; `linear` moves "
            "`stepPercent` at a time. Not rolling, a web service gets a second target group, a "
            "test route and the role ECS moves the listener rules with; a backend or worker may "
            "use blue-green only (no load balancer to shift shares on).",
            Computed("`rolling`; `canary` for a web service in prod (not the old `fargate` form)"),
            choices=tuple(STRATEGIES),
            own_check=True,
            example="blue-green",
        ),
        Key(
            "bakeMinutes",
            "integer",
            "Not rolling: minutes the old revision keeps running after all traffic moved, so an "
            "alarm (3 minutes by default) rolls back to tasks that are still up. prod waits 15: "
            "an alarm's evaluation periods, CloudWatch's one- to two-minute lag, and margin.",
            Env(5, 15),
            minimum=0,
            maximum=MAX_BAKE_MINUTES,
            example=20,
        ),
        Key(
            "canaryPercent",
            "integer",
            "canary: the share of production traffic the new revision takes first. 10, not AWS's "
            "5: at a few requests a minute, 5% leaves the 5xx-rate alarm too few requests to "
            "judge by, and 10% still keeps nine users in ten on the old revision.",
            10,
            minimum=1,
            maximum=100,
            example=25,
        ),
        Key(
            "canaryBakeMinutes",
            "integer",
            "canary: minutes at `canaryPercent` before the rest moves; 10 gives the alarms "
            "(3 evaluation minutes plus CloudWatch's lag) time to fire on the canary alone.",
            10,
            minimum=0,
            maximum=MAX_BAKE_MINUTES,
            example=15,
        ),
        Key(
            "stepPercent",
            "integer",
            "linear: the share moved at each step (five steps of 20%).",
            20,
            minimum=MIN_STEP_PERCENT,
            maximum=100,
            example=10,
        ),
        Key(
            "stepBakeMinutes",
            "integer",
            "linear: minutes between steps; 5 covers the alarms' 3 evaluation minutes and lag.",
            5,
            minimum=0,
            maximum=MAX_BAKE_MINUTES,
            example=8,
        ),
    ),
    "How new revisions reach traffic.",
)

MIGRATE = Section(
    "services[].run.migrate",
    (
        Key(
            "command",
            "list<string>",
            "The command a one-off task of the new revision's image runs before the new "
            "revision scales up; exit 0 continues the deployment, anything else rolls it back.",
            required=True,
            example=["python", "/app/job.pyc"],
        ),
        Key(
            "timeoutMinutes",
            "integer",
            "Minutes the migration may run before the deployment rolls back (ECS times a "
            "lifecycle hook out after 24 hours).",
            15,
            minimum=1,
            maximum=MAX_HOOK_MINUTES,
            example=30,
        ),
    ),
    "A built web service on blue-green, canary or linear: a migration before scale-up.",
)
