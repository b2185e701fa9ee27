"""Declarations of how a service runs (`services[].run`), its scaling and alarms, and the old
single-service `fargate` form (the same keys, read as one web service)."""

from __future__ import annotations

from rules.ecs import network as net
from rules.ecs import sizing
from settings.keys.deploy import DEPLOYMENT, MIGRATE
from settings.keys.model import Computed, Env, Key, Section

# Copilot's service types: https://aws.github.io/copilot-cli/docs/concepts/services/
KINDS = ("web", "backend", "worker", "job")
CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
MAX_MEMORY = max(m for sizes in sizing.FARGATE_TABLE.values() for m in sizes)
# Tasks per service: 5,000 (https://docs.aws.amazon.com/general/latest/gr/ecs-service.html).
MAX_TASKS = 5000
# CloudWatch evaluates at most one day of data: EvaluationPeriods x Period (60 s) <= 86,400 s.
MAX_EVALUATION_PERIODS = 86_400 // 60
# 30 s instead of ELB's 300 s: a rolling deploy waits this long per replaced task after it stops
# taking new requests; the sample app answers in milliseconds and stops within its stopTimeout.
DEFAULT_DEREGISTRATION_DELAY = 30
# A target's response time cannot exceed the load balancer's idle timeout, at most 4000 s.
MAX_LATENCY_MS = 4_000_000
MAX_DEREGISTRATION_DELAY = 3600

SCHEDULED = Section(
    "services[].run.scaling.scheduled[]",
    (
        Key(
            "schedule",
            "string",
            "When: `at(...)`, `rate(...)` or `cron(...)`.",
            required=True,
            example="cron(0 22 * * ? *)",
        ),
        Key("min", "integer", "The range from then on: lowest.", required=True, example=2),
        Key("max", "integer", "Highest.", required=True, maximum=MAX_TASKS, example=3),
        Key(
            "timezone",
            "string",
            "An IANA time zone for `at` and `cron`.",
            Computed("UTC"),
            example="Asia/Tokyo",
        ),
    ),
)

SCALING = Section(
    "services[].run.scaling",
    (
        Key(
            "min",
            "integer",
            "The fewest tasks (a web service keeps 1); the service starts with this many.",
            required=True,
            maximum=MAX_TASKS,
            example=2,
        ),
        Key("max", "integer", "The most tasks.", required=True, maximum=MAX_TASKS, example=5),
        Key(
            "cpuPercent",
            "integer",
            "Target average CPU utilization.",
            minimum=1,
            maximum=100,
            example=50,
        ),
        Key(
            "memoryPercent",
            "integer",
            "Target average memory utilization.",
            minimum=1,
            maximum=100,
            example=50,
        ),
        Key(
            "requestsPerTarget",
            "integer",
            "web: target requests per task (ALBRequestCountPerTarget).",
            minimum=1,
            example=200,
        ),
        Key("scheduled", "list<object>", "Scheduled changes of `min`/`max`.", keys=SCHEDULED),
    ),
    "Application Auto Scaling of a long-running service (not a job).",
)

ALARMS = Section(
    "services[].run.alarms",
    (
        Key(
            "enabled", "boolean", "Roll a deployment back when an alarm fires.", True, example=False
        ),
        Key(
            "errorRatePercent",
            "integer",
            "The target 5xx rate that fires.",
            5,
            minimum=1,
            maximum=100,
            example=10,
        ),
        Key(
            "unhealthyHosts",
            "integer",
            "The unhealthy tasks that fire.",
            1,
            minimum=1,
            maximum=MAX_TASKS,
            example=2,
        ),
        Key(
            "latencyP99Ms",
            "integer",
            "The targets' 99th-percentile response time (ms) that fires. 1000: the sample app "
            "answers in milliseconds, so a second at p99 is a regression, not noise.",
            1000,
            minimum=1,
            maximum=MAX_LATENCY_MS,
            example=500,
        ),
        Key(
            "evaluationPeriods",
            "integer",
            "Minutes the condition holds before it fires.",
            3,
            minimum=1,
            maximum=MAX_EVALUATION_PERIODS,
            example=5,
        ),
    ),
    "web: the deployment alarms on the service's target group.",
)

_ROUTE = (
    Key(
        "paths",
        "list<string>",
        "web: path patterns routed to this service.",
        Computed("`/*` when neither paths nor hosts are given"),
        example=["/api/*"],
    ),
    Key("hosts", "list<string>", "web: host headers routed here.", example=["api.example.com"]),
    Key(
        "default",
        "boolean",
        "web: the listener's default action forwards here instead of answering 404.",
        False,
        example=True,
    ),
    Key(
        "deregistrationDelay",
        "integer",
        "web: seconds the load balancer drains a stopping task.",
        DEFAULT_DEREGISTRATION_DELAY,
        minimum=0,
        maximum=MAX_DEREGISTRATION_DELAY,
        example=60,
    ),
)
ROUTE_KEYS = tuple(k.name for k in _ROUTE)

_SERVICE_KEYS = (
    Key(
        "cpu",
        "string|integer",
        "Task CPU units (`1024`) or vCPU (`1 vCPU`).",
        256,
        choices=tuple(sizing.FARGATE_TABLE),
        own_check=True,
        example=512,
    ),
    Key(
        "memory",
        "string|integer",
        "Task memory MiB (`2048`) or GB (`2 GB`), a size the cpu allows.",
        512,
        example=1024,
    ),
    Key(
        "containerCpu",
        "integer",
        "The container's CPU; the task gets the smallest size that fits (not with cpu/memory).",
        minimum=0,
        maximum=max(sizing.FARGATE_TABLE),
        example=300,
    ),
    Key(
        "containerMemory",
        "integer",
        "The container's memory MiB (not with cpu/memory).",
        minimum=0,
        maximum=MAX_MEMORY,
        example=600,
    ),
    Key(
        "architecture",
        "string",
        "The CPU architecture, one of the image's platforms.",
        Computed("the image's first platform"),
        choices=("X86_64", "ARM64"),
        own_check=True,
        example="ARM64",
    ),
    Key(
        "port",
        "integer",
        "web, backend: the container port (required for them; the old `fargate` form: 8080).",
        minimum=1,
        maximum=65535,
        example=9000,
    ),
    Key("desiredCount", "integer", "Tasks without scaling.", 1, minimum=0, maximum=1000, example=2),
    Key(
        "capacityProvider",
        "string",
        "FARGATE, or FARGATE_SPOT (interruptible; a warning in prod).",
        "FARGATE",
        choices=CAPACITY_PROVIDERS,
        example="FARGATE_SPOT",
    ),
    Key(
        "environment",
        "map<string>",
        "Environment variables: a string, or `{secretArn: ARN}` (Secrets Manager or SSM) for a "
        "secret.",
        example={"LOG_LEVEL": "debug"},
        schema={
            "additionalProperties": {
                "anyOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "properties": {"secretArn": {"type": "string"}},
                        "required": ["secretArn"],
                        "additionalProperties": False,
                    },
                ]
            }
        },
    ),
    Key(
        "secrets",
        "map<string>",
        "Variables read from Secrets Manager or SSM ARNs.",
        example={"TOKEN": "arn:aws:ssm:us-east-1:123456789012:parameter/token"},
    ),
    Key("user", "string", "The container user (UID:GID).", "10001:10001", example="20002:20002"),
    Key("healthCheckPath", "string", "The HTTP health check path.", "/healthz", example="/ready"),
    Key(
        "healthCheckCommand",
        "list<string>",
        "A container health check command instead of the path.",
        example=["CMD", "true"],
    ),
    Key(
        "healthCheckGracePeriodSeconds",
        "integer",
        "Seconds a starting task's failed health checks are ignored.",
        60,
        minimum=0,
        maximum=300,
        example=120,
    ),
    Key(
        "stopTimeout",
        "integer",
        "Seconds between SIGTERM and SIGKILL.",
        30,
        minimum=2,
        maximum=120,
        example=60,
    ),
    Key(
        "writablePaths",
        "list<string>",
        "Writable volumes on the read-only root filesystem.",
        ["/tmp"],
        example=["/tmp", "/var/cache"],
    ),
    Key(
        "logRetentionDays",
        "integer",
        "Days the log group keeps the logs.",
        Env(7, 30),
        choices=LOG_RETENTION_DAYS,
        own_check=True,
        example=14,
    ),
    Key(
        "waitForSteadyState",
        "boolean",
        "`pulumi up` waits until the deployment is steady.",
        Env(False, True),
        example=True,
    ),
    Key(
        "assignPublicIp",
        "boolean",
        "Public IPs for this service's tasks (refused in prod).",
        Computed("`network.assignPublicIp`"),
        example=False,
    ),
    Key(
        "ingressCidrs",
        "list<string>",
        "web: IPv4 blocks besides the load balancer that may reach the port.",
        maximum=net.MAX_INGRESS_CIDRS,
        example=["192.0.2.0/24"],
    ),
    Key(
        "ephemeralStorageGiB",
        "integer",
        "Task ephemeral storage (default: Fargate's 20 GiB).",
        minimum=21,
        maximum=200,
        example=40,
    ),
    Key(
        "enableExecuteCommand",
        "boolean",
        "ECS Exec (`aws ecs execute-command`) into the tasks.",
        False,
        example=True,
    ),
    Key(
        "minimumHealthyPercent",
        "integer",
        "Rolling deployment: the least healthy share.",
        100,
        minimum=0,
        maximum=100,
        example=50,
    ),
    Key(
        "maximumPercent",
        "integer",
        "Rolling deployment: the most running share.",
        200,
        minimum=100,
        maximum=200,
        example=150,
    ),
)

RUN = Section(
    "services[].run",
    (
        Key(
            "kind",
            "string",
            "web (behind the load balancer), backend (called by other services), worker, or "
            "job (runs on a schedule).",
            required=True,
            choices=KINDS,
            example="backend",
        ),
        Key(
            "command",
            "list<string>",
            "The container command.",
            Computed("the image's CMD"),
            example=["python", "/app/server.pyc"],
        ),
        Key(
            "schedule", "string", "job: when it runs (required for a job).", example="rate(1 hour)"
        ),
        Key(
            "serviceConnectName",
            "string",
            "web, backend: the name others call it by (`http://<name>:<port>`).",
            Computed("the service name"),
            example="api-v2",
        ),
        Key("scaling", "object", "Autoscaling.", keys=SCALING),
        Key("alarms", "object", "Deployment alarms.", keys=ALARMS),
        Key("deployment", "object", "How new revisions reach traffic.", keys=DEPLOYMENT),
        Key("migrate", "object", "A migration before the new revision scales up.", keys=MIGRATE),
        *_ROUTE,
        *_SERVICE_KEYS,
    ),
    "How one service runs on Fargate.",
)

FARGATE = Section(
    "fargate",
    (
        Key(
            "service",
            "string",
            "The service (with a build or image) to run as a web service.",
            required=True,
            example="worker",
        ),
        *(k for k in _SERVICE_KEYS if k.name not in ("assignPublicIp", "port")),
        Key("port", "integer", "The container port.", 8080, minimum=1, maximum=65535, example=9000),
        Key("assignPublicIp", "boolean", "`network.assignPublicIp`.", False, example=True),
        Key(
            "subnetIds",
            "list<string>",
            "`network.subnetIds`.",
            example=["subnet-0123456789abcdef0"],
        ),
        Key(
            "securityGroupIds",
            "list<string>",
            "`network.securityGroupIds`.",
            example=["sg-0123456789abcdef0"],
        ),
    ),
    "The old single-service form, read as `services[].run` with kind web and `network`.",
)
