"""Cold start: each handler module of template.yaml imported in a fresh interpreter, with the
environment the template gives the function (Globals + its own variables) and the variables Lambda
sets. Only the module import is timed (what the handler adds to Lambda's own start), best of N."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.report import table

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
TARGET_MS = 300.0  # issue 17: every handler imports in <= 300 ms
ATTEMPTS = 3

# the parameters the local stack deploys with (infra/local_stack.py); values only shape environment text
PARAMETERS = {
    "HubSpotPortalId": "1000001",
    "SalesforceEventBusName": "hssync-local",
    "SalesforceLoginUrl": "https://127.0.0.1:8443",
    "SalesforceOrgId": "00D000000000001EAA",
}

_PROBE = """
import importlib, json, sys, time
sys.path[:0] = json.loads(sys.argv[1])
started = time.perf_counter()
importlib.import_module(sys.argv[2])
print(json.dumps({"ms": (time.perf_counter() - started) * 1000, "modules": len(sys.modules)}))
"""


@dataclass
class ImportTime:
    function: str
    module: str
    best_ms: float
    attempts_ms: list[float]
    modules_loaded: int

    @property
    def within_target(self) -> bool:
        return self.best_ms < TARGET_MS


@dataclass
class ImportResults:
    python: str
    handlers: list[ImportTime]

    def to_json(self) -> dict[str, Any]:
        return {
            "python": self.python,
            "target_ms": TARGET_MS,
            "handlers": [{**asdict(h), "within_target": h.within_target} for h in self.handlers],
        }

    def render(self) -> str:
        rows = [
            (
                h.function,
                h.module,
                h.best_ms,
                " / ".join(f"{a:.0f}" for a in h.attempts_ms),
                h.modules_loaded,
                "yes" if h.within_target else "NO",
            )
            for h in self.handlers
        ]
        headers = ["function", "module", "best ms", "attempts ms", "modules", f"< {TARGET_MS:.0f} ms"]
        return table(headers, rows) + f"\n  (local interpreter: Python {self.python}; Lambda runs python3.13)"


def _lambda_environment(spec: Any) -> dict[str, str]:
    env = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
    env.update(
        {
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # a placeholder: nothing calls AWS
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(spec.environment)
    return env


def _import_once(spec: Any) -> tuple[float, int]:
    roots = json.dumps([str(p) for p in spec.import_roots])
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, roots, spec.module],
        env=_lambda_environment(spec),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {spec.module} failed:\n{done.stderr[-2000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return float(answer["ms"]), int(answer["modules"])


def measure_imports(attempts: int = ATTEMPTS) -> ImportResults:
    from infra.runtime import Template

    template = Template.load(TEMPLATE, parameters=PARAMETERS)
    for logical_id in template.logical_ids("AWS::SQS::Queue"):
        # queue URLs are known once a queue exists; the URL AWS would give it is enough to import
        name = template.physical[logical_id].attributes["QueueName"]
        template.set_physical(logical_id, f"https://sqs.us-east-1.amazonaws.com/{template.account_id}/{name}")
    for logical_id in template.logical_ids("AWS::SecretsManager::Secret"):
        name = template.physical[logical_id].attributes["Name"]
        arn = f"arn:aws:secretsmanager:us-east-1:{template.account_id}:secret:{name}-AbCdEf"
        template.set_physical(logical_id, arn)
    handlers = []
    for spec in template.functions():
        samples = [_import_once(spec) for _ in range(attempts)]
        times = [ms for ms, _ in samples]
        handlers.append(ImportTime(spec.logical_id, spec.module, min(times), times, samples[0][1]))
    version = ".".join(str(v) for v in sys.version_info[:3])
    return ImportResults(version, handlers)
