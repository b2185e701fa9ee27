"""The load balancer's access-logs bucket: created by the stack when `loadBalancer.accessLogs`
names no bucket.

Per "Enable access logs for your Application Load Balancer"
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html):
the bucket is in the load balancer's region, encrypted with SSE-S3 (the only server-side
encryption ALB log delivery supports), and its policy lets Elastic Load Balancing put objects
under `<prefix>/AWSLogs/<account>/`: the region's ELB account for regions available before
August 2022, the `logdelivery.elasticloadbalancing.amazonaws.com` service principal for the
others. Ownership is enforced (no ACLs) and public access blocked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from rules.naming import StackNames, account_root_arn

# The ELB account of each region available before August 2022 (the docs page above).
ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
}
LOG_DELIVERY = "logdelivery.elasticloadbalancing.amazonaws.com"


def bucket_policy(names: StackNames, bucket: str, prefix: str, account: str) -> dict[str, Any]:
    """Only `s3:PutObject` on this account's log objects, by the region's log writer; and no
    request without TLS."""
    elb_account = ELB_ACCOUNTS.get(names.region)
    principal: dict[str, str] = (
        {"AWS": account_root_arn(names.partition, elb_account)}
        if elb_account is not None
        else {"Service": LOG_DELIVERY}
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ElbLogDelivery",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:PutObject",
                "Resource": names.access_log_objects_arn(bucket, prefix, account),
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [names.bucket_arn(bucket), names.bucket_object_arn(bucket, "*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


@dataclass
class AccessLogsBucketArgs:
    names: StackNames
    account_id: pulumi.Input[str]
    prefix: str
    protect: bool  # prod: the logs outlive a mistaken `pulumi destroy`
    tags: dict[str, str]


class AccessLogsBucket(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: AccessLogsBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:AccessLogsBucket", name, None, opts)
        names = args.names
        account = pulumi.Output.from_input(args.account_id)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            name,
            bucket=account.apply(names.access_logs_bucket),
            force_destroy=not args.protect,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        # CreateLoadBalancer checks that ELB may write: the load balancer waits for the policy.
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(account, self.bucket.bucket).apply(
                lambda v: json.dumps(bucket_policy(names, v[1], args.prefix, v[0]), sort_keys=True)
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]),
        )
        self.register_outputs({"bucket": self.bucket.bucket})
