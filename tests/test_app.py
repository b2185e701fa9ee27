"""The sample service: /healthz, /, 404, and the exact health command ECS runs against it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from app import server
from ecs.container import ContainerSpec


@pytest.fixture
def port() -> Iterator[int]:
    httpd = server.serve(0, host="127.0.0.1")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_healthz_and_root(port: int) -> None:
    assert get(port, "/healthz") == (200, {"status": "ok"})
    status, body = get(port, "/")
    assert status == 200 and body["message"] == "hello from Fargate"
    assert get(port, "/nope") == (404, {"error": "not found", "path": "/nope"})


def test_the_ecs_health_command_succeeds_against_the_app(port: int) -> None:
    command = ContainerSpec(name="api", port=port).health_command()
    assert command[:2] == ["CMD", "python"]
    done = subprocess.run([sys.executable, *command[2:]], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    broken = ContainerSpec(name="api", port=port, health_check_path="/missing").health_command()
    assert (
        subprocess.run([sys.executable, *broken[2:]], capture_output=True, timeout=30).returncode
        != 0
    )


def test_dockerfile_runs_as_non_root_on_slim() -> None:
    from pathlib import Path

    text = (Path(server.__file__).parent / "Dockerfile").read_text()
    assert text.count("FROM python:3.12-slim") == 2
    assert "USER 10001:10001" in text
    ignore = (Path(server.__file__).parent / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*") :][:1] == ["*"]
