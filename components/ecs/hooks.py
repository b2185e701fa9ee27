"""The `DeploymentHook` component: one ECS lifecycle-hook Lambda function of one service.

It packages one module of `hooks/` (that file alone, as a string asset: the archive depends on
the file's bytes and nothing else, so an unchanged hook is never redeployed), creates the
function, its log group (retention like the service's logs), its execution role and the role ECS
invokes it with (`lifecycleHooks[].roleArn`), both under the stack's role path and bounded by the
stack's boundary. `ServiceRun` creates it for a service that migrates and wires
`lifecycle_hook()` into the service's `deploymentConfiguration.lifecycleHooks`.

The hook's contract (payload, `hookStatus`, `callBackDelay`) is in `hooks/__init__.py`; the
stages: the smoke test at POST_TEST_TRAFFIC_SHIFT (green has all the test traffic), the migration
at PRE_SCALE_UP (green not started yet)
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html). A
hook's timeout is 1 to 1440 minutes, default 1440, and on timeout ECS rolls back by default
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html); the
migration's own timeout stays inside it, so the function stops its task before ECS gives up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.ecs.service import LifecycleHook
from rules.ecs import hooks as documents
from rules.naming import StackNames

HOOKS_DIR = Path(__file__).resolve().parents[2] / "hooks"
# The newest Python runtime both Lambda and pulumi-aws 7.51's `Runtime` enum list
# (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).
RUNTIME = "python3.14"
MIGRATE_API_SECONDS = 60  # one invocation: ListTasks, DescribeTasks and RunTask or StopTask


@dataclass(frozen=True)
class HookVpc:
    """Run the function in the stack's VPC, for a test route only reachable from inside it. The
    component gives it its own group, open outward to the load balancer's group on the test port
    alone; the load balancer's group must admit it (`DeploymentHook.security_group`) unless it
    already admits the VPC's range (an internal load balancer does)."""

    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    load_balancer_group_id: pulumi.Input[str]
    test_port: int


@dataclass(frozen=True)
class SmokeHook:
    """GET each path of `base_url` through the test route; 2xx within the timeout passes."""

    base_url: pulumi.Input[str]  # `http://<test listener>:<port>`, no trailing path
    paths: Sequence[str]  # the health path first, then the extra ones
    header: tuple[str, str] | None = None  # for a test rule matched on a header
    request_timeout_seconds: int = 5
    budget_seconds: int = 300
    retry_seconds: int = 15
    vpc: HookVpc | None = None

    module = "smoke"
    stage = "POST_TEST_TRAFFIC_SHIFT"


@dataclass(frozen=True)
class MigrateHook:
    """Run the new revision once with `command` in `container`; exit 0 continues."""

    command: Sequence[str]
    container: str
    timeout_minutes: int
    role_arns: Sequence[pulumi.Input[str]]  # the service's task and execution roles (PassRole)
    poll_seconds: int = 30

    module = "migrate"
    stage = "PRE_SCALE_UP"


@dataclass
class DeploymentHookArgs:
    names: StackNames
    service: str  # the service's name in config (`services[].name`)
    account_id: pulumi.Input[str]
    log_retention_days: int
    hook: SmokeHook | MigrateHook
    tags: Mapping[str, str] = field(default_factory=dict)
    # The boundary the roles carry (the stack's own policy with `permissionsBoundary: stack`);
    # None: the bootstrap's, by name.
    boundary_arn: pulumi.Input[str] | None = None
    # prod: the function's log group outlives a destroy, like the service's own.
    retain_logs: bool = False


def archive(module: str) -> pulumi.AssetArchive:
    """The function's code: `<module>.py` at the archive's root, from the file's text only."""
    source = (HOOKS_DIR / f"{module}.py").read_text(encoding="utf-8")
    return pulumi.AssetArchive({f"{module}.py": pulumi.StringAsset(source)})


def environment(hook: SmokeHook | MigrateHook) -> dict[str, pulumi.Input[str]]:
    """The variables the hook module reads (documented in its docstring)."""
    if isinstance(hook, MigrateHook):
        return {
            "MIGRATE_COMMAND": json.dumps(list(hook.command)),
            "MIGRATE_CONTAINER": hook.container,
            "MIGRATE_TIMEOUT_MINUTES": str(hook.timeout_minutes),
            "MIGRATE_POLL_SECONDS": str(hook.poll_seconds),
        }
    variables: dict[str, pulumi.Input[str]] = {
        "SMOKE_BASE_URL": hook.base_url,
        "SMOKE_PATHS": json.dumps(list(hook.paths)),
        "SMOKE_REQUEST_TIMEOUT_SECONDS": str(hook.request_timeout_seconds),
        "SMOKE_BUDGET_SECONDS": str(hook.budget_seconds),
        "SMOKE_RETRY_SECONDS": str(hook.retry_seconds),
    }
    if hook.header is not None:
        variables["SMOKE_HEADER_NAME"], variables["SMOKE_HEADER_VALUE"] = hook.header
    return variables


def function_timeout(hook: SmokeHook | MigrateHook) -> int:
    """Seconds one invocation may take: every path at its timeout, plus headroom."""
    if isinstance(hook, MigrateHook):
        return MIGRATE_API_SECONDS
    return hook.request_timeout_seconds * len(hook.paths) + 10


def hook_timeout_minutes(hook: SmokeHook | MigrateHook) -> int:
    """How long ECS waits for the hook: the hook's own limit plus two callbacks, so the function
    answers FAILED (and stops a migration) before ECS times the hook out."""
    own = (
        hook.timeout_minutes * 60 + 2 * hook.poll_seconds
        if isinstance(hook, MigrateHook)
        else hook.budget_seconds + 2 * hook.retry_seconds + function_timeout(hook)
    )
    return min(documents.MAX_HOOK_TIMEOUT_MINUTES, math.ceil(own / 60) + 1)


class DeploymentHook(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: DeploymentHookArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:DeploymentHook", name, None, opts)
        names, hook = args.names, args.hook
        self.stage = hook.stage
        self.timeout_minutes = hook_timeout_minutes(hook)
        self._account = pulumi.Output.from_input(args.account_id)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=names.hook_log_group(args.service, hook.module),
            retention_in_days=args.log_retention_days,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain_logs or None),
        )
        lambda_trust = json.dumps(documents.lambda_assume_role_policy(), sort_keys=True)
        self.role = self._role(name, "role", args, lambda_trust, "fn")
        policies = self._function_policies(name, args)
        vpc = hook.vpc if isinstance(hook, SmokeHook) else None
        self.security_group = self._security_group(name, args, vpc) if vpc else None
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=names.hook_function(args.service, hook.module),
            role=self.role.arn,
            runtime=RUNTIME,
            handler=f"{hook.module}.handler",
            code=archive(hook.module),
            timeout=function_timeout(hook),
            memory_size=128,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment(hook)),
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=list(vpc.subnet_ids), security_group_ids=[self.security_group.id]
            )
            if vpc is not None and self.security_group is not None
            else None,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, *policies]),
        )
        self.invoke_role = self._invoke_role(name, args)
        self.register_outputs(
            {"functionArn": self.function.arn, "invokeRoleArn": self.invoke_role.arn}
        )

    def lifecycle_hook(self) -> LifecycleHook:
        """The entry for the service's `deploymentConfiguration.lifecycleHooks`
        (`ServiceRunArgs.hooks`)."""
        return LifecycleHook(
            hook_target_arn=self.function.arn,
            role_arn=self.invoke_role.arn,
            lifecycle_stages=[self.stage],
            timeout_minutes=self.timeout_minutes,
        )

    def _role(
        self, name: str, part: str, args: DeploymentHookArgs, trust: pulumi.Input[str], role: str
    ) -> aws.iam.Role:
        """Named (`hook_role_name`), so the deploy role passes exactly the hook's roles."""
        names = args.names
        return aws.iam.Role(
            f"{name}-{part}",
            name=names.hook_role_name(args.service, args.hook.module, role),
            assume_role_policy=trust,
            description=f"{args.hook.module} hook of {names.family(args.service)}",
            path=names.role_path,
            permissions_boundary=args.boundary_arn
            if args.boundary_arn is not None
            else self._account.apply(names.boundary_arn),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _security_group(
        self, name: str, args: DeploymentHookArgs, vpc: HookVpc
    ) -> aws.ec2.SecurityGroup:
        """No ingress (nothing calls a hook over the network); egress to the test port only."""
        names, module = args.names, args.hook.module
        return aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=names.hook_security_group(args.service, module),
            description=f"{module} hook of {names.family(args.service)}: test route out",
            vpc_id=vpc.vpc_id,
            ingress=[],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=vpc.test_port,
                    to_port=vpc.test_port,
                    security_groups=[vpc.load_balancer_group_id],
                    description="the load balancer's test listener",
                )
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _policy(
        self, name: str, role: aws.iam.Role, policy: pulumi.Input[str]
    ) -> aws.iam.RolePolicy:
        return aws.iam.RolePolicy(
            name, role=role.id, policy=policy, opts=pulumi.ResourceOptions(parent=role)
        )

    def _function_policies(self, name: str, args: DeploymentHookArgs) -> list[aws.iam.RolePolicy]:
        """Logs always; ENIs for a smoke test in the VPC; the migration's ECS and PassRole."""
        names, hook = args.names, args.hook
        logs = self._account.apply(
            lambda a: json.dumps(
                documents.hook_logs_policy(names.hook_log_group_arn(a, args.service, hook.module)),
                sort_keys=True,
            )
        )
        policies = [self._policy(f"{name}-logs-policy", self.role, logs)]
        if isinstance(hook, SmokeHook) and hook.vpc is not None:
            vpc = json.dumps(documents.hook_vpc_policy(), sort_keys=True)
            policies.append(self._policy(f"{name}-vpc-policy", self.role, vpc))
        if isinstance(hook, MigrateHook):
            ecs = pulumi.Output.all(self._account, *hook.role_arns).apply(
                lambda v: json.dumps(
                    documents.migrate_policy(
                        cluster_arn=names.cluster_arn(v[0]),
                        task_definition_arn=names.task_definition_arn(v[0], args.service),
                        task_arn=names.ecs_task_arn(v[0]),
                        service_revision_arn=names.ecs_service_revision_arn(v[0], args.service),
                        role_arns=list(v[1:]),
                    ),
                    sort_keys=True,
                )
            )
            policies.append(self._policy(f"{name}-ecs-policy", self.role, ecs))
        return policies

    def _invoke_role(self, name: str, args: DeploymentHookArgs) -> aws.iam.Role:
        """The role ECS assumes to call the function: that function, nothing else."""
        names, module = args.names, args.hook.module
        trust = self._account.apply(
            lambda a: json.dumps(documents.hook_invoke_assume_role_policy(a), sort_keys=True)
        )
        role = self._role(name, "invoke-role", args, trust, "ecs")
        function = names.hook_function(args.service, module)
        invoke = self._account.apply(
            lambda a: json.dumps(
                documents.hook_invoke_policy(names.function_arn(a, function)), sort_keys=True
            )
        )
        self._policy(f"{name}-invoke-policy", role, invoke)
        return role
