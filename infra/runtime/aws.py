"""moto as a server (in a process of its own), and the boto3 clients the runtime uses to talk to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
import requests

LOCAL_ACCESS_KEY = "testing"
LOCAL_SECRET_KEY = "testing"  # noqa: S105 - moto accepts any credentials


@dataclass(frozen=True)
class Credentials:
    """AWS credentials: the runtime's own (the account's administrator) or a role session's."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


LOCAL_CREDENTIALS = Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY)


class MotoServer:
    """moto's server on ``host:port`` (port 0 picks a free one): in a child process by default (see
    ``infra.runtime.moto_process``), or in a background thread of this process (``isolated=False``).
    Either way it enforces the IAM policies of role sessions (``infra.runtime.iam``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5005, *, isolated: bool = True) -> None:
        self.host = host
        self.port = port
        self.isolated = isolated
        self._server: Any = None
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def start(self) -> str:
        with self._lock:
            if self.running:
                return self.endpoint_url
            if self.isolated:
                self._start_process()
            else:
                from infra.runtime.moto_process import moto_app
                from infra.sandbox.serving import EmulatorServer

                server = EmulatorServer(moto_app(), self.host, self.port)
                server.start()
                self._server = server
                self.port = server.port
        return self.endpoint_url

    def _start_process(self, timeout: float = 60.0) -> None:
        if self.port == 0:
            with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET) as probe:
                probe.bind((self.host, 0))
                self.port = probe.getsockname()[1]
        root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path}
        process = subprocess.Popen(  # noqa: S603 - our own module, with this interpreter
            [sys.executable, "-m", "infra.runtime.moto_process", self.host, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=root,
        )
        deadline = time.monotonic() + timeout
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("ready") or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"moto did not start on {self.host}:{self.port} (exit code {process.poll()})")
        self._process = process

    @property
    def endpoint_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None or (self._process is not None and self._process.poll() is None)

    def reset(self) -> None:
        """Forget every resource (moto's own reset endpoint)."""
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()

    def metered(self, *, reset: bool = False) -> dict[str, dict[str, float]]:
        """The requests counted so far (``infra.runtime.meter``); ``reset``: and start counting anew."""
        from infra.runtime.meter import METER_PATH

        method = requests.delete if reset else requests.get
        answer = method(f"{self.endpoint_url}{METER_PATH}", timeout=10)
        answer.raise_for_status()
        counted: dict[str, dict[str, float]] = answer.json()
        return counted

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None
            if self._process is not None:
                process, self._process = self._process, None
                if process.stdin:
                    process.stdin.close()  # the child stops when its stdin closes
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class AwsClients:
    """Lazily built boto3 clients against ``endpoint_url`` with the local credentials (or others)."""

    endpoint_url: str
    region: str

    def client(self, service: str, credentials: Credentials = LOCAL_CREDENTIALS) -> Any:
        """A new client of ``service`` signing with ``credentials``."""
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
        )

    def _client(self, service: str) -> Any:
        return self.client(service)

    @cached_property
    def sqs(self) -> Any:
        return self._client("sqs")

    @cached_property
    def dynamodb(self) -> Any:
        return self._client("dynamodb")

    @cached_property
    def secretsmanager(self) -> Any:
        return self._client("secretsmanager")

    @cached_property
    def sns(self) -> Any:
        return self._client("sns")

    @cached_property
    def ssm(self) -> Any:
        return self._client("ssm")

    @cached_property
    def iam(self) -> Any:
        return self._client("iam")

    @cached_property
    def sts(self) -> Any:
        return self._client("sts")

    def new_sqs(self, credentials: Credentials = LOCAL_CREDENTIALS) -> Any:
        """A client of its own (one per poller thread: long polls must not queue behind each other)."""
        return self.client("sqs", credentials)
