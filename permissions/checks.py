"""Whether the actions of a document are real: a typo in an action name grants nothing and
fails silently in IAM, so every action (and Deny wildcard) must match an API operation that
botocore models, or be one of the few IAM actions no operation carries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import botocore.session

from permissions.documents import actions_of
from rules.ecs.iam import EXEC_ACTIONS

# Actions IAM knows that no API operation carries (botocore has no model for them).
PERMISSION_ONLY = (
    "ecr:BatchImportUpstreamImage",
    "ecr:ReplicateImage",
    "iam:PassRole",
    "s3:ListBucket",  # ListObjects and ListObjectsV2 are authorized as s3:ListBucket
    *EXEC_ACTIONS,
)
# IAM actions named unlike the operation they authorize (the operation botocore knows).
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html
AUTHORIZES = {
    "lambda:InvokeFunction": "Invoke",
    "s3:DeleteObjectVersion": "DeleteObject",  # with a VersionId
    "s3:GetAccelerateConfiguration": "GetBucketAccelerateConfiguration",
    "s3:GetBucketCORS": "GetBucketCors",
    "s3:GetBucketObjectLockConfiguration": "GetObjectLockConfiguration",
    "s3:GetBucketPublicAccessBlock": "GetPublicAccessBlock",
    "s3:GetEncryptionConfiguration": "GetBucketEncryption",
    "s3:GetLifecycleConfiguration": "GetBucketLifecycleConfiguration",
    "s3:GetReplicationConfiguration": "GetBucketReplication",
    "s3:ListBucketVersions": "ListObjectVersions",
    "s3:PutBucketPublicAccessBlock": "PutPublicAccessBlock",
    "s3:PutEncryptionConfiguration": "PutBucketEncryption",
}
# IAM prefixes whose operations botocore models under other names: Elastic Load Balancing is
# Classic (`elb`) and V2 (`elbv2`) under the one `elasticloadbalancing` prefix.
BOTOCORE_MODELS = {"elasticloadbalancing": ("elb", "elbv2")}


def unknown_actions(*documents: Mapping[str, Any]) -> list[str]:
    """Actions (or Deny wildcards) that match no API operation: a typo grants nothing."""
    session = botocore.session.get_session()
    known: dict[str, Sequence[str]] = {}
    unknown = []
    available = session.get_available_services()
    for action in sorted(actions_of(documents) | actions_of(documents, "Deny")):
        if action in PERMISSION_ONLY:
            continue
        service, _, name = action.partition(":")
        name = AUTHORIZES.get(action, name)
        if service not in known:
            models = [m for m in BOTOCORE_MODELS.get(service, (service,)) if m in available]
            known[service] = [
                op for m in models for op in session.get_service_model(m).operation_names
            ]
        if name == "*" and known[service]:
            continue
        if name not in known[service]:
            unknown.append(action)
    return unknown
