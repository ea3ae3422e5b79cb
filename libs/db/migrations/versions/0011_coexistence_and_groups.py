"""Coexistence, group chats and contacts named on the business's phone (issue #19).

``messages.sent_from_phone``: an outbound message the business sent outside this system (the
WhatsApp Business app, the phone itself), which the provider echoed to us; false for what the
dispatcher sent. ``integrations.group_messages``: what the integration does with group chats'
messages, ``ignore`` (the default, as before) or ``store``. ``contacts.named_on_phone``: the
contact's name comes from the business's own address book (Meta ``smb_app_state_sync``), so a
customer's profile name no longer replaces it.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE messages ADD COLUMN sent_from_phone boolean NOT NULL DEFAULT false")
    op.execute(
        "ALTER TABLE integrations ADD COLUMN group_messages text NOT NULL DEFAULT 'ignore' "
        "CHECK (group_messages IN ('ignore', 'store'))"
    )
    op.execute("ALTER TABLE contacts ADD COLUMN named_on_phone boolean NOT NULL DEFAULT false")


def downgrade() -> None:
    op.execute("ALTER TABLE contacts DROP COLUMN named_on_phone")
    op.execute("ALTER TABLE integrations DROP COLUMN group_messages")
    op.execute("ALTER TABLE messages DROP COLUMN sent_from_phone")
