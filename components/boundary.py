"""The `StackBoundary` component: the permissions boundary a stack creates for its own roles.

With `permissionsBoundary: stack` (the default) nothing has to exist before the first `pulumi up`:
the stack writes the same document the CI bootstrap would (`permissions.boundary_policy`), under
its own role path and its own name (`StackNames.stack_boundary_policy_name`), and every role it
creates carries this policy's ARN, an output, so each role waits for the policy. With
`bootstrap` the component is not created and `pulumi up` deletes the policy after moving the
roles to the bootstrap's boundary.

Moving a role between the two is an update in place, never a replacement: in the AWS provider
Pulumi bridges (terraform-provider-aws `internal/service/iam/role.go`) `permissions_boundary` is
not `ForceNew` (only `name`, `name_prefix` and `path` are), and a change calls
`PutRolePermissionsBoundary`; CloudFormation's `AWS::IAM::Role` schema (bundled with cfn-lint)
lists only `Path` and `RoleName` as create-only, and `iam:PutRolePermissionsBoundary` among its
update handler's permissions. tests/test_boundary.py renders both modes and checks that every
role keeps its URN and name inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from rules.naming import StackNames


@dataclass
class StackBoundaryArgs:
    names: StackNames
    document: pulumi.Input[str]  # the boundary policy, JSON (it names the account's ARNs)
    tags: dict[str, str]


class StackBoundary(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: StackBoundaryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:iam:StackBoundary", name, None, opts)
        names = args.names
        self.policy = aws.iam.Policy(
            name,
            name=names.stack_boundary_policy_name,
            path=names.role_path,
            # A new description replaces a managed policy: it names the stack only.
            description=f"Permissions boundary of every role stack {names.stack} creates",
            policy=args.document,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn: pulumi.Output[str] = self.policy.arn
        self.register_outputs({"arn": self.arn})
