"""The sample service: /healthz, /, 404, and the exact health command ECS runs against it."""

from __future__ import annotations

import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import job, migrate, server, worker
from rules.ecs.container import ContainerSpec


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
    assert command is not None
    assert command[:2] == ["CMD", "python"]
    done = subprocess.run([sys.executable, *command[2:]], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    broken = ContainerSpec(name="api", port=port, health_check_path="/missing").health_command()
    assert broken is not None
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


def test_the_worker_beats_until_sigterm_and_exits_cleanly() -> None:
    code = "import sys; sys.path.insert(0, '.'); from app import worker; worker.main()"
    env = {"HEARTBEAT_SECONDS": "0.05", "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "worker heartbeat 1\n"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out.endswith("worker stopping\n")


def test_the_worker_loop_stops_when_told() -> None:
    stop = threading.Event()
    stop.set()
    assert worker.run(stop, 0.01) == 0


def test_the_job_reports_and_exits() -> None:
    when = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    assert job.run(when) == {"job": "job", "ranAt": "2026-01-01T00:00:00+00:00"}
    code = "import sys; sys.path.insert(0, '.'); from app import job; job.main()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert json.loads(done.stdout)["job"] == "job"


def test_the_migration_reports_and_exits_zero() -> None:
    assert migrate.run() == {"migrate": "migrate", "applied": "nothing to apply"}
    code = "import sys; sys.path.insert(0, '.'); from app import migrate; sys.exit(migrate.main())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"migrate": "migrate", "applied": "nothing to apply"}


def test_the_image_compiles_the_migration_beside_the_other_entry_points() -> None:
    dockerfile = (Path(__file__).resolve().parents[1] / "app" / "Dockerfile").read_text()
    copy = next(
        line for line in dockerfile.splitlines() if line.startswith("COPY ") and ".py" in line
    )
    assert "migrate.py" in copy.split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_server_listens_on_the_port_and_name_the_stack_sets() -> None:
    """What the task definition of a backend on a non-default port passes (PORT, SERVICE_NAME):
    the app must answer the health check the stack renders for that port."""
    chosen = free_port()
    spec = ContainerSpec(name="orders", port=chosen)
    env = {**spec.stack_environment(), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    assert env["PORT"] == str(chosen) and env["SERVICE_NAME"] == "orders"
    code = "import sys; sys.path.insert(0, '.'); from app import server; server.main()"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, body = get(chosen, "/")
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline, "the server never listened on PORT"
                time.sleep(0.1)
        assert status == 200 and body["service"] == "orders"
        health = spec.health_command()
        assert health is not None
        done = subprocess.run([sys.executable, *health[2:]], capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_the_worker_and_the_job_report_the_service_name() -> None:
    env = {"SERVICE_NAME": "billing", "HEARTBEAT_SECONDS": "0.05", "PATH": "/usr/bin:/bin"}
    code = "import sys; sys.path.insert(0, '.'); from app import worker; worker.main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "billing heartbeat 1\n"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and out.endswith("billing stopping\n")
    code = "import sys; sys.path.insert(0, '.'); from app import job; job.main()"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=env
    )
    assert json.loads(done.stdout)["job"] == "billing"
