"""A durable home for interactions: ``deescalate.store``, on SQLite or PostgreSQL.

Webhooks arrive at least once, sometimes out of order, at many workers at once.
:class:`Store` keeps each interaction as its event log in a database, judges every
delivery with the core's :func:`~deescalate.apply`, journals what became of it
(applied, refused, invalid, duplicate, late, bad input), keeps each interaction's
open obligations where a scheduler can ask what is due, and serialises deliveries
to one interaction across threads, processes and machines.

It needs the ``[store]`` extra (SQLAlchemy and psycopg): ``pip install
'deescalate-fsm[store]'``. The core never imports it.
"""

from __future__ import annotations

from ._errors import JournalConflict, StoreError, UnknownInteraction
from ._records import Delivery, DeliveryRecord, DueObligation, Fate, StoredFinding, StoredInteraction
from ._schema import SCHEMA_VERSION
from ._store import Payload, Store

__all__ = [
    "SCHEMA_VERSION",
    "Delivery",
    "DeliveryRecord",
    "DueObligation",
    "Fate",
    "JournalConflict",
    "Payload",
    "Store",
    "StoreError",
    "StoredFinding",
    "StoredInteraction",
    "UnknownInteraction",
]
