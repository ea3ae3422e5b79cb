"""Dispatcher: let the stuck-message sweep find the tenants that have queued outbound messages.

The app role sees one tenant per transaction (RLS), so the cross-tenant question "who has
outbound messages still queued?" is answered by a SECURITY DEFINER function that returns
tenant ids only. The owner is subject to the FORCEd tenant policy too, so a second,
SELECT-only policy lets the owning role (the one running this migration, which owns the
function) read across tenants; omni_app is not named by it and stays isolated. A partial
index keeps the scan to the queued outbound rows.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DO $$
        BEGIN
            EXECUTE format(
                'CREATE POLICY owner_sweep_scan ON messages FOR SELECT TO %I USING (true)',
                current_user);
        END
        $$
        """
    )
    op.execute(
        "CREATE INDEX messages_queued_outbound ON messages (tenant_id, created_at) "
        "WHERE direction = 'outbound' AND status = 'queued'"
    )
    op.execute(
        """
        CREATE FUNCTION tenants_with_queued_outbound() RETURNS SETOF uuid
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
            AS $$ SELECT DISTINCT tenant_id FROM messages
                  WHERE direction = 'outbound' AND status = 'queued' $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION tenants_with_queued_outbound() FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION tenants_with_queued_outbound() TO omni_app")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS tenants_with_queued_outbound()")
    op.execute("DROP INDEX IF EXISTS messages_queued_outbound")
    op.execute("DROP POLICY IF EXISTS owner_sweep_scan ON messages")
