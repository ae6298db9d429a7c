"""A local Lambda runtime: runs a SAM template's functions against moto and the sandbox.

Exports are loaded lazily, so the worker process (``python -m infra.runtime.worker``) imports nothing
but the standard library before the function's own code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.runtime.aws import MotoServer
    from infra.runtime.functions import InvocationResult
    from infra.runtime.runtime import LocalRuntime
    from infra.runtime.template import Template, TemplateError

__all__ = ["InvocationResult", "LocalRuntime", "MotoServer", "Template", "TemplateError"]

_EXPORTS = {
    "MotoServer": "infra.runtime.aws",
    "InvocationResult": "infra.runtime.functions",
    "LocalRuntime": "infra.runtime.runtime",
    "Template": "infra.runtime.template",
    "TemplateError": "infra.runtime.template",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'infra.runtime' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
