"""HTTP(S) serving for the emulators: cheroot, a threaded WSGI server with HTTP/1.1 keep-alive.

Real APIs keep connections alive and clients (requests sessions) reuse them, so a call costs no new
TCP/TLS handshake. werkzeug's development server closes every connection (and drains the socket in
a way that cannot coexist with keep-alive), so the emulators run on cheroot instead; werkzeug still
does their routing and request/response handling.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

SOCKET_ENVIRON_KEY = "hssync.socket"


class _Gateway(wsgi.Gateway_10):
    """Exposes the client socket, so an injected timeout fault can drop the connection unanswered."""

    def get_environ(self) -> dict[str, Any]:  # type: ignore[override]  # cheroot's stub says None
        environ: dict[str, Any] = super().get_environ()  # type: ignore[no-untyped-call]
        environ[SOCKET_ENVIRON_KEY] = self.req.conn.socket
        return environ


class EmulatorServer:
    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        certificate: Path | None = None,
        private_key: Path | None = None,
        threads: int = 16,
    ) -> None:
        self._server = wsgi.Server((host, port), app, numthreads=threads, server_name=host)
        self._server.gateway = _Gateway
        if certificate is not None and private_key is not None:
            self._server.ssl_adapter = BuiltinSSLAdapter(str(certificate), str(private_key))
        self._server.prepare()  # binds now, so a port of 0 is resolved before start()
        self.port: int = self._server.bind_addr[1]
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve, name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
