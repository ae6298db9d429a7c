"""`hssync sandbox up` as a user runs it: a separate process, a ready line, sandbox.json, clean shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests


def _start(state_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.cli",
            "sandbox",
            "up",
            "--salesforce-port",
            "0",
            "--hubspot-port",
            "0",
            "--state-dir",
            str(state_dir),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _read_ready(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("ready"):
            return line
        if not line and proc.poll() is not None:
            raise AssertionError(f"sandbox exited early: {proc.stderr.read() if proc.stderr else ''}")
    raise AssertionError("no ready line within 30 s")


def test_sandbox_up_announces_itself_serves_and_stops_on_sigterm(tmp_path):
    proc = _start(
        tmp_path, "--hs-access-token", "custom-token", "--aws-port", "0", "--schedule-period", "600"
    )
    try:
        ready = _read_ready(proc)
        info = json.loads((tmp_path / "sandbox.json").read_text())
        assert f"salesforce={info['salesforce']['url']}" in ready
        assert f"hubspot={info['hubspot']['url']}" in ready
        assert info["salesforce"]["url"].startswith("https://")
        assert info["hubspot"]["access_token"] == "custom-token"
        ca = info["salesforce"]["ca_bundle"]
        assert Path(ca) == tmp_path.resolve() / "sandbox-ca.pem"
        # the certificate verifies against the written CA: no verify=False anywhere
        assert requests.get(f"{info['salesforce']['url']}/_sandbox/health", verify=ca, timeout=5).ok
        assert requests.get(f"{info['hubspot']['url']}/_sandbox/health", timeout=5).ok
        # the stack runs too: moto, the functions, and the webhook URL registered with the HubSpot app
        assert f"runtime={info['runtime']['url']}" in ready
        assert requests.get(f"{info['runtime']['url']}/_runtime/idle", timeout=5).ok
        idle = subprocess.run(
            [
                sys.executable,
                "-m",
                "infra.cli",
                "sandbox",
                "wait-idle",
                "--timeout",
                "30",
                "--state-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert idle.returncode == 0, idle.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stopping sandbox" in out


def test_sandbox_up_stops_on_sigint_too(tmp_path):
    proc = _start(tmp_path, "--emulators-only")
    try:
        _read_ready(proc)
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
