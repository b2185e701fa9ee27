"""Render a stack in-process against Pulumi's mock engine: no CLI, no cloud, no Docker.

Provider-computed values (ARNs, URLs, image digests, account ID) are deterministic placeholders
derived from the inputs, so two renders of one stack are identical and tests can check how values
flow from one resource into the next. An invoke the mocks do not know fails loudly instead of
yielding `None` fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.settings import get_project, get_stack
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

import settings as stack_settings
from settings.source import PROJECT_DIR, RawConfig, from_files

ACCOUNT_ID = "123456789012"
STACK_TYPE = "pulumi:pulumi:Stack"
PROJECT = "ecr-fargate"
# The Route 53 zone of Application Load Balancers' DNS names, by region (what `zoneId` returns):
# https://docs.aws.amazon.com/general/latest/gr/elb.html
ALB_ZONES = {"us-east-1": "Z35SXDOTRQ7X7K", "eu-west-1": "Z32O12XQLNTSW2"}


def _hex(*parts: str, length: int = 64) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class RenderedResource:
    type: str
    name: str
    inputs: dict[str, Any]
    state: dict[str, Any]
    protect: bool = False
    secret_inputs: frozenset[str] = frozenset()  # top-level input names that arrived as secrets
    urn: str = ""
    aliases: tuple[str, ...] = ()  # the URNs given as `aliases` (what `pulumi up` moves from)
    id: str = ""  # the provider's ID (a security group's `sg-...`, what rules refer to)
    ignore_changes: tuple[str, ...] = ()  # inputs `pulumi up` keeps as they are in the state
    dependencies: tuple[str, ...] = ()  # URNs it waits for: its inputs' resources, `depends_on`
    parent: str = ""  # the parent's URN (the stack's for a top-level resource)
    custom: bool = True  # False for a component resource
    retain_on_delete: bool = False  # a destroy or replacement leaves it in the account


@dataclass
class Rendered:
    stack: str
    resources: list[RenderedResource]
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    secret_outputs: set[str] = field(default_factory=set)
    invokes: list[str] = field(default_factory=list)  # the provider functions called, in order

    def of_type(self, type_: str) -> list[RenderedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> RenderedResource:
        found = self.of_type(type_)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_}, found {len(found)}")
        return found[0]

    def named(self, name: str) -> RenderedResource:
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(name)


@dataclass(frozen=True)
class _Request:
    """What the monitor saw of one RegisterResource request that the mock's arguments drop."""

    protect: bool = False
    secret_inputs: frozenset[str] = frozenset()
    urn: str = ""
    aliases: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    parent: str = ""
    custom: bool = True
    retain_on_delete: bool = False


class _Mocks(pulumi.runtime.Mocks):
    def __init__(
        self,
        region: str,
        dns_suffix: str,
        partition: str,
        promoted: dict[str, str] | None = None,
    ) -> None:
        self.region = region
        self.promoted = promoted or {}  # the image-digests SSM parameter's JSON (promoteFrom)
        self.dns_suffix = dns_suffix
        self.partition = partition
        self.resources: list[RenderedResource] = []
        self.requests: dict[tuple[str, str], _Request] = {}
        self.invokes: list[str] = []

    def _arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{ACCOUNT_ID}:{resource}"

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = _unwrap(dict(args.inputs))
        # The outputs keep an archive an archive (the SDK checks its type); the recorded
        # inputs hold its files' text (`_unwrap`), so two renders compare by content.
        raw = dict(args.inputs)
        state = {
            k: raw[k] if isinstance(raw.get(k), pulumi.Archive) else v for k, v in inputs.items()
        }
        t, name = args.typ, args.name
        rid = f"{name}-id"
        if t == "aws:ecr/repository:Repository":
            repo = inputs.get("name", name)
            rid = repo
            state.update(
                arn=self._arn("ecr", f"repository/{repo}"),
                repositoryUrl=f"{ACCOUNT_ID}.dkr.ecr.{self.region}.{self.dns_suffix}/{repo}",
                registryId=ACCOUNT_ID,
            )
        elif t == "aws:kms/key:Key":
            rid = _hex(name, length=32)
            # A key in another region (pulumi-aws's per-resource `region`: a replica's key).
            where = inputs.get("region") or self.region
            arn = f"arn:{self.partition}:kms:{where}:{ACCOUNT_ID}:key/{rid}"
            state.update(arn=arn, keyId=rid)
        elif t == "aws:cloudwatch/logGroup:LogGroup":
            state["arn"] = self._arn("logs", f"log-group:{inputs.get('name', name)}")
        elif t == "aws:ecs/cluster:Cluster":
            state["arn"] = self._arn("ecs", f"cluster/{inputs.get('name', name)}")
        elif t == "aws:ecs/taskDefinition:TaskDefinition":
            state.update(arn=self._arn("ecs", f"task-definition/{inputs['family']}:1"), revision=1)
        elif t == "aws:lambda/function:Function":
            function_arn = self._arn("lambda", f"function:{inputs.get('name', name)}")
            state.update(
                arn=function_arn, qualifiedArn=f"{function_arn}:$LATEST", version="$LATEST"
            )
            rid = str(inputs.get("name", name))
        elif t == "aws:ecs/service:Service":
            rid = self._arn("ecs", f"service/{inputs.get('name', name)}")
        elif t == "aws:servicediscovery/httpNamespace:HttpNamespace":
            rid = f"ns-{_hex(name, length=16)}"
            state["arn"] = self._arn("servicediscovery", f"namespace/{rid}")
        elif t == "aws:ec2/securityGroup:SecurityGroup":
            rid = f"sg-{_hex(name, length=17)}"
        elif t.startswith(("aws:lb/", "aws:acm/", "aws:route53/", "aws:s3/bucket:")):
            rid = self._web_state(t, name, inputs, state) or rid
        elif t.startswith(("aws:iam/", "aws:secretsmanager/secret:")):
            rid = self._identity_state(t, name, inputs, state) or rid
        elif t == "docker:index/image:Image":
            image_name = inputs.get("imageName", "")
            repo = image_name.rsplit(":", 1)[0]
            build = inputs.get("build") or {}
            state.update(
                repoDigest=f"{repo}@sha256:{_hex(image_name, str(sorted(build.items())))}",
                baseImageName=image_name,
            )
        self._record(t, name, inputs, state, rid)
        return rid, state

    def _identity_state(
        self, t: str, name: str, inputs: dict[str, Any], state: dict[str, Any]
    ) -> str | None:
        """Roles, managed policies, secrets and the OIDC provider: their ARNs, and the ID the
        provider gives (None: the resource name's default)."""
        rid: str | None = None
        if t == "aws:iam/role:Role":
            path, role = inputs.get("path", "/"), inputs.get("name", name)
            state.update(arn=self._arn("iam", f"role{path}{role}", region=False), name=role)
            rid = role
        elif t == "aws:iam/policy:Policy":
            # A managed policy's ARN is its path and name (the stack's own boundary).
            policy = inputs.get("name", name)
            path = inputs.get("path", "/")
            state.update(arn=self._arn("iam", f"policy{path}{policy}", region=False), name=policy)
            rid = state["arn"]
        elif t == "aws:secretsmanager/secret:Secret":
            secret_name = inputs.get("name", name)
            state["arn"] = self._arn(
                "secretsmanager", f"secret:{secret_name}-{_hex(secret_name, length=6)}"
            )
            rid = state["arn"]
        elif t == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            state["arn"] = self._arn(
                "iam",
                f"oidc-provider/{inputs.get('url', '').removeprefix('https://')}",
                region=False,
            )
        return rid

    def _record(
        self, t: str, name: str, inputs: dict[str, Any], state: dict[str, Any], rid: str
    ) -> None:
        """The resource as rendered, with what the monitor saw of its request."""
        req = self.requests.pop((t, name), _Request())
        self.resources.append(
            RenderedResource(
                t,
                name,
                inputs,
                state,
                req.protect,
                req.secret_inputs,
                req.urn,
                req.aliases,
                rid,
                req.ignore_changes,
                req.dependencies,
                req.parent,
                req.custom,
                req.retain_on_delete,
            )
        )

    def _web_state(
        self, t: str, name: str, inputs: dict[str, Any], state: dict[str, Any]
    ) -> str | None:
        """The load balancer, its target groups, listeners and rules, the certificate, records
        and the logs bucket: ARNs shaped as ELB, ACM and S3 give them, IDs from the name."""
        rid = _hex(name, length=16)
        elb = "elasticloadbalancing"
        if t == "aws:lb/loadBalancer:LoadBalancer":
            suffix = f"app/{inputs['name']}/{rid}"
            state.update(
                arn=self._arn(elb, f"loadbalancer/{suffix}"),
                arnSuffix=suffix,
                dnsName=f"{inputs['name']}-{int(rid[:8], 16)}.{self.region}.elb.{self.dns_suffix}",
                zoneId=ALB_ZONES.get(self.region, "Z" + rid[:13].upper()),
            )
        elif t == "aws:lb/targetGroup:TargetGroup":
            suffix = f"targetgroup/{inputs['name']}/{rid}"
            state.update(arn=self._arn(elb, suffix), arnSuffix=suffix)
        elif t == "aws:lb/listener:Listener":
            state["arn"] = (
                inputs["loadBalancerArn"].replace(":loadbalancer/", ":listener/") + f"/{rid}"
            )
        elif t == "aws:lb/listenerRule:ListenerRule":
            state["arn"] = (
                inputs["listenerArn"].replace(":listener/", ":listener-rule/") + f"/{rid}"
            )
        elif t == "aws:acm/certificate:Certificate":
            uuid = f"{rid[:8]}-{rid[8:12]}-{rid[12:16]}-{_hex(name, 'b', length=4)}-{_hex(name, 'c', length=12)}"
            domain = inputs["domainName"]
            state.update(
                arn=self._arn("acm", f"certificate/{uuid}"),
                domainValidationOptions=[
                    {
                        "domainName": domain,
                        "resourceRecordName": f"_{_hex(domain, length=32)}.{domain}.",
                        "resourceRecordType": "CNAME",
                        "resourceRecordValue": f"_{_hex(domain, 'v', length=32)}.acm-validations.aws.",
                    }
                ],
            )
        elif t == "aws:route53/record:Record":
            state["fqdn"] = inputs["name"].rstrip(".")
        elif t == "aws:s3/bucket:Bucket":
            state.update(arn=f"arn:{self.partition}:s3:::{inputs['bucket']}")
            return str(inputs["bucket"])
        else:
            return None
        return state.get("arn") if t != "aws:route53/record:Record" else None

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        token = args.token
        self.invokes.append(token)
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:{self.partition}:iam::{ACCOUNT_ID}:user/plan",
                "userId": "AIDAPLAN",
                "id": ACCOUNT_ID,
            }
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            host = f"{ACCOUNT_ID}.dkr.ecr.{self.region}.{self.dns_suffix}"
            return {
                "userName": "AWS",
                "password": "mock-ecr-password",
                "authorizationToken": "QVdTOm1vY2stZWNyLXBhc3N3b3Jk",
                "proxyEndpoint": f"https://{host}",
                "expiresAt": "2100-01-01T00:00:00Z",
                "id": self.region,
            }
        if token == "aws:ec2/getVpc:getVpc":
            return {
                "id": "vpc-0123456789abcdef0",
                "cidrBlock": "172.31.0.0/16",
                "default": True,
            }
        if token == "aws:ec2/getSubnets:getSubnets":
            return {
                "ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
                "id": "subnets",
            }
        if token == "aws:ssm/getParameter:getParameter":
            name = args.args.get("name")
            value = json.dumps(self.promoted, sort_keys=True)
            return {"id": name, "name": name, "type": "String", "value": value, "version": 1}
        if token == "aws:ec2/getSubnet:getSubnet":
            return {"id": args.args.get("id"), "vpcId": "vpc-0123456789abcdef0"}
        raise NotImplementedError(f"the offline engine has no answer for invoke {token}")


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _unwrap(value: Any) -> Any:
    """Inputs as the provider would see them; which ones were secrets is recorded separately."""
    if _is_secret(value):
        return _unwrap(value["value"])
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, pulumi.AssetArchive):  # a hook's code: its files, compared by content
        return {"assets": {k: _unwrap(v) for k, v in sorted(value.assets.items())}}
    if isinstance(value, pulumi.StringAsset):
        return {"text": value.text}
    return value


def _holds_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return _is_secret(value) or any(_holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    return False


class _Monitor(mocks.MockMonitor):
    """Records what the stock mock monitor drops: `protect`, which inputs are secrets, the URN,
    the aliases (given as URNs) that let a renamed or re-parented resource keep its state, and the
    inputs `ignoreChanges` keeps out of updates."""

    def __init__(self, mock: _Mocks) -> None:
        super().__init__(mock)
        self.mock = mock

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives: the parent's whole type chain (the stock mock keeps only the
        parent's last type), and nothing of the root stack's type.
        https://www.pulumi.com/docs/iac/concepts/resources/names/#urns"""
        qualified = parent.split("::")[2] if parent else ""
        if qualified and qualified != STACK_TYPE:
            type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        raw = json_format.MessageToDict(request.object)
        secret = frozenset(k for k, v in raw.items() if _holds_secret(v))
        self.mock.requests[(request.type, request.name)] = _Request(
            bool(request.protect),
            secret,
            self.make_urn(request.parent, request.type, request.name),
            tuple(a.urn for a in request.aliases if a.urn),
            tuple(request.ignoreChanges),
            tuple(sorted(request.dependencies)),
            request.parent,
            bool(request.custom),
            bool(request.retainOnDelete),
        )
        return super().RegisterResource(request)


def raw_stack_config(
    stack: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    project_dir: Path = PROJECT_DIR,
    stack_dir: Path | None = None,
) -> RawConfig:
    return from_files(
        stack, overrides=overrides, secrets=secrets, project_dir=project_dir, stack_dir=stack_dir
    )


def render(
    raw: RawConfig,
    *,
    preview: bool = False,
    env: Mapping[str, str] | None = None,
    program: Callable[[stack_settings.Settings], dict[str, Any]] | None = None,
) -> Rendered:
    """Load settings (raising `ConfigErrors` on bad config) and run the program under mocks."""
    from components.program import build_stack

    loaded = stack_settings.load(raw, env=env)
    return run_program(loaded, raw.stack, program or build_stack, preview=preview)


def promoted_digests(loaded: stack_settings.Settings) -> dict[str, str]:
    """What the offline engine answers for the image-digests parameter: one made-up digest per
    service that reads it (sha256 of `promoted:<service>`), so a test can tell it from a build."""
    return {
        s.name: "sha256:" + hashlib.sha256(f"promoted:{s.name}".encode()).hexdigest()
        for s in loaded.services
        if s.image is not None and s.image.promoted_parameter is not None
    }


def run_program(
    loaded: stack_settings.Settings,
    stack: str,
    program: Callable[[stack_settings.Settings], dict[str, Any]],
    *,
    preview: bool = False,
) -> Rendered:
    """Run a program on loaded settings under mocks (the benchmark times a bare program here)."""
    from rules.registry.urls import partition_for_region

    part = partition_for_region(loaded.region)
    mock = _Mocks(loaded.region, part.dns_suffix, part.name, promoted_digests(loaded))
    warnings: list[str] = []
    runtime_settings.reset_options(project=PROJECT, stack=stack, preview=preview)
    pulumi.runtime.set_mocks(
        mock, project=PROJECT, stack=stack, preview=preview, monitor=_Monitor(mock)
    )
    original_warn = pulumi.log.warn

    def capture(msg: str, *a: Any, **k: Any) -> None:
        warnings.append(msg)

    pulumi.log.warn = capture  # type: ignore[assignment]
    outputs: dict[str, Any] = {}
    secret_outputs: set[str] = set()

    async def resolve(declared: dict[str, Any]) -> None:
        for key, value in declared.items():
            out = pulumi.Output.from_input(value)
            outputs[key] = await out.future()
            if await out.is_secret():
                secret_outputs.add(key)

    def body() -> None:
        # One pump of the event loop for all outputs: each `_sync_await` pads the loop's ready
        # list with cancelled handles, and two per output were most of a render's time.
        _sync_await(resolve(program(loaded)))

    try:
        _sync_await(run_pulumi_func(body))
    finally:
        pulumi.log.warn = original_warn  # type: ignore[assignment]
    return Rendered(stack, mock.resources, outputs, warnings, secret_outputs, mock.invokes)


def render_stack(
    stack: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    preview: bool = False,
    env: Mapping[str, str] | None = None,
    project_dir: Path = PROJECT_DIR,
    stack_dir: Path | None = None,
) -> Rendered:
    raw = raw_stack_config(
        stack, overrides=overrides, secrets=secrets, project_dir=project_dir, stack_dir=stack_dir
    )
    return render(raw, preview=preview, env=env)
