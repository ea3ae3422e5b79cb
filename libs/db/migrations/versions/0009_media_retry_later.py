"""Media: a fetch that failed transiently is tried again later, over hours, instead of failing.

``media_retry_at`` is when the next try is due (NULL: none scheduled) and ``media_attempts``
how many later tries were scheduled. The media-worker's retrier asks ``media_retries_due`` (a
SECURITY DEFINER function returning ids only, across tenants, through the owner's read policy
of migration 0003) which messages are due, then claims each inside its tenant's transaction.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE messages ADD COLUMN media_retry_at timestamptz, "
        "ADD COLUMN media_attempts integer NOT NULL DEFAULT 0"
    )
    op.execute(
        "CREATE INDEX messages_media_retry_due ON messages (media_retry_at) "
        "WHERE media_state = 'pending' AND media_retry_at IS NOT NULL"
    )
    op.execute(
        """
        CREATE FUNCTION media_retries_due(lim integer)
            RETURNS TABLE (tenant_id uuid, message_id uuid)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
            AS $$ SELECT tenant_id, id FROM messages
                  WHERE media_state = 'pending' AND media_retry_at <= now()
                  ORDER BY media_retry_at LIMIT lim $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION media_retries_due(integer) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION media_retries_due(integer) TO omni_app")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS media_retries_due(integer)")
    op.execute("DROP INDEX IF EXISTS messages_media_retry_due")
    op.execute("ALTER TABLE messages DROP COLUMN media_retry_at, DROP COLUMN media_attempts")
