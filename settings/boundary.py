"""`permissionsBoundary`: which managed policy caps every role the stack creates.

`stack` (the default) makes the stack create its own boundary (`components/boundary.py`), so the
first `pulumi up` of a new account, with administrator credentials, needs no prior step.
`bootstrap` makes the roles carry the boundary the one-time CI bootstrap (`python -m
cli.bootstrap`) created, and the stack creates none. Changing a role's boundary is an update in
place (`iam:PutRolePermissionsBoundary`), so a stack moves between the two without replacing a role.

CI deploys `bootstrap` stacks only: its deploy role may write no boundary policy (that guard is
what stops it from widening the roles it creates), so a CI run of a `stack` stack would fail
halfway through `pulumi up`. It is refused here instead, before anything is previewed.
"""

from __future__ import annotations

from collections.abc import Mapping

from settings.errors import Collector
from settings.reader import Obj

KEY = "permissionsBoundary"
# GitHub Actions sets it to `true` on every runner (its documented default variables).
CI_VARIABLE = "GITHUB_ACTIONS"


def load_permissions_boundary(errors: Collector, top: Obj, env: Mapping[str, str]) -> str:
    """The mode; under GitHub Actions `stack` is refused, and a refused value is checked no
    further (one problem, one line)."""
    given = top.raw(KEY)
    mode = top.text(KEY)
    if given is not None and mode != given:  # refused (reported): checked no further
        return mode
    if mode == "stack" and env.get(CI_VARIABLE) == "true":
        errors.add(
            top.at(KEY),
            "stack is not allowed in CI (GITHUB_ACTIONS=true), whose deploy role may not create "
            "the stack's own boundary; use bootstrap: run `python -m cli.bootstrap STACK`, set "
            "`permissionsBoundary: bootstrap`, run `pulumi up` once with administrator "
            "credentials, then commit the stack file",
        )
    return mode


def not_deploying(env: Mapping[str, str]) -> dict[str, str]:
    """`env` as a command that deploys nothing should pass it to `load`, even on a runner: the
    offline plan (which every pull request runs, forks' included) and the bootstrap (the step a
    `stack` stack runs before it may switch) must render a `stack` stack."""
    return {k: v for k, v in env.items() if k != CI_VARIABLE}
