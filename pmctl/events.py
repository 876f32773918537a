"""The kinds of event pmctl writes to ``position_events``: one list for its writers and for ``events --kind``.

``pmctl.store.positions.insert_events`` refuses a kind missing here, so a writer of a new kind fails its tests
until the kind is listed. The original service's own kinds (``fill``, ``eod_decision`` …) are not listed:
``events --kind`` finds those in the database.
"""

from pmctl.core.plan import ALERT_KINDS

EVENT_KINDS = frozenset({
    "adopted", "quantity_changed", "price_update", "exit_triggered", "order_submitted", "order_failed",
    "order_unknown", "closed", "reopened", "edited", "entry_changed", "alert_sent", *ALERT_KINDS,
})
