"""What a stack renders, as the IAM documents need to know it: which resources exist and under
which ARNs. Each answer follows the component that creates the resource (components/), read from
the typed settings the program reads, so a grant exists exactly when its resource does.
"""

from __future__ import annotations

from rules import naming
from rules.ecs import pull
from rules.ecs.iam import secret_policy_arns
from rules.naming import credential_secret_name
from settings import Settings
from settings.web import LoadBalancerSettings


# --- the registry -------------------------------------------------------------------------------
def repository_arns(settings: Settings, account: str) -> list[str]:
    """Every repository the stack creates, by its configured name (custom names included)."""
    names = settings.names
    return sorted(names.repository_arn(account, r.name) for r in settings.registry.repositories)


def creates_template_role(settings: Settings) -> bool:
    """A creation-template role: the pull-through cache's, or the create-on-push and replication
    templates' (components/registry/templates.py)."""
    cache, wide = settings.cache, settings.registry_wide
    templates = cache.rules or settings.registry.root_creation_template
    return settings.account.owns and bool(templates or wide.create_on_push or wide.replication)


def template_prefixes(settings: Settings) -> list[str]:
    if not settings.account.owns:
        return []
    prefixes = [r.rule.prefix for r in settings.cache.rules]
    return prefixes + (["ROOT"] if settings.registry.root_creation_template else [])


def credential_secrets(settings: Settings, account: str) -> list[str]:
    """The `ecr-pullthroughcache/<prefix>` secrets the stack creates (the owner only)."""
    if not settings.account.owns:
        return []
    return sorted(
        settings.names.secret_arn(account, credential_secret_name(r.rule.prefix))
        for r in settings.cache.rules
        if r.username is not None and r.access_token is not None
    )


# --- the Fargate services -----------------------------------------------------------------------
def creates_security_group(settings: Settings) -> bool:
    """The tasks' group unless groups are given; the load balancer's own group always."""
    given = settings.fargate is not None and bool(settings.fargate.network.security_group_ids)
    return settings.fargate is not None and (not given or has_load_balancer(settings))


def fargate_services(settings: Settings) -> list[str]:
    """The services the stack runs: families and log groups are named for each exactly, so a
    stack `prod` never reaches the `ecr-fargate-prod-eu-*` names of a stack `prod-eu`."""
    assert settings.fargate is not None
    return [r.service.name for r in settings.fargate.runs]


def task_definition_arns(settings: Settings, account: str) -> list[str]:
    return [settings.names.task_definition_arn(account, s) for s in fargate_services(settings)]


def log_group_arns(settings: Settings, account: str) -> list[str]:
    """The log groups, in both forms IAM actions use (`log-group:NAME` and `log-group:NAME:*`):
    the services' and their deployment hooks'."""
    names = settings.names
    hooks = [names.hook_log_group_arn(account, s, h) for s, h in deployment_hooks(settings)]
    return [
        form
        for s in fargate_services(settings)
        for form in (names.log_group_arn(account, s), names.log_group_children_arn(account, s))
    ] + [form for arn in hooks for form in (arn, f"{arn}:*")]


def migrations(settings: Settings) -> list[str]:
    """The services whose deployments run `run.migrate` at PRE_SCALE_UP (never rolling ones:
    `components.ecs.run.ServiceRun._migration`)."""
    if settings.fargate is None:
        return []
    return [
        r.service.name
        for r in settings.fargate.services
        if r.migrate is not None and not r.deployment.rolling
    ]


def deployment_hooks(settings: Settings) -> list[tuple[str, str]]:
    """(service, hook module) of every `DeploymentHook` the stack creates."""
    return [(s, "migrate") for s in migrations(settings)]


def job_names(settings: Settings) -> list[str]:
    return [] if settings.fargate is None else [j.service.name for j in settings.fargate.jobs]


def uses_service_connect(settings: Settings) -> bool:
    """The Cloud Map namespace exists when some long-running service does."""
    return settings.fargate is not None and bool(settings.fargate.services)


def uses_capacity_strategy(settings: Settings) -> bool:
    return settings.fargate is not None and settings.fargate.uses_spot


# --- the web services ---------------------------------------------------------------------------
def load_balancer(settings: Settings) -> LoadBalancerSettings | None:
    """The stack's load balancer, None for none (no service is a web service)."""
    return settings.fargate.load_balancer if settings.fargate is not None else None


def has_load_balancer(settings: Settings) -> bool:
    return load_balancer(settings) is not None


def dns_records(settings: Settings) -> tuple[str, str] | None:
    """(domain, hosted zone ID) when the stack writes the domain's alias records (and, when it
    requests the certificate, the validation record) in that zone; None otherwise."""
    lb = load_balancer(settings)
    if lb is None or not lb.domain or not lb.hosted_zone_id:
        return None
    return lb.domain, lb.hosted_zone_id


def requests_certificate(settings: Settings) -> bool:
    """A `domain` without a given `certificateArn`: the stack asks ACM for the certificate."""
    lb = load_balancer(settings)
    return lb is not None and bool(lb.domain) and not lb.certificate_arn


def creates_access_logs_bucket(settings: Settings) -> bool:
    """Access logs configured without a bucket: the stack creates `access_logs_bucket`. A given
    bucket needs nothing of the deploy role (ELB writes with its own principal)."""
    lb = load_balancer(settings)
    return lb is not None and lb.access_logs is not None and not lb.access_logs.bucket


def empties_access_logs_bucket(settings: Settings) -> bool:
    """Outside prod the stack's logs bucket is `forceDestroy` (the program protects prod's
    instead): deleting it first deletes every object and object version in it."""
    return creates_access_logs_bucket(settings) and settings.environment != "prod"


def scaled_services(settings: Settings) -> list[str]:
    """The services with `run.scaling`."""
    if settings.fargate is None:
        return []
    return [r.service.name for r in settings.fargate.runs if r.scaling]


def uses_scaling(settings: Settings) -> bool:
    return bool(scaled_services(settings))


def uses_alarms(settings: Settings) -> bool:
    """Whether some service has deployment alarms: they watch its target group, so only with the
    load balancer."""
    runs = settings.fargate.runs if settings.fargate is not None else ()
    return has_load_balancer(settings) and any(r.alarms for r in runs)


# --- what the stack's tasks read at start-up (the boundary's scope) -----------------------------
def pull_sources(settings: Settings, account: str) -> tuple[list[str], list[str]]:
    """(repositories the execution roles pull from, pull-through repositories a first pull may
    create): each run's image where it really comes from, as the program grants it
    (`components/program.py` `_pull_grants`): the stack's own repository, or a prebuilt image's
    repository in whatever account and region its reference names, or its cache prefix."""
    if settings.fargate is None:
        return [], []
    names = settings.names
    own = {r.service: r.name for r in settings.registry.repositories}
    images = {s.name: s.image for s in settings.services}
    pulls: set[str] = set()
    imports: set[str] = set()
    for run in settings.fargate.runs:
        image = images.get(run.service.name)
        if image is None or image.prebuilt is None:
            pulls.add(names.repository_arn(account, own[run.service.name]))
            continue
        grants = pull.prebuilt_pull_grants(
            image.prebuilt,
            region=settings.region,
            cache_prefixes=[r.rule.prefix for r in settings.cache.rules],
            own_repositories=list(own.values()),
        )
        pulls |= set(grants.repository_arns)
        if grants.cache_prefix is not None and grants.cache_account is not None:
            prefix = grants.cache_prefix
            cached = "*" if prefix == "ROOT" else f"{prefix.rstrip('/')}/*"
            arn = naming.repository_arn(
                settings.partition.name, settings.region, grants.cache_account, cached
            )
            pulls.add(arn)
            imports.add(arn)
    return sorted(pulls), sorted(imports)


def task_secret_arns(settings: Settings) -> tuple[list[str], list[str]]:
    """(Secrets Manager ARNs, SSM parameter ARNs) the tasks' configs reference, in the form the
    execution roles' own policies grant them (`secret_policy_arns`: partial ARNs too)."""
    if settings.fargate is None:
        return [], []
    refs = {a for run in settings.fargate.runs for a in run.container.secrets.values()}
    secrets = secret_policy_arns(sorted(a for a in refs if ":secretsmanager:" in a))
    return secrets, sorted(a for a in refs if ":ssm:" in a)
