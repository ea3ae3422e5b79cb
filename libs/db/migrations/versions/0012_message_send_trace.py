"""Outbound messages keep the trace of their send, so the provider's status webhooks can point
back to it.

A provider never carries our trace context back: its ``delivered`` and ``read`` webhooks start
traces of their own. ``send_traceparent`` is the W3C traceparent of the agent's request that
queued the message (written by the gateway only while tracing is on); ingest-worker reads it
from the row its status update returns anyway and links the status's span to the send's
(``telemetry.tracing.link``), so a tracing backend shows the send and its statuses together.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE messages ADD COLUMN send_traceparent text")


def downgrade() -> None:
    op.execute("ALTER TABLE messages DROP COLUMN send_traceparent")
