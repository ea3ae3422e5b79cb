"""Ingest: let the persister find which tenants have parked statuses to reconcile.

The app role sees one tenant per transaction (RLS), and the owner is subject to the FORCEd
policies too, so the cross-tenant question "who has parked statuses?" is answered from a small
marker table without RLS, kept by a trigger and reached only through SECURITY DEFINER
functions that deal in tenant ids alone (the ``integration_routes`` pattern of 0001).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from db.sqlscript import split_statements

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = r"""
CREATE TABLE parked_status_tenants (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    marked_at   timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION mark_parked_tenant() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    -- DO UPDATE (not NOTHING) takes the row lock, so a concurrent forget waits for this commit.
    INSERT INTO parked_status_tenants (tenant_id) VALUES (NEW.tenant_id)
    ON CONFLICT (tenant_id) DO UPDATE SET marked_at = now();
    RETURN NULL;
END $$;

CREATE TRIGGER parked_statuses_mark AFTER INSERT ON parked_statuses
    FOR EACH ROW EXECUTE FUNCTION mark_parked_tenant();

CREATE FUNCTION tenants_with_parked_statuses() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT tenant_id FROM parked_status_tenants $$;

-- Called inside a tenant transaction once that tenant has nothing parked any more.
CREATE FUNCTION forget_parked_tenant() RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public
    AS $$ DELETE FROM parked_status_tenants WHERE tenant_id = app_tenant()
          AND NOT EXISTS (SELECT 1 FROM parked_statuses WHERE tenant_id = app_tenant()) $$;
"""


def upgrade() -> None:
    for statement in split_statements(SCHEMA):
        op.execute(statement)
    op.execute("REVOKE ALL ON parked_status_tenants FROM PUBLIC")
    op.execute(
        "REVOKE ALL ON FUNCTION tenants_with_parked_statuses(), forget_parked_tenant() FROM PUBLIC"
    )
    op.execute(
        "GRANT EXECUTE ON FUNCTION tenants_with_parked_statuses(), forget_parked_tenant() "
        "TO omni_app"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS parked_statuses_mark ON parked_statuses")
    op.execute(
        "DROP FUNCTION IF EXISTS tenants_with_parked_statuses(), forget_parked_tenant(), "
        "mark_parked_tenant()"
    )
    op.execute("DROP TABLE IF EXISTS parked_status_tenants")
