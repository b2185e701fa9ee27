"""The ecr-fargate security baseline: `pulumi preview --policy-pack policy`."""

from __future__ import annotations

from collections.abc import Callable

from controls import CHECKS, Check, repositories_without_lifecycle
from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)


def _validator(check: Check) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type == check.resource_type:
            for message in check.check(args.props):
                report_violation(message, None)

    return validate


def _ecr_3(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for message in repositories_without_lifecycle(
        (r.resource_type, r.props) for r in args.resources
    ):
        report_violation(message, None)


PolicyPack(
    name="ecr-fargate-baseline",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        *(
            ResourceValidationPolicy(name=c.name, description=c.description, validate=_validator(c))
            for c in CHECKS
        ),
        StackValidationPolicy(
            name="ecr-3-lifecycle-policy",
            description="Security Hub ECR.3: a lifecycle policy per repository",
            validate=_ecr_3,
        ),
    ],
)
