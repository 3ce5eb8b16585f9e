"""The sync pipeline: fetch a full Exact record -> build the Monday item -> upsert -> record.

pipeline.py decides create vs update for a batch of documents (webhooks, polling, re-syncs);
records.py holds the per-record entry points.
"""

from integrations.sync.pipeline import WriteOutcome, board_columns, write_documents
from integrations.sync.records import mark_deleted, resync_records, sync_record

__all__ = [
    "WriteOutcome",
    "board_columns",
    "mark_deleted",
    "resync_records",
    "sync_record",
    "write_documents",
]
