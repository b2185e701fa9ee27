"""A self-managed state backend: each CI role's access to its own stack's state objects and the
KMS key of the stack's `awskms://` secrets provider (`python -m cli.bootstrap --state-bucket`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from permissions.documents import Statement, document, statement
from settings import Settings


@dataclass(frozen=True)
class StateBackend:
    """`s3://BUCKET/PREFIX`, the `PULUMI_BACKEND_URL` of a self-managed backend (validated by the
    bootstrap's command line: no wildcard can reach an ARN)."""

    bucket: str
    prefix: str = ""  # "" or `path/` with its trailing slash, as Pulumi prefixes every key


# What the `awskms://` secrets provider calls: a data key encrypted under the stack's key when a
# stack's secrets provider is set, decrypted by every command that reads its config or state.
SECRETS_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
STATE_WRITE_ACTIONS = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")


def previews_with_secrets(settings: Settings) -> bool:
    """Whether pull requests preview this stack for real, with its state and secrets.

    Not a stack deployed through a GitHub environment (`prod`: `settings.github` trusts its deploy
    role for the environment subject): its preview role is trusted for every pull request, whose
    code can rewrite the workflow, so it reads none of the stack's state and decrypts none of its
    secrets. Pull requests plan such a stack offline; its real preview runs in the environment.
    """
    return settings.environment != "prod"


def _key_statement(sid: str, actions: Iterable[str], key_arn: Any) -> Statement:
    """`statement` for a key whose ARN may be a CloudFormation `Fn::GetAtt` (not a string)."""
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": [key_arn]}


def state_policy(
    settings: Settings, state: StateBackend, key_arn: Any, *, deploy: bool
) -> dict[str, Any] | None:
    """A CI role's access to its own stack's state objects and secrets key, None for none.

    Deploy: read, write and delete the stack's objects (Pulumi's layout, `StackNames`), use the
    key. Preview, only where `previews_with_secrets`: read the checkpoint, decrypt. A preview takes
    no lock and writes no history on a self-managed backend, so it writes nothing. Both list the
    bucket: S3 answers a missing object (an optional tags file, a compression variant) with 403
    instead of 404 to a caller that may not list, and a `s3:prefix` condition does not count for
    that; listing shows key names, never contents.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
    """
    names = settings.names
    meta = names.state_object_arn(state.bucket, names.state_meta_key(state.prefix))
    if deploy:
        objects = [
            names.state_object_arn(state.bucket, k) for k in names.state_stack_keys(state.prefix)
        ]
        found = [
            statement("ReadBackendVersion", ["s3:GetObject"], meta),
            statement("WriteStackState", STATE_WRITE_ACTIONS, objects),
            _key_statement("UseStackSecretsKey", SECRETS_KEY_ACTIONS, key_arn),
        ]
    elif previews_with_secrets(settings):
        checkpoint = names.state_checkpoint_keys(state.prefix)
        found = [
            statement(
                "ReadStackState",
                ["s3:GetObject"],
                [meta, names.state_object_arn(state.bucket, checkpoint)],
            ),
            _key_statement("DecryptStackSecrets", ["kms:Decrypt"], key_arn),
        ]
    else:
        return None
    listing = statement("ListStateKeys", ["s3:ListBucket"], names.state_bucket_arn(state.bucket))
    return document([listing, *found])


def secrets_key_policy(settings: Settings, account: str, users: Sequence[str]) -> dict[str, Any]:
    """The stack's secrets key: the account administers it through IAM (the usual root
    statement), and no CI role of any stack may do anything but use it, or use it unless it is
    one of `users` (this stack's deploy role, and its preview role where it previews with
    secrets). The Denies hold whatever IAM policy a CI role gets later, and keep another stack's
    deploy role, which may tag and manage keys tagged with its stack, away from this one.
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
    """
    ci_roles = {"ArnLike": {"aws:PrincipalArn": settings.names.ci_roles_arn(account)}}
    others = {**ci_roles, "ArnNotEquals": {"aws:PrincipalArn": sorted(users)}}
    root = settings.names.account_root_arn(account)
    return document(
        [
            {
                "Sid": "AccountAdministersThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CiRolesOnlyUseIt",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "NotAction": list(SECRETS_KEY_ACTIONS),
                "Resource": "*",
                "Condition": ci_roles,
            },
            {
                "Sid": "OnlyThisStacksCiRolesUseIt",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": list(SECRETS_KEY_ACTIONS),
                "Resource": "*",
                "Condition": others,
            },
        ]
    )
