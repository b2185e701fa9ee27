"""The web services' part: the load balancer with its listeners, rules and target groups, the
certificate the stack requests, the domain's records and the access-logs bucket. Nothing for a
stack without a web service."""

from __future__ import annotations

from permissions.documents import (
    ELB,
    Condition,
    Statement,
    deny_other_stacks,
    owned_by_stack,
    retag_owned,
    retag_owned_keys,
    service_linked_role,
    statement,
    tag_on_create,
    tagged_for_stack,
    untag_owned,
)
from permissions.renders import (
    creates_access_logs_bucket,
    dns_records,
    empties_access_logs_bucket,
    has_load_balancer,
    load_balancer,
    requests_certificate,
)
from settings import Settings

# Each creating call that may tag what it creates; AddTags then names it in
# `elasticloadbalancing:CreateAction`.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/tagging-resources-api-permissions.html
ELB_CREATE_ACTIONS = (
    "CreateListener",
    "CreateLoadBalancer",
    "CreateRule",
    "CreateTargetGroup",
)
# Describe calls of ELB have no resource-level form: "*" is the only resource they take.
ELB_READS = (
    "elasticloadbalancing:DescribeCapacityReservation",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
# A listener is created on its load balancer: IAM checks the balancer's tag.
ELB_OWNED_WRITES = (
    "elasticloadbalancing:CreateListener",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:ModifyLoadBalancerAttributes",
    "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:SetIpAddressType",
    "elasticloadbalancing:SetSecurityGroups",
    "elasticloadbalancing:SetSubnets",
)
ELB_ROUTING_WRITES = (
    "elasticloadbalancing:CreateRule",
    "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:DeleteRule",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:ModifyListenerAttributes",
    "elasticloadbalancing:ModifyRule",
    "elasticloadbalancing:SetRulePriorities",
)
CERTIFICATE_WRITES = (
    "acm:DeleteCertificate",
    "acm:RemoveTagsFromCertificate",
    "acm:UpdateCertificateOptions",
)
# What the provider reads of a bucket besides its own resources' settings (the Bucket resource
# reads every sub-configuration back to report drift), all on the bucket's exact ARN.
BUCKET_READS = (
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLogging",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
)
BUCKET_EMPTYING = ("s3:DeleteObject", "s3:DeleteObjectVersion")
BUCKET_WRITES = (
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketTagging",
    "s3:PutEncryptionConfiguration",
)


# --- reads --------------------------------------------------------------------------------------
def web_reads(settings: Settings, account: str) -> list[Statement]:
    """The reads of the web services' resources that take a resource ARN."""
    names = settings.names
    found: list[Statement] = []
    if requests_certificate(settings):
        reads = ("acm:DescribeCertificate", "acm:ListTagsForCertificate")
        certificates = names.certificate_arn(account)
        found.append(
            statement("ReadStackCertificate", reads, certificates, owned_by_stack(settings))
        )
    records = dns_records(settings)
    if records is not None:
        zone_reads = ("route53:GetHostedZone", "route53:ListResourceRecordSets")
        zone = names.hosted_zone_arn(records[1])
        found.append(statement("ReadStackHostedZone", zone_reads, zone))
    if creates_access_logs_bucket(settings):
        bucket = names.access_logs_bucket_arn(account)
        found.append(statement("ReadStackAccessLogsBucket", BUCKET_READS, bucket))
    return found


def unscoped_reads(settings: Settings) -> set[str]:
    found: set[str] = set()
    if has_load_balancer(settings):
        # The load balancer's group is made in the tasks' VPC, found from their first subnet
        # (or the default VPC) whether or not their groups are given; a target group's VPC is
        # checked when it is created.
        found |= {*ELB_READS, "ec2:DescribeSubnets", "ec2:DescribeVpcs"}
    if dns_records(settings) is not None:
        found |= {"route53:ListHostedZones"}
    return found


# --- writes -------------------------------------------------------------------------------------
def web_writes(settings: Settings, account: str) -> list[Statement]:
    """Everything the web services add but scaling (`permissions.scaling`)."""
    found = _load_balancer(settings, account) + _certificate(settings, account)
    return found + _records(settings) + _access_logs_bucket(settings, account)


def _load_balancer(settings: Settings, account: str) -> list[Statement]:
    """The load balancer, its listeners and rules, and the target groups: created only with the
    stack's tag, then changed only while they carry it. The load balancer's exact name (and so
    its listeners' and rules' ARNs) is the stack's alone; target groups are found by tag.
    Tagging is by tag alone, on any ELB resource: on create only in the creating call (itself
    scoped) and with this stack's tag, afterwards only on what carries it.
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/tagging-resources-api-permissions.html
    """
    if not has_load_balancer(settings):
        return []
    names = settings.names
    lb, groups = names.load_balancer_arn(account), names.target_group_arn(account)
    listeners, rules = names.listener_arn(account), names.listener_rule_arn(account)
    anything = names.elb_resource_arn(account)
    on_create: Condition = {
        "StringEquals": {
            **tagged_for_stack(settings)["StringEquals"],
            "elasticloadbalancing:CreateAction": list(ELB_CREATE_ACTIONS),
        }
    }
    create = ("elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup")
    add, remove = ["elasticloadbalancing:AddTags"], ["elasticloadbalancing:RemoveTags"]
    return [
        statement("CreateStackElb", create, [lb, groups], tagged_for_stack(settings)),
        statement("ManageStackElb", ELB_OWNED_WRITES, [lb, groups], owned_by_stack(settings)),
        statement("ManageStackRouting", ELB_ROUTING_WRITES, [listeners, rules]),
        statement("TagNewElb", add, anything, on_create),
        statement("RetagStackElb", add, anything, retag_owned(settings)),
        statement("UntagStackElb", remove, anything, untag_owned(settings)),
        service_linked_role(settings, account, ELB, "ElbLinkedRole"),
    ]


def _certificate(settings: Settings, account: str) -> list[Statement]:
    """The certificate of the stack's domain: requested for that one name, DNS-validated, with
    the stack's tag; then changed only while it carries it."""
    lb = load_balancer(settings)
    if lb is None or not requests_certificate(settings):
        return []
    certificates = settings.names.certificate_arn(account)
    request: Condition = {
        "ForAllValues:StringEquals": {"acm:DomainNames": [str(lb.domain)]},
        "StringEquals": {
            **tagged_for_stack(settings)["StringEquals"],
            "acm:ValidationMethod": "DNS",
        },
    }
    tag = ["acm:AddTagsToCertificate"]
    return [
        statement("RequestStackCertificate", ["acm:RequestCertificate"], "*", request),
        statement("TagNewStackCertificate", tag, certificates, tag_on_create(settings)),
        statement("RetagStackCertificate", tag, certificates, retag_owned_keys(settings)),
        deny_other_stacks(settings, "DenyTaggingOtherStacksCertificates", tag, certificates),
        statement(
            "ManageStackCertificate", CERTIFICATE_WRITES, certificates, owned_by_stack(settings)
        ),
    ]


def _records(settings: Settings) -> list[Statement]:
    """The domain's records: only in the configured hosted zone, only the domain's own names
    (its A and AAAA aliases and, when the stack requests the certificate, ACM's
    `_<token>.<domain>` validation CNAME), only these types.
    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html
    """
    found = dns_records(settings)
    if found is None:
        return []
    domain, zone = found
    normalized = domain.lower().rstrip(".")  # how Route 53 compares names
    names, types = [normalized], ["A", "AAAA"]
    if requests_certificate(settings):
        names, types = [*names, f"_*.{normalized}"], [*types, "CNAME"]
    records: Condition = {
        "ForAllValues:StringLike": {"route53:ChangeResourceRecordSetsNormalizedRecordNames": names},
        "ForAllValues:StringEquals": {
            "route53:ChangeResourceRecordSetsActions": ["CREATE", "DELETE", "UPSERT"],
            "route53:ChangeResourceRecordSetsRecordTypes": types,
        },
    }
    zone_arn = settings.names.hosted_zone_arn(zone)
    return [
        statement("WriteDomainRecords", ["route53:ChangeResourceRecordSets"], zone_arn, records),
        # Waiting for a change to reach every Route 53 server (changes have generated IDs).
        statement(
            "FollowRecordChanges", ["route53:GetChange"], settings.names.route53_change_arn()
        ),
    ]


def _access_logs_bucket(settings: Settings, account: str) -> list[Statement]:
    """The access-logs bucket the stack creates, by its exact (account- and region-unique) name."""
    if not creates_access_logs_bucket(settings):
        return []
    bucket = settings.names.access_logs_bucket_arn(account)
    objects = settings.names.access_logs_bucket_object_arn(account)
    found = [statement("ManageStackAccessLogsBucket", BUCKET_WRITES, bucket)]
    if empties_access_logs_bucket(settings):
        found += [
            statement("ListStackAccessLogVersions", ["s3:ListBucketVersions"], bucket),
            statement("EmptyStackAccessLogsBucket", BUCKET_EMPTYING, objects),
        ]
    return found
