"""State of the sync (links, claims, cursors, sync health, counters) behind ``StatePort``.

``DynamoState`` is the production store (one DynamoDB table, layout in ``keys``); ``MemoryState``
is the in-memory fake with identical behaviour. ``schema.create_table_from_template`` builds the
table from template.yaml for tests and the local runtime. Importing this package creates no client.
"""

from shared.state.base import HealthSummary, StateTimings
from shared.state.dynamo import DynamoState
from shared.state.keys import salesforce_id18
from shared.state.memory import MemoryState

__all__ = ["DynamoState", "HealthSummary", "MemoryState", "StateTimings", "salesforce_id18"]
