"""Every physical name and ARN the stack, its CI roles and its bootstrap use, derived in one place.

A convention written twice drifts: a custom repository name once left CI without push rights
because the CI policy spelled the repository ARN on its own. Components, IAM documents, the CI
bootstrap and the tests all ask `StackNames`; nothing else joins a project, stack and service
into a name.

Limits come from the service APIs (botocore models): IAM role names are `[\\w+=,.@-]{1,64}` and
paths `/`-delimited up to 512 characters; ECS cluster, service, family and container names are
`[A-Za-z0-9_-]{1,255}`; CloudWatch log group names `[\\.\\-_/#A-Za-z0-9]{1,512}`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rules.name_parts import (
    MAX_BUCKET_NAME,
    MAX_FUNCTION_NAME,
    MAX_ROLE_NAME,
    OIDC_ISSUER,
    PROJECT,
    SCHEDULE_GROUP,
    account_root_arn,
    arn,
    bounded_name,
    bucket_arn,
    bucket_object_arn,
    credential_secret_name,
    elb_name,
    repository_arn,
)
from rules.name_parts import (
    MAX_ELB_NAME as MAX_ELB_NAME,
)
from rules.name_parts import (
    MAX_STACK_NAME as MAX_STACK_NAME,
)
from rules.name_parts import (
    STACK_NAME as STACK_NAME,
)
from rules.name_parts import (
    STACK_TAG as STACK_TAG,
)
from rules.name_parts import (
    validate_stack_name as validate_stack_name,
)


@dataclass(frozen=True)
class StackNames:
    """Names for one stack; ARNs need the account, which only the provider knows at deploy time."""

    stack: str
    partition: str = "aws"
    region: str = "us-east-1"
    project: str = PROJECT

    def in_region(self, region: str) -> StackNames:
        """The same stack's names in another region: the registry's replicas and their keys."""
        return replace(self, region=region)

    # --- names -------------------------------------------------------------------------------
    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.stack}"

    @property
    def role_path(self) -> str:
        """Where the stack's own roles live (execution, task, ECR template): CI may manage these."""
        return f"/{self.project}/{self.stack}/"

    @property
    def ci_path(self) -> str:
        """Where the bootstrap puts the CI roles and the boundary: outside `role_path`, so the
        deploy role's `role/<project>/<stack>/*` grants can never reach them."""
        return f"/{self.project}-ci/{self.stack}/"

    @property
    def cluster(self) -> str:
        return self.prefix

    @property
    def load_balancer_name(self) -> str:
        """The stack's one Application Load Balancer: derived from the stack alone, so adding,
        removing or renaming a service never replaces it."""
        return elb_name(self.prefix)

    @property
    def load_balancer_security_group(self) -> str:
        """The load balancer's group: its listeners open to `allowedCidrs`, out to the tasks."""
        return f"{self.prefix}-lb"

    def target_group_name(self, service: str, fingerprint: str) -> str:
        """A `web` service's target group. `fingerprint` changes whenever a property that forces
        a new target group changes (port, protocol, target type), so Pulumi's create-before-delete
        replacement never asks for a name that is still taken."""
        return elb_name(self.stack, service, fingerprint)

    def alternate_target_group_name(self, service: str, fingerprint: str) -> str:
        """A `web` service's second target group (blue/green, canary, linear): ECS registers the
        new revision here while the first serves. `-g` keeps it apart from the first group's name
        and the fingerprint from its own create-before-delete replacement; both are bounded to
        ELB's 32 characters, so a long service name hashes instead of colliding."""
        return elb_name(self.stack, service, fingerprint, "g")

    def access_logs_bucket(self, account: str) -> str:
        """The bucket the stack creates for its load balancer's access logs. S3 bucket names are
        global: the account and region make it unique, and a name over S3's 63 characters keeps
        its head and a hash of the whole (lowercase letters, digits and hyphens throughout).
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"""
        return bounded_name(f"{self.prefix}-lb-logs-{account}-{self.region}", MAX_BUCKET_NAME)

    def access_logs_bucket_arn(self, account: str) -> str:
        return self.bucket_arn(self.access_logs_bucket(account))

    def access_logs_bucket_object_arn(self, account: str, key: str = "*") -> str:
        """Objects of the stack's access-logs bucket (`*`: all of them, to empty it)."""
        return self.bucket_object_arn(self.access_logs_bucket(account), key)

    def access_log_objects_arn(self, bucket: str, prefix: str, account: str) -> str:
        """Where ELB writes the access logs of `account`'s load balancers into `bucket` (the
        stack's or a given one): `<bucket>/<prefix>/AWSLogs/<account>/*` (no prefix: no segment).
        https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html"""
        head = f"{prefix}/" if prefix else ""
        return self.bucket_object_arn(bucket, f"{head}AWSLogs/{account}/*")

    @property
    def ci_cloudformation_stack(self) -> str:
        """The CloudFormation stack that holds this stack's CI resources (the bootstrap's)."""
        return f"{self.project}-ci-{self.stack}"

    @property
    def deploy_role_name(self) -> str:
        return f"{self.prefix}-deploy"

    @property
    def preview_role_name(self) -> str:
        return f"{self.prefix}-preview"

    @property
    def boundary_policy_name(self) -> str:
        # IAM policy names are unique per account whatever their path: the stack is in the name.
        return f"{self.prefix}-boundary"

    @property
    def stack_boundary_policy_name(self) -> str:
        """The boundary a stack creates for itself (`permissionsBoundary: stack`). Not the
        bootstrap's name: policy names are unique per account, so the bootstrap's template can
        create its own boundary while this one still exists, and the stack then moves to it."""
        return f"{self.prefix}-stack-boundary"

    def deploy_policy_name(self, index: int) -> str:
        """The deploy role's managed policies, numbered: one role's inline policies may hold
        10,240 characters in all, a managed policy 6,144, and a role may have ten attached."""
        return f"{self.prefix}-deploy-{index}"

    @property
    def image_digests_parameter(self) -> str:
        """The SSM parameter CI writes after promoting: JSON, service -> image index digest."""
        return f"/{self.project}/{self.stack}/image-digests"

    @property
    def secrets_key_alias(self) -> str:
        """The KMS key of the stack's `awskms://` secrets provider (self-managed state backend)."""
        return f"alias/{self.prefix}-secrets"

    @property
    def secrets_provider(self) -> str:
        """What `pulumi stack change-secrets-provider` takes to encrypt with that key."""
        return f"awskms://{self.secrets_key_alias}?region={self.region}"

    def default_repository(self, service: str) -> str:
        return f"{self.stack}/{service}"

    def family(self, service: str) -> str:
        return f"{self.prefix}-{service}"

    def log_group(self, service: str) -> str:
        return f"/ecs/{self.family(service)}"

    def container(self, service: str) -> str:
        return service

    def ecs_service(self, service: str) -> str:
        return service

    @property
    def namespace(self) -> str:
        """The stack's AWS Cloud Map HTTP namespace, where Service Connect publishes services."""
        return self.prefix

    @property
    def services_security_group(self) -> str:
        """The group every task of the stack carries: the only source a backend admits."""
        return f"{self.prefix}-services"

    def security_group(self, service: str) -> str:
        """A service's own group: its port open to what its kind allows, nothing else."""
        return f"{self.prefix}-{service}"

    def hook_security_group(self, service: str, hook: str) -> str:
        """A hook function's group in the VPC: out to the load balancer's test port only."""
        return f"{self.prefix}-{service}-{hook}-hook"

    def schedule(self, service: str) -> str:
        """A job's EventBridge Scheduler schedule (in the `default` group)."""
        return f"{self.prefix}-{service}"

    def hook_function(self, service: str, hook: str) -> str:
        """A service's deployment-hook Lambda function (`hook`: `smoke`, `migrate`). Function
        names are `[A-Za-z0-9_-]` up to 64 characters (CreateFunction): a long one is hashed
        but keeps the stack's prefix, which a `prod` grant shares with `prod-eu`, so grants on
        functions also require the `stack` tag."""
        return bounded_name(f"{self.prefix}-{service}-{hook}", MAX_FUNCTION_NAME)

    def hook_role_name(self, service: str, hook: str, part: str) -> str:
        """A hook's roles (`part`: `fn`, the function's own; `ecs`, the one ECS invokes it
        with), named so the deploy role passes exactly these to Lambda and to ECS. Under
        `role_path`, so the ARN is the stack's alone even where the name is hashed."""
        return bounded_name(f"{self.prefix}-{service}-{hook}-{part}", MAX_ROLE_NAME)

    def hook_log_group(self, service: str, hook: str) -> str:
        """Where Lambda writes a function's logs by default (`/aws/lambda/<name>`): the stack
        creates it first, so retention applies and the function needs no logs:CreateLogGroup."""
        return f"/aws/lambda/{self.hook_function(service, hook)}"

    def alarm_name(self, service: str, what: str) -> str:
        """A CloudWatch alarm of a service (`what`: `5xx-rate`, `unhealthy-hosts`). Alarm names
        are unique per account and region, at most 255 characters (PutMetricAlarm); the stack's
        prefix keeps the deploy role's `alarm:<prefix>-*` grant to this stack's alarms."""
        return f"{self.prefix}-{service}-{what}"

    def scalable_target_resource_id(self, service: str) -> str:
        """Application Auto Scaling's ID of an ECS service: `service/<cluster>/<service>`
        (RegisterScalableTarget's ResourceId)."""
        return f"service/{self.cluster}/{self.ecs_service(service)}"

    def scaling_policy_name(self, service: str, metric: str) -> str:
        """A target-tracking policy (`metric`: `cpu`, `memory`, `requests`); PutScalingPolicy
        names are 1 to 256 printable characters, unique per scalable target."""
        return f"{self.prefix}-{service}-{metric}"

    def scheduled_action_name(self, service: str, index: int) -> str:
        """The `index`-th scheduled action of a service; PutScheduledAction names are 1 to 256
        characters without `:`, `/` or `|`, unique per scalable target."""
        return f"{self.prefix}-{service}-scheduled-{index}"

    # --- ARNs --------------------------------------------------------------------------------
    def _arn(self, service: str, account: str, resource: str, *, regional: bool = True) -> str:
        return arn(self.partition, service, self.region if regional else "", account, resource)

    def repository_arn(self, account: str, name: str) -> str:
        return repository_arn(self.partition, self.region, account, name)

    def account_root_arn(self, account: str) -> str:
        """The account as a principal: what a key policy delegates to IAM with."""
        return account_root_arn(self.partition, account)

    def bucket_arn(self, bucket: str) -> str:
        """A bucket in the stack's partition, whoever named it."""
        return bucket_arn(self.partition, bucket)

    def bucket_object_arn(self, bucket: str, key: str) -> str:
        return bucket_object_arn(self.partition, bucket, key)

    def role_arn(self, account: str, name: str = "*") -> str:
        """A role under the stack's own path (`*`: all of them)."""
        return self._arn("iam", account, f"role{self.role_path}{name}", regional=False)

    def deploy_role_arn(self, account: str) -> str:
        return self._arn(
            "iam", account, f"role{self.ci_path}{self.deploy_role_name}", regional=False
        )

    def preview_role_arn(self, account: str) -> str:
        return self._arn(
            "iam", account, f"role{self.ci_path}{self.preview_role_name}", regional=False
        )

    def boundary_arn(self, account: str) -> str:
        return self._arn(
            "iam", account, f"policy{self.ci_path}{self.boundary_policy_name}", regional=False
        )

    def stack_boundary_arn(self, account: str) -> str:
        """Under the stack's role path, beside the roles it caps: the deploy role's grants on
        that path are for roles only, and its guards deny every write of this policy."""
        return self._arn(
            "iam",
            account,
            f"policy{self.role_path}{self.stack_boundary_policy_name}",
            regional=False,
        )

    def ci_roles_arn(self, account: str) -> str:
        """Every project's CI role, all stacks: what no deploy role may ever write."""
        return self._arn("iam", account, f"role/{self.project}-ci/*", regional=False)

    def ci_policies_arn(self, account: str) -> str:
        """Every managed policy under the CI path (the boundaries), all stacks."""
        return self._arn("iam", account, f"policy/{self.project}-ci/*", regional=False)

    def service_linked_role_arn(self, account: str, service: str) -> str:
        """Where IAM puts a service's linked role: `role/aws-service-role/<service>/<name>`."""
        return self._arn("iam", account, f"role/aws-service-role/{service}/*", regional=False)

    def oidc_provider_arn(self, account: str) -> str:
        return self._arn("iam", account, f"oidc-provider/{OIDC_ISSUER}", regional=False)

    def cluster_arn(self, account: str) -> str:
        return self._arn("ecs", account, f"cluster/{self.cluster}")

    def load_balancer_arn(self, account: str) -> str:
        """ELB appends a generated ID to the name: `loadbalancer/app/<name>/<id>`."""
        return self._arn(
            "elasticloadbalancing", account, f"loadbalancer/app/{self.load_balancer_name}/*"
        )

    def listener_arn(self, account: str) -> str:
        return self._arn(
            "elasticloadbalancing", account, f"listener/app/{self.load_balancer_name}/*"
        )

    def listener_rule_arn(self, account: str) -> str:
        return self._arn(
            "elasticloadbalancing", account, f"listener-rule/app/{self.load_balancer_name}/*"
        )

    def capacity_provider_arn(self, account: str, provider: str) -> str:
        """FARGATE and FARGATE_SPOT are AWS's own providers, named in the account's ARN space."""
        return self._arn("ecs", account, f"capacity-provider/{provider}")

    def ecs_service_arn(self, account: str, service: str = "*") -> str:
        return self._arn("ecs", account, f"service/{self.cluster}/{service}")

    def ecs_service_deployment_arn(self, account: str, service: str = "*") -> str:
        return self._arn("ecs", account, f"service-deployment/{self.cluster}/{service}/*")

    def ecs_service_revision_arn(self, account: str, service: str = "*") -> str:
        """A service's revisions: `service-revision/<cluster>/<service>/<id>`."""
        return self._arn("ecs", account, f"service-revision/{self.cluster}/{service}/*")

    def ecs_task_arn(self, account: str) -> str:
        """Every task on the stack's cluster: `task/<cluster>/<id>`; the cluster's name ends at a
        `/`, so `prod` never reaches `prod-eu`'s tasks."""
        return self._arn("ecs", account, f"task/{self.cluster}/*")

    def function_arn(self, account: str, name: str) -> str:
        return self._arn("lambda", account, f"function:{name}")

    def hook_log_group_arn(self, account: str, service: str, hook: str) -> str:
        return self._arn("logs", account, f"log-group:{self.hook_log_group(service, hook)}")

    def task_definition_arn(self, account: str, service: str = "*") -> str:
        family = self.family(service) if service != "*" else f"{self.prefix}-*"
        return self._arn("ecs", account, f"task-definition/{family}:*")

    def log_group_arn(self, account: str, service: str = "*") -> str:
        name = self.log_group(service) if service != "*" else f"/ecs/{self.prefix}-*"
        return self._arn("logs", account, f"log-group:{name}")

    def log_group_children_arn(self, account: str, service: str = "*") -> str:
        """`log-group:NAME:*`, the form of a log group that some CloudWatch Logs actions match."""
        return f"{self.log_group_arn(account, service)}:*"

    def log_stream_arn(self, account: str, service: str = "*", stream: str = "*") -> str:
        """A service's log streams, where its tasks write (`log-group:NAME:log-stream:STREAM`)."""
        return f"{self.log_group_arn(account, service)}:log-stream:{stream}"

    def alarm_arn(self, account: str, service: str = "*") -> str:
        """A service's alarms (`*`: every alarm of the stack): `alarm:<prefix>-<service>-*`. A
        stack `prod-eu`'s alarms match `prod`'s pattern too, so every grant on them also
        requires the `stack` tag."""
        name = f"{self.prefix}-{service}-*" if service != "*" else f"{self.prefix}-*"
        return self._arn("cloudwatch", account, f"alarm:{name}")

    def schedule_arn(self, account: str, service: str = "*") -> str:
        name = self.schedule(service) if service != "*" else f"{self.prefix}-*"
        return self._arn("scheduler", account, f"schedule/{SCHEDULE_GROUP}/{name}")

    def namespace_arn(self, account: str, namespace_id: str = "*") -> str:
        """Cloud Map names a namespace by a generated ID: scoped to the stack by its tag."""
        return self._arn("servicediscovery", account, f"namespace/{namespace_id}")

    def key_arn(self, account: str, key_id: str = "*") -> str:
        return self._arn("kms", account, f"key/{key_id}")

    def security_group_arn(self, account: str, group_id: str = "*") -> str:
        return self._arn("ec2", account, f"security-group/{group_id}")

    def vpc_arn(self, account: str, vpc_id: str = "*") -> str:
        return self._arn("ec2", account, f"vpc/{vpc_id}")

    def parameter_arn(self, account: str, name: str = "*") -> str:
        return self._arn("ssm", account, f"parameter/{name}")

    # --- what the CI deploy role reaches for the web services (load balancer, HTTPS, scaling) ---
    def target_group_arn(self, account: str, name: str = "*") -> str:
        """`targetgroup/<name>/<id>`: a long stack's names are hashed, so the deploy role reaches
        its target groups by their `stack` tag, not by a name prefix."""
        return self._arn("elasticloadbalancing", account, f"targetgroup/{name}/*")

    @property
    def infrastructure_role_name(self) -> str:
        """The role ECS moves the stack's listener rules with in a blue/green, canary or linear
        deployment (one per stack, under `role_path`): IAM's 64 characters hold
        `<project>-<stack>-ecs-lb` for every stack name `validate_stack_name` accepts."""
        return f"{self.prefix}-ecs-lb"

    def elb_resource_arn(self, account: str) -> str:
        """Every Elastic Load Balancing resource of the account in the stack's region: tagging
        reaches load balancers, listeners, rules and target groups by their `stack` tag alone."""
        return self._arn("elasticloadbalancing", account, "*")

    def certificate_arn(self, account: str, certificate_id: str = "*") -> str:
        """ACM names a certificate by a generated ID: scoped to the stack by its tag."""
        return self._arn("acm", account, f"certificate/{certificate_id}")

    def hosted_zone_arn(self, zone_id: str) -> str:
        """Route 53 is global: no region or account in its ARNs."""
        return arn(self.partition, "route53", "", "", f"hostedzone/{zone_id}")

    def route53_change_arn(self, change_id: str = "*") -> str:
        return arn(self.partition, "route53", "", "", f"change/{change_id}")

    def scalable_target_arn(self, account: str, target_id: str = "*") -> str:
        """Application Auto Scaling names a scalable target by a generated ID: by its tag."""
        return self._arn("application-autoscaling", account, f"scalable-target/{target_id}")

    def target_tracking_alarm_arn(self, account: str) -> str:
        """The alarms Application Auto Scaling creates for a target-tracking policy of one of the
        stack's ECS services: `TargetTracking-service/<cluster>/<service>-Alarm...`; the cluster's
        exact name ends at a `/`, so `prod` never reaches `prod-eu`'s.
        https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html"""
        name = f"TargetTracking-service/{self.cluster}/*"
        return self._arn("cloudwatch", account, f"alarm:{name}")

    # --- a self-managed (S3) state backend ------------------------------------------------------
    # Pulumi's object layout for a project-scoped stack (`.pulumi/meta.yaml` version 1), under the
    # backend URL's path (`s3://BUCKET/PREFIX` keeps everything under `PREFIX/`):
    # https://www.pulumi.com/docs/iac/concepts/state-and-backends/#aws-s3
    def state_meta_key(self, prefix: str = "") -> str:
        """The backend's format version, read by every command."""
        return f"{prefix}.pulumi/meta.yaml"

    def state_checkpoint_keys(self, prefix: str = "") -> str:
        """The stack's checkpoint (`.json`, `.json.gz`, `.json.zst`, each with a `.bak`) and its
        tags file (`.pulumi-tags`): what a preview reads. Stack names have no `.`, so `dev.*`
        never reaches another stack."""
        return f"{prefix}.pulumi/stacks/{self.project}/{self.stack}.*"

    def state_stack_keys(self, prefix: str = "") -> tuple[str, ...]:
        """Every object an update writes: checkpoint and tags, history, backups, the journal of
        an update in progress, and the lock (always under the organization `organization`)."""
        root, tail = f"{prefix}.pulumi", f"{self.project}/{self.stack}/*"
        return (
            self.state_checkpoint_keys(prefix),
            f"{root}/history/{tail}",
            f"{root}/backups/{tail}",
            f"{root}/journal/{tail}",
            f"{root}/locks/organization/{tail}",
        )

    def state_bucket_arn(self, bucket: str) -> str:
        return self.bucket_arn(bucket)

    def state_object_arn(self, bucket: str, key: str) -> str:
        return self.bucket_object_arn(bucket, key)

    def cache_credentials_arn(self, account: str) -> str:
        """Every pull-through cache credential secret (`ecr-pullthroughcache/...`) of `account`,
        in any region: what only the account owner's roles may read."""
        name = f"{credential_secret_name('*').rstrip('*')}*"
        return arn(self.partition, "secretsmanager", "*", account, f"secret:{name}")

    def secret_arn(self, account: str, name: str) -> str:
        # Secrets Manager appends `-` and six random characters to every secret's ARN.
        return self._arn("secretsmanager", account, f"secret:{name}-??????")
