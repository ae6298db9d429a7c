"""moto's server in a process of its own: ``python -m infra.runtime.moto_process HOST PORT``.

The sandbox emulators and the runtime's pollers share one Python process (one GIL); moto answering
every SQS, DynamoDB, SSM and Secrets Manager call of the functions from that same process made it
the bottleneck of the local pipeline. In its own process it runs on the other core, served by
cheroot with HTTP/1.1 keep-alive (moto's own werkzeug server opens a connection and a thread per
request, which cost more than most of the calls themselves). It prints
``ready <port>`` once it accepts connections and stops when its standard input closes (the parent
exited or stopped it) or on SIGTERM.

Every request is metered (``infra.runtime.meter``: what AWS would bill), then passes the IAM check
(``infra.runtime.iam.enforcer``): a function's calls are authorized against its execution role.
moto loads the AWS managed policies, so the roles can have the ones SAM attaches.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any


def _managed_policies_in_the_aws_partition() -> None:
    """moto loads the AWS managed policies (AWSLambdaBasicExecutionRole and the like) into each IAM
    backend it creates, and creates one per partition on the first request of an account: load them
    into the ``aws`` partition's only (0.5 s less at start)."""
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    from moto.iam.models import IAMBackend

    load = IAMBackend._init_aws_policies
    if getattr(load, "hssync_patched", False):
        return

    def init_aws_policies(self: Any) -> Any:
        return load(self) if self.region_name == "aws" else []

    init_aws_policies.hssync_patched = True  # type: ignore[attr-defined]
    IAMBackend._init_aws_policies = init_aws_policies  # type: ignore[method-assign]


def moto_app() -> Any:
    """moto's WSGI application behind the IAM check, its requests metered (``infra.runtime.meter``)."""
    _managed_policies_in_the_aws_partition()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from infra.runtime.iam.enforcer import IamEnforcer
    from infra.runtime.meter import RequestMeter

    return RequestMeter(IamEnforcer(DomainDispatcherApplication(create_backend_app)))


def main(argv: list[str]) -> int:
    host, port = argv[0], int(argv[1])
    from infra.runtime import moto_speedups

    moto_speedups.apply()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    from infra.sandbox.serving import EmulatorServer

    server = EmulatorServer(moto_app(), host, port, threads=32)
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def until_stdin_closes() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    print(f"ready {server.port}", flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
