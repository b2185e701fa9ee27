"""Container environment: plain values stay plain, anything secret must be a reference."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ecs.iam import validate_secret_reference_arn

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
SECRET_LOOKING = re.compile(
    r"(?:^|_)(?:PASSWORD|PASSWD|SECRET|TOKEN|KEY|API_KEY|ACCESS_KEY|PRIVATE_KEY)$", re.IGNORECASE
)


class EnvironmentValueError(ValueError):
    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(detail)


def split_environment(env: Mapping[str, object]) -> tuple[dict[str, str], dict[str, str]]:
    """(plain values, secret references by name); `{"secretArn": ARN}` marks a reference."""
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for name in sorted(env):
        value = env[name]
        if not NAME.fullmatch(name):
            raise EnvironmentValueError(
                name, f"{name!r} is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"
            )
        if isinstance(value, Mapping):
            if set(value) != {"secretArn"} or not isinstance(value["secretArn"], str):
                raise EnvironmentValueError(
                    name, 'a secret reference is {"secretArn": "<Secrets Manager or SSM ARN>"}'
                )
            try:
                secrets[name] = validate_secret_reference_arn(value["secretArn"])
            except ValueError as exc:
                raise EnvironmentValueError(name, str(exc)) from None
            continue
        if not isinstance(value, str):
            raise EnvironmentValueError(
                name, f"{value!r} is not allowed; environment values are strings (quote it)"
            )
        if SECRET_LOOKING.search(name):
            raise EnvironmentValueError(
                name,
                f"{name} looks like a secret; never put secret values in plain environment "
                'variables, give {"secretArn": "<Secrets Manager or SSM ARN>"} instead',
            )
        plain[name] = value
    return plain, secrets
