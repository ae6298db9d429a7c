"""One place for Powertools' logger, tracer and metrics, shared by every function.

Logs are JSON (CloudWatch Logs Insights friendly) with email addresses masked: a log line may name
a record, never a person's address.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import PowertoolsLogRecord

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_emails(text: str) -> str:
    """``ada.lovelace@example.com`` -> ``a***@example.com``."""
    return _EMAIL.sub(r"\1***@\2", text)


class MaskingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        return mask_emails(super().serialize(log))


logger = Logger(logger_formatter=MaskingFormatter())
tracer = Tracer()
metrics = Metrics()
