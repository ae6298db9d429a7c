"""moto's server in a process of its own: ``python -m infra.runtime.moto_process HOST PORT``.

The sandbox emulators and the runtime's pollers share one Python process (one GIL); moto answering
every SQS, DynamoDB, SSM and Secrets Manager call of the functions from that same process made it
the bottleneck of the local pipeline. In its own process it runs on the other core, served by
cheroot with HTTP/1.1 keep-alive (moto's own werkzeug server opens a connection and a thread per
request, which cost more than most of the calls themselves). It prints
``ready <port>`` once it accepts connections and stops when its standard input closes (the parent
exited or stopped it) or on SIGTERM.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading


def main(argv: list[str]) -> int:
    host, port = argv[0], int(argv[1])
    from infra.runtime import moto_speedups

    moto_speedups.apply()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from infra.sandbox.serving import EmulatorServer

    server = EmulatorServer(DomainDispatcherApplication(create_backend_app), host, port, threads=32)
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
