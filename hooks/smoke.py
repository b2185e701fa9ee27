"""The smoke-test hook: at POST_TEST_TRAFFIC_SHIFT, call the new revision through the test route.

At that stage the green revision serves 100% of the test traffic and none of the production's
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html,
"POST_TEST_TRAFFIC_SHIFT"), so a request to the test listener or rule reaches the new tasks only.
Every path must answer 2xx within the per-request timeout. A miss is retried while the budget
lasts: the function returns IN_PROGRESS with a `callBackDelay` and keeps the time of its first
attempt in `hookDetails`, which ECS hands back on the next invocation (same page, "Passing state
with hookDetails"), so no state lives anywhere else. A client error (4xx other than 408, 425 and
429) is definitive: a wrong route or a refused request does not heal by waiting. Redirects are not
followed (a 3xx is not a 2xx, and could lead off the test route); proxies from the environment are
ignored, the test route is reached directly.

Settings, from environment variables the program sets:
`SMOKE_BASE_URL` (`http://host:port`), `SMOKE_PATHS` (JSON array, health path first),
`SMOKE_HEADER_NAME` and `SMOKE_HEADER_VALUE` (optional, for a header-matched test rule),
`SMOKE_REQUEST_TIMEOUT_SECONDS` (5), `SMOKE_BUDGET_SECONDS` (300), `SMOKE_RETRY_SECONDS` (15).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SUCCEEDED, FAILED, IN_PROGRESS = "SUCCEEDED", "FAILED", "IN_PROGRESS"
STARTED_KEY = "smokeStartedAt"  # the epoch second of the first attempt, kept in hookDetails
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


@dataclass(frozen=True)
class Config:
    base_url: str
    paths: tuple[str, ...]
    headers: Mapping[str, str]
    request_timeout: float
    budget_seconds: float
    retry_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        """The settings, or ValueError naming the variable that is wrong."""
        base = env.get("SMOKE_BASE_URL", "").rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ValueError(f"SMOKE_BASE_URL {base!r} is not an http(s) URL")
        paths = json.loads(env.get("SMOKE_PATHS", '["/"]'))
        if not paths or not all(isinstance(p, str) and p.startswith("/") for p in paths):
            raise ValueError(f"SMOKE_PATHS {paths!r} is not a list of paths starting with /")
        name, value = env.get("SMOKE_HEADER_NAME", ""), env.get("SMOKE_HEADER_VALUE", "")
        return cls(
            base_url=base,
            paths=tuple(paths),
            headers={name: value} if name else {},
            request_timeout=float(env.get("SMOKE_REQUEST_TIMEOUT_SECONDS", "5")),
            budget_seconds=float(env.get("SMOKE_BUDGET_SECONDS", "300")),
            retry_seconds=int(env.get("SMOKE_RETRY_SECONDS", "15")),
        )


def probe(url: str, headers: Mapping[str, str], timeout: float) -> tuple[str, str]:
    """`ok`, `retry` or `fail` for one GET, with what was seen."""
    request = urllib.request.Request(url, headers=dict(headers), method="GET")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:  # refused, reset, timed out
        return "retry", f"{url}: {getattr(error, 'reason', error)}"
    if 200 <= status < 300:
        return "ok", f"{url}: {status}"
    if 400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS:
        return "fail", f"{url}: {status}"
    return "retry", f"{url}: {status}"


def check(config: Config) -> tuple[str, list[str]]:
    """Every path once: `fail` if any is definitive, else `retry` if any missed, else `ok`."""
    results = [
        probe(config.base_url + path, config.headers, config.request_timeout)
        for path in config.paths
    ]
    seen = [detail for _, detail in results]
    verdicts = {verdict for verdict, _ in results}
    for verdict in ("fail", "retry"):
        if verdict in verdicts:
            return verdict, seen
    return "ok", seen


def _log(**fields: Any) -> None:
    print(json.dumps(fields, sort_keys=True, default=str))  # one line per record in CloudWatch


def evaluate(
    event: Mapping[str, Any], env: Mapping[str, str], clock: Callable[[], float]
) -> dict[str, Any]:
    """The hook's answer to one invocation (the handler with its inputs made explicit)."""
    stage = event.get("lifecycleStage")
    now = clock()
    details = event.get("hookDetails")
    try:
        config = Config.from_env(env)
        started = float(details.get(STARTED_KEY, now) if isinstance(details, Mapping) else now)
    except (TypeError, ValueError) as error:
        _log(stage=stage, hookStatus=FAILED, problem=str(error))
        return {"hookStatus": FAILED}
    verdict, seen = check(config)
    if verdict == "ok":
        _log(stage=stage, hookStatus=SUCCEEDED, seen=seen)
        return {"hookStatus": SUCCEEDED}
    if verdict == "fail" or now - started >= config.budget_seconds:
        _log(stage=stage, hookStatus=FAILED, seen=seen, elapsed=now - started)
        return {"hookStatus": FAILED}
    _log(stage=stage, hookStatus=IN_PROGRESS, seen=seen, elapsed=now - started)
    return {
        "hookStatus": IN_PROGRESS,
        "callBackDelay": config.retry_seconds,
        "hookDetails": {STARTED_KEY: started},
    }


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The Lambda entry point: `smoke.handler`."""
    return evaluate(event, os.environ, time.time)
