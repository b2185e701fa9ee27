"""The `ServiceTask` component: one service's log group, its two roles and its task definition.

The task definition names the image by digest, so a new digest is a new revision and a rollout.
Its fields come from `settings.fargate.task_request`, the same request `settings.fargate` checks
against the ECS model before anything is registered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.ecs import legacy
from rules.ecs import container, iam
from rules.naming import StackNames
from settings.fargate import FargateSettings, task_request


@dataclass
class ServiceTaskArgs:
    run: FargateSettings
    names: StackNames
    account_id: pulumi.Input[str]
    image: pulumi.Input[str]  # `<repository url>@sha256:...`
    repository_arns: list[pulumi.Input[str]]
    pull_through_policy: pulumi.Input[str] | None
    tags: dict[str, str]
    primary: bool  # carries the old single-service URNs as aliases
    # The boundary every role carries: the stack's own policy's ARN (an output, so each role waits
    # for it) or the bootstrap's (`Settings.permissions_boundary`).
    boundary_arn: pulumi.Input[str]
    # prod: a destroy or a replacement leaves the log group (and the logs of what went wrong);
    # dev deletes it with the stack.
    retain_logs: bool = False


class ServiceTask(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ServiceTaskArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:ServiceTask", name, None, opts)
        self._old = args.names if args.primary else None
        self.boundary_arn = args.boundary_arn
        run, names = args.run, args.names
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=names.log_group(run.service.name),
            retention_in_days=run.log_retention_days,
            tags=args.tags,
            opts=pulumi.ResourceOptions.merge(
                legacy.options(self._old, [legacy.LOG_GROUP], "logs", self),
                pulumi.ResourceOptions(retain_on_delete=args.retain_logs or None),
            ),
        )
        self.execution_role, self.task_role = self._roles(name, args)
        self.task_definition = self._task_definition(name, args)
        self.register_outputs({"taskDefinitionArn": self.task_definition.arn})

    def _role(self, name: str, part: str, args: ServiceTaskArgs, what: str) -> aws.iam.Role:
        account = pulumi.Output.from_input(args.account_id)
        return aws.iam.Role(
            f"{name}-{part}",
            assume_role_policy=account.apply(
                lambda a: json.dumps(iam.ecs_tasks_assume_role_policy(a), sort_keys=True)
            ),
            description=f"{what} for {args.names.family(args.run.service.name)}",
            path=args.names.role_path,
            permissions_boundary=args.boundary_arn,
            tags=args.tags,
            opts=legacy.options(self._old, [legacy.ROLE], part, self),
        )

    def _roles(self, name: str, args: ServiceTaskArgs) -> tuple[aws.iam.Role, aws.iam.Role]:
        """The execution role (pull, logs, secrets) and the app's own task role, both bounded."""
        execution = self._role(name, "execution", args, "ECS task execution role")
        self._execution_policies(name, args, execution)
        # The app's own role: nothing by default, never the execution role.
        task = self._role(name, "task", args, "ECS task role")
        if args.run.enable_execute_command:
            aws.iam.RolePolicy(
                f"{name}-exec-policy",
                role=task.id,
                policy=json.dumps(iam.ecs_exec_policy(), sort_keys=True),
                opts=legacy.options(
                    self._old, [legacy.ROLE, legacy.ROLE_POLICY], "exec-policy", task
                ),
            )
        return execution, task

    def _execution_policies(self, name: str, args: ServiceTaskArgs, role: aws.iam.Role) -> None:
        """Pull from where the image comes from, logs, the task's secrets; the cache if used."""
        secrets = list(args.run.container.secrets.values())
        policy = pulumi.Output.all(self.log_group.arn, *args.repository_arns).apply(
            lambda v: json.dumps(
                iam.execution_role_policy(
                    repository_arns=list(v[1:]),
                    log_group_arn=v[0],
                    secret_arns=[a for a in secrets if ":secretsmanager:" in a],
                    parameter_arns=[a for a in secrets if ":ssm:" in a],
                ),
                sort_keys=True,
            )
        )
        chain = [legacy.ROLE, legacy.ROLE_POLICY]
        aws.iam.RolePolicy(
            f"{name}-execution-policy",
            role=role.id,
            policy=policy,
            opts=legacy.options(self._old, chain, "execution-policy", role),
        )
        if args.pull_through_policy is not None:
            aws.iam.RolePolicy(
                f"{name}-pull-through-policy",
                role=role.id,
                policy=args.pull_through_policy,
                opts=legacy.options(self._old, chain, "pull-through-policy", role),
            )

    def _task_definition(self, name: str, args: ServiceTaskArgs) -> aws.ecs.TaskDefinition:
        """The revision that pins the digest, from the request settings checked."""
        run, names = args.run, args.names
        shape = task_request(run, names)
        definitions = pulumi.Output.from_input(args.image).apply(
            lambda image: container.container_definitions_json(
                task_request(run, names, image=image)["containerDefinitions"]
            )
        )
        ephemeral = run.ephemeral_storage_gib
        return aws.ecs.TaskDefinition(
            f"{name}-task-definition",
            family=str(shape["family"]),
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(shape["cpu"]),
            memory=str(shape["memory"]),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=run.cpu_architecture
            ),
            ephemeral_storage=aws.ecs.TaskDefinitionEphemeralStorageArgs(size_in_gib=ephemeral)
            if ephemeral is not None
            else None,
            volumes=[
                aws.ecs.TaskDefinitionVolumeArgs(name=v["name"])
                for v in container.render_volumes(run.container)
            ]
            or None,
            container_definitions=definitions,
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            tags=args.tags,
            opts=legacy.options(self._old, [legacy.TASK_DEFINITION], "task-definition", self),
        )
