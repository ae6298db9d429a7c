"""State of the sync (links, claims, cursors, sync health, counters) behind ``StatePort``.

``DynamoState`` is the production store (one DynamoDB table, layout in ``keys``); its in-memory
twin for tests is ``tests/memory_state.py``. Importing this package creates no client.
"""

from shared.ids import salesforce_id18
from shared.state.base import HealthSummary, StateTimings
from shared.state.dynamo import DynamoState

__all__ = ["DynamoState", "HealthSummary", "StateTimings", "salesforce_id18"]
