"""Dispatcher: let the stuck-message sweep find the tenants that have queued outbound messages.

The app role sees one tenant per transaction (RLS) and FORCEd policies bind the owner too, so
the cross-tenant question "who has outbound messages still queued?" is answered from a small
marker table without RLS, kept by a trigger on messages and reached only through SECURITY
DEFINER functions that deal in tenant ids alone (the pattern of ``integration_routes``).

Revision ID: 0003
Revises: 0001
"""

from alembic import op

from db.sqlscript import split_statements

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = r"""
CREATE TABLE queued_outbound_tenants (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    marked_at   timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION mark_queued_outbound_tenant() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    -- DO UPDATE (not NOTHING) takes the row lock, so a concurrent forget waits for this
    -- commit and then sees the new message. The writer already serialises per tenant on
    -- tenants.realtime_seq, so this lock adds no new contention.
    INSERT INTO queued_outbound_tenants (tenant_id) VALUES (NEW.tenant_id)
    ON CONFLICT (tenant_id) DO UPDATE SET marked_at = now();
    RETURN NULL;
END $$;

CREATE TRIGGER messages_mark_queued_outbound AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.direction = 'outbound' AND NEW.status = 'queued')
    EXECUTE FUNCTION mark_queued_outbound_tenant();

CREATE FUNCTION tenants_with_queued_outbound() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT tenant_id FROM queued_outbound_tenants ORDER BY marked_at $$;

-- Called inside a tenant transaction once that tenant has no queued outbound message left.
CREATE FUNCTION forget_queued_outbound_tenant() RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$ DELETE FROM queued_outbound_tenants WHERE tenant_id = app_tenant()
          AND NOT EXISTS (SELECT 1 FROM messages WHERE tenant_id = app_tenant()
                          AND direction = 'outbound' AND status = 'queued') $$;

-- The sweep's scan: a tenant's queued outbound messages, oldest first.
CREATE INDEX messages_queued_outbound ON messages (tenant_id, created_at)
    WHERE direction = 'outbound' AND status = 'queued';
"""


def upgrade() -> None:
    for statement in split_statements(SCHEMA):
        op.execute(statement)
    op.execute("REVOKE ALL ON queued_outbound_tenants FROM PUBLIC")
    op.execute(
        "REVOKE ALL ON FUNCTION tenants_with_queued_outbound(), forget_queued_outbound_tenant() "
        "FROM PUBLIC"
    )
    op.execute(
        "GRANT EXECUTE ON FUNCTION tenants_with_queued_outbound(), "
        "forget_queued_outbound_tenant() TO omni_app"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS messages_mark_queued_outbound ON messages")
    op.execute("DROP INDEX IF EXISTS messages_queued_outbound")
    op.execute(
        "DROP FUNCTION IF EXISTS tenants_with_queued_outbound(), forget_queued_outbound_tenant(), "
        "mark_queued_outbound_tenant()"
    )
    op.execute("DROP TABLE IF EXISTS queued_outbound_tenants")
