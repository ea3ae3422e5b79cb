"""Ingest: let the persister find which tenants have parked statuses to reconcile.

The app role sees one tenant per transaction (RLS), so the cross-tenant question "who has
parked statuses?" is answered by a SECURITY DEFINER function that returns tenant ids only.
The owner is subject to the FORCEd tenant policy too, so a second, SELECT-only policy lets the
owning role (the one running this migration, which owns the function) read across tenants;
omni_app is not named by it and stays isolated.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DO $$
        BEGIN
            EXECUTE format(
                'CREATE POLICY owner_reconcile_scan ON parked_statuses FOR SELECT TO %I USING (true)',
                current_user);
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION tenants_with_parked_statuses() RETURNS SETOF uuid
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
            AS $$ SELECT DISTINCT tenant_id FROM parked_statuses $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION tenants_with_parked_statuses() FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION tenants_with_parked_statuses() TO omni_app")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS tenants_with_parked_statuses()")
    op.execute("DROP POLICY IF EXISTS owner_reconcile_scan ON parked_statuses")
