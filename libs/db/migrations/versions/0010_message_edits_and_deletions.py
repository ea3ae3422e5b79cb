"""Messages: edits and deletions for everyone by their author (issue #19).

``edited_at`` is when the latest edit was made (edits apply in that order, an older one that
arrives late changes nothing); ``edits`` keeps every replaced text and caption, oldest first,
so an edit never loses what the message said. ``deleted_at`` is when its author deleted it for
everyone: views show no content from then on, while the row keeps it.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE messages ADD COLUMN edited_at timestamptz, "
        "ADD COLUMN deleted_at timestamptz, "
        "ADD COLUMN edits jsonb NOT NULL DEFAULT '[]'::jsonb"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE messages DROP COLUMN edited_at, DROP COLUMN deleted_at, DROP COLUMN edits"
    )
