"""moto as an in-process server, and the boto3 clients the runtime itself uses to talk to it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3
import requests

LOCAL_ACCESS_KEY = "testing"
LOCAL_SECRET_KEY = "testing"  # noqa: S105 - moto accepts any credentials


class MotoServer:
    """moto's server on ``host:port`` (port 0 picks a free one), in a background thread of this process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5005) -> None:
        self.host = host
        self.port = port
        self._server: Any = None
        self._lock = threading.Lock()

    def start(self) -> str:
        from moto.server import ThreadedMotoServer

        with self._lock:
            if self._server is None:
                server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
                server.start()
                self._server = server
                self.port = server.get_host_and_port()[1]
        return self.endpoint_url

    @property
    def endpoint_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def reset(self) -> None:
        """Forget every resource (moto's own reset endpoint)."""
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class AwsClients:
    """Lazily built boto3 clients against ``endpoint_url`` with the local credentials."""

    endpoint_url: str
    region: str

    def _client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=LOCAL_ACCESS_KEY,
            aws_secret_access_key=LOCAL_SECRET_KEY,
        )

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
    def ssm(self) -> Any:
        return self._client("ssm")

    def new_sqs(self) -> Any:
        """A client of its own (one per poller thread: long polls must not queue behind each other)."""
        return self._client("sqs")
