"""The console: one page (``page.html``) and the JSON it reads, served on localhost.

It works with the operator's credentials on whatever stack the ``Target`` names (a deployed stack's
AWS credentials, the local stack's moto). The page's buttons POST to it; a POST must carry the
token the page was served with (a header a page of another origin cannot set), so no other site
open in the browser can make the console act.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from infra.cli.target import Target, Unavailable

PAGE = Path(__file__).with_name("page.html")
TOKEN_HEADER = "X-Hssync-Token"  # noqa: S105  # a header name, not a secret


class Console:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.token = secrets.token_urlsafe(24)
        self.server: BaseWSGIServer | None = None

    # -- reads -------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        from shared.operations.export import health_document
        from shared.operations.health import category_counts, health_rows

        rows = health_rows(
            self.target.state, str(self.target.portal), crm_states=self.target.crm_store.crm_states()
        )
        return health_document(category_counts(rows), rows)

    def status(self) -> dict[str, Any]:
        from infra.cli.status import report_of, status_document

        return status_document(report_of(self.target))

    # -- actions -----------------------------------------------------------------------------------
    def resync(self, body: dict[str, Any]) -> dict[str, Any]:
        """Run an entry's own resync command (as ``hssync resync --no-wait`` would)."""
        from infra.cli.sync import requests_of_command, send_requests
        from shared.pipeline.resync import describe

        requests = requests_of_command(str(body["command"]))
        send_requests(self.target, requests)
        return {"requested": describe(requests)}

    def redrive(self, body: dict[str, Any]) -> dict[str, Any]:
        from shared.operations.dead_letters import DeadLetterQueueReader
        from shared.operations.queues import by_name

        pair = by_name(str(body["queue"]))
        if pair.queue is None:
            raise ValueError(f"{pair.name} holds failed scheduled runs: nothing to redrive")
        reader = DeadLetterQueueReader(self.target.client("sqs"), self.target.queue(pair.dead_letter))
        sent, kept = reader.redrive(self.target.queue(pair.queue), body.get("ids"))
        return {"redriven": len(sent), "left": len(kept)}

    # -- serving -----------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self._respond(request)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        routes = {
            ("GET", "/"): lambda: self._page(),
            ("GET", "/api/health"): lambda: _json(self.health()),
            ("GET", "/api/status"): lambda: _json(self.status()),
            ("POST", "/api/resync"): lambda: _json(self.resync(_body(request))),
            ("POST", "/api/redrive"): lambda: _json(self.redrive(_body(request))),
        }
        route = routes.get((request.method, request.path))
        if route is None:
            return Response("not found", status=404)
        if request.method == "POST" and request.headers.get(TOKEN_HEADER) != self.token:
            return Response("forbidden", status=403)
        try:
            result: Response = route()
        except (Unavailable, ValueError, KeyError) as exc:
            return _json({"error": str(exc)}, status=400)
        return result

    def _page(self) -> Response:
        html = PAGE.read_text().replace("{{TOKEN}}", self.token).replace("{{WHERE}}", self.target.where)
        return Response(html, content_type="text/html; charset=utf-8")

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; returns the page's URL."""
        self.server = make_server(host, port, self, threaded=True)
        threading.Thread(target=self.server.serve_forever, name="hssync-console", daemon=True).start()
        return f"http://{host}:{self.server.server_port}/"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server = None


def _body(request: Request) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValueError("a JSON object is expected")
    return body


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document), status=status, content_type="application/json")
