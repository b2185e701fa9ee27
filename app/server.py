"""The sample service the dev stack builds: an HTTP server with a /healthz endpoint.

Standard library only, so the image needs nothing but Python; it writes nothing to disk, because
the task's root filesystem is read-only. It listens on `PORT` and reports `SERVICE_NAME`, both set
by the stack in every task (the service's port and name), so a backend on 9000 listens on 9000.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    server_version = "ecr-fargate-sample"

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._reply(HTTPStatus.OK, {"status": "ok"})
        elif self.path == "/":
            self._reply(
                HTTPStatus.OK,
                {
                    "service": os.environ.get("SERVICE_NAME", "api"),
                    "version": os.environ.get("APP_VERSION", "dev"),
                    "message": "hello from Fargate",
                },
            )
        else:
            self._reply(HTTPStatus.NOT_FOUND, {"error": "not found", "path": self.path})

    def _reply(self, status: HTTPStatus, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        sys.stdout.write(f"{self.address_string()} {format % args}\n")
        sys.stdout.flush()


def serve(port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    server = serve(int(os.environ.get("PORT", "8080")))

    def stop(signum: int, frame: object) -> None:
        # ECS sends SIGTERM, then SIGKILL after stopTimeout: finish in-flight requests and exit.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
