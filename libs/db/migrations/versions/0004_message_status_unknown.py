"""Messages: the status ``unknown`` ("may have been sent"), ranked between queued and sent.

A provider call that ended ambiguously (read timeout after the request was written, a proxy's
502, a 2xx without the message id, a crash mid-call) leaves its message ``unknown``: never
sent again automatically, moved forward by a later sent/delivered/read status, failed by a
failed one. ``status_rank`` gets a rank for it (the others shift up by one, so comparisons of
two ranks keep their meaning); the stored generated column ``messages.status_rank`` is
dropped and added again so every row is ranked by the new function. The echo matching of
ingest-worker (an outbound message of a conversation still without its provider id) gets a
partial index.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _rank(unknown: bool) -> str:
    ranks = (
        "WHEN 'received' THEN 0 WHEN 'queued' THEN 0 WHEN 'unknown' THEN 1 WHEN 'sent' THEN 2 "
        "WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 WHEN 'played' THEN 5"
        if unknown
        else "WHEN 'received' THEN 0 WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 "
        "WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'played' THEN 4"
    )
    return f"""
        CREATE OR REPLACE FUNCTION status_rank(status text) RETURNS smallint
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $$ SELECT CASE status {ranks} WHEN 'failed' THEN 100 END::smallint $$
        """


def _statuses(unknown: bool) -> str:
    values = ["received", "queued", "sent", "delivered", "read", "played", "failed"]
    if unknown:
        values.insert(2, "unknown")
    listed = ", ".join(f"'{v}'" for v in values)
    return f"ALTER TABLE messages ADD CONSTRAINT messages_status_check CHECK (status IN ({listed}))"


def _rerank(unknown: bool) -> None:
    # A stored generated column is computed when its row is written: replacing the function
    # alone would leave every existing row with its old rank.
    op.execute("ALTER TABLE messages DROP COLUMN status_rank")
    op.execute(_rank(unknown))
    op.execute(
        "ALTER TABLE messages ADD COLUMN status_rank smallint "
        "GENERATED ALWAYS AS (status_rank(status)) STORED"
    )


def upgrade() -> None:
    op.execute("ALTER TABLE messages DROP CONSTRAINT messages_status_check")
    op.execute(_statuses(unknown=True))
    _rerank(unknown=True)
    op.execute(
        "CREATE INDEX messages_awaiting_provider_id ON messages (conversation_id, created_at) "
        "WHERE direction = 'outbound' AND provider_message_id IS NULL "
        "AND client_message_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS messages_awaiting_provider_id")
    # Without the status, a message that may have been sent reads as failed, which is what
    # the code before this revision wrote for the same case.
    op.execute(
        "UPDATE messages SET status = 'failed', failed_at = COALESCE(failed_at, now()) "
        "WHERE status = 'unknown'"
    )
    op.execute("ALTER TABLE messages DROP CONSTRAINT messages_status_check")
    op.execute(_statuses(unknown=False))
    _rerank(unknown=False)
