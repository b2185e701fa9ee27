"""The smoke-test hook against a real HTTP server on 127.0.0.1: what it answers ECS."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hooks import smoke

EVENT = {
    "executionId": "3a0345ba-b029-404b-890d-7da2a4b266aa",
    "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
    "resourceArn": "arn:aws:ecs:us-east-1:123456789012:service-deployment/c/api/EZe5RNVLH6PPz",
    "executionDetails": {
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/c/api",
        "targetServiceRevisionArn": "arn:aws:ecs:us-east-1:123456789012:service-revision/c/api/93",
        "testTrafficWeights": {},
        "productionTrafficWeights": {},
    },
}


class Server:
    """Answers each path with the next status in its script (the last one repeats)."""

    def __init__(self) -> None:
        self.script: dict[str, list[int]] = {}
        self.delay = 0.0
        self.seen: list[tuple[str, str | None]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.seen.append((self.path, self.headers.get("X-Test-Route")))
                time.sleep(owner.delay)
                statuses = owner.script.get(self.path, [404])
                status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    thread = threading.Thread(target=s.httpd.serve_forever, daemon=True)
    thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def env(server: Server, **change: str) -> dict[str, str]:
    return {
        "SMOKE_BASE_URL": server.url,
        "SMOKE_PATHS": '["/health", "/api/ping"]',
        "SMOKE_REQUEST_TIMEOUT_SECONDS": "0.5",
        "SMOKE_BUDGET_SECONDS": "60",
        "SMOKE_RETRY_SECONDS": "10",
        **change,
    }


def test_every_path_2xx_succeeds_and_sends_the_test_header(server: Server) -> None:
    server.script = {"/health": [200], "/api/ping": [204]}
    variables = env(server, SMOKE_HEADER_NAME="X-Test-Route", SMOKE_HEADER_VALUE="green")
    assert smoke.evaluate(EVENT, variables, lambda: 1000.0) == {"hookStatus": "SUCCEEDED"}
    assert server.seen == [("/health", "green"), ("/api/ping", "green")]


def test_a_500_is_retried_then_fails_once_the_budget_is_spent(server: Server) -> None:
    server.script = {"/health": [200], "/api/ping": [500]}
    first = smoke.evaluate(EVENT, env(server), lambda: 1000.0)
    assert first == {
        "hookStatus": "IN_PROGRESS",
        "callBackDelay": 10,
        "hookDetails": {"smokeStartedAt": 1000.0},
    }
    later = {**EVENT, "hookDetails": {"smokeStartedAt": 1000.0}}
    assert smoke.evaluate(later, env(server), lambda: 1060.0) == {"hookStatus": "FAILED"}


def test_a_500_with_no_budget_fails_at_once(server: Server) -> None:
    server.script = {"/health": [500], "/api/ping": [200]}
    variables = env(server, SMOKE_BUDGET_SECONDS="0")
    assert smoke.evaluate(EVENT, variables, lambda: 1000.0) == {"hookStatus": "FAILED"}


def test_a_client_error_is_definitive(server: Server) -> None:
    server.script = {"/health": [200], "/api/ping": [404]}
    assert smoke.evaluate(EVENT, env(server), lambda: 1000.0) == {"hookStatus": "FAILED"}


def test_a_redirect_is_not_followed_and_not_a_success(server: Server) -> None:
    server.script = {"/health": [302], "/elsewhere": [200]}
    variables = env(server, SMOKE_PATHS='["/health"]', SMOKE_BUDGET_SECONDS="0")
    assert smoke.evaluate(EVENT, variables, lambda: 1000.0) == {"hookStatus": "FAILED"}
    assert [path for path, _ in server.seen] == ["/health"]


def test_a_slow_answer_is_a_miss(server: Server) -> None:
    server.script = {"/health": [200], "/api/ping": [200]}
    server.delay = 1.0  # twice the per-request timeout
    answer = smoke.evaluate(EVENT, env(server), lambda: 1000.0)
    assert answer["hookStatus"] == "IN_PROGRESS"
    spent = env(server, SMOKE_BUDGET_SECONDS="0")
    assert smoke.evaluate(EVENT, spent, lambda: 1000.0) == {"hookStatus": "FAILED"}


def test_still_starting_then_healthy_is_in_progress_then_succeeded(server: Server) -> None:
    server.script = {"/health": [503, 200], "/api/ping": [200]}
    first = smoke.evaluate(EVENT, env(server), lambda: 1000.0)
    assert first["hookStatus"] == "IN_PROGRESS"
    again = {**EVENT, "hookDetails": first["hookDetails"]}
    assert smoke.evaluate(again, env(server), lambda: 1010.0) == {"hookStatus": "SUCCEEDED"}


def test_nothing_listening_is_retried(server: Server) -> None:
    server.httpd.server_close()  # the port now refuses connections
    answer = smoke.evaluate(EVENT, env(server), lambda: 1000.0)
    assert answer["hookStatus"] == "IN_PROGRESS"


@pytest.mark.parametrize(
    "change",
    [
        {"SMOKE_BASE_URL": ""},
        {"SMOKE_BASE_URL": "ftp://host"},
        {"SMOKE_PATHS": "not json"},
        {"SMOKE_PATHS": '["health"]'},
        {"SMOKE_PATHS": "[]"},
        {"SMOKE_REQUEST_TIMEOUT_SECONDS": "soon"},
    ],
)
def test_a_bad_setting_fails_without_a_request(server: Server, change: dict[str, str]) -> None:
    assert smoke.evaluate(EVENT, env(server, **change), lambda: 1000.0) == {"hookStatus": "FAILED"}
    assert server.seen == []


def test_other_hook_details_are_ignored_and_a_broken_start_time_fails(server: Server) -> None:
    server.script = {"/health": [200], "/api/ping": [200]}
    configured = {**EVENT, "hookDetails": {"S3_BUCKET_NAME": "unrelated"}}
    assert smoke.evaluate(configured, env(server), lambda: 1000.0) == {"hookStatus": "SUCCEEDED"}
    broken = {**EVENT, "hookDetails": {"smokeStartedAt": None}}
    assert smoke.evaluate(broken, env(server), lambda: 1000.0) == {"hookStatus": "FAILED"}
