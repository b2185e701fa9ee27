"""The ECS API model, parsed once per process.

Every botocore session has its own loader, so each `get_session().get_service_model("ecs")` parses
the ~1 MB JSON model again; the task-definition validator and the Fargate sizing both need it, at
every preview and for every stack the tests render in one process.
"""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.model import ServiceModel


@cache
def ecs_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("ecs")
