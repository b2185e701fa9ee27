"""ecr-fargate: config -> settings -> components -> exports. No AWS logic lives here."""

import pulumi

import settings
from components.program import build_stack
from components.runtime import raw_config

try:
    stack_settings = settings.load(raw_config())
except settings.ConfigErrors as exc:
    # One line per problem, no traceback: configuration mistakes are not program bugs.
    raise pulumi.RunError(str(exc)) from None

for key, value in build_stack(stack_settings).items():
    pulumi.export(key, value)
