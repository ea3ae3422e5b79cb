"""Security: an Evolution account is its instance on its server; SECURITY DEFINER functions
resolve names only in ``public`` and then ``pg_temp``.

- ``(provider, external_account_id)`` was unique across tenants, so two self-hosted Evolution
  servers with an instance of the same name could not both be connected. The identity of an
  Evolution account now includes its server (``api_base_url``); Meta's phone number ids and
  Z-API's instance ids are global at the provider and stay unique as they were. Webhooks of
  Evolution and Z-API are routed by webhook key; only Meta's app-level webhooks are routed by
  account (``route_by_account``), which stays one row per Meta number.
- Every SECURITY DEFINER function gets ``search_path = public, pg_temp``: without ``pg_temp``
  last, a caller's temporary objects would be searched first and could shadow the tables and
  operators the function uses (PostgreSQL's "Writing SECURITY DEFINER Functions Safely").
  Applied to every such function of the schema present at this revision.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ACCOUNT_SCOPE = "(CASE WHEN provider = 'evolution' THEN COALESCE(api_base_url, '') ELSE '' END)"


def _set_search_path(value: str) -> None:
    # value is one of this module's two constants, never input.
    op.execute(
        f"""
        DO $$
        DECLARE fn regprocedure;
        BEGIN
            FOR fn IN
                SELECT p.oid::regprocedure FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE p.prosecdef AND n.nspname = 'public'
            LOOP
                EXECUTE format('ALTER FUNCTION %s SET search_path = {value}', fn);
            END LOOP;
        END
        $$
        """  # noqa: S608
    )


def upgrade() -> None:
    op.execute(
        "ALTER TABLE integrations DROP CONSTRAINT IF EXISTS "
        "integrations_provider_external_account_id_key"
    )
    op.execute(
        "CREATE UNIQUE INDEX integrations_account ON integrations "
        f"(provider, external_account_id, {ACCOUNT_SCOPE})"
    )
    op.execute(
        "ALTER TABLE integration_routes DROP CONSTRAINT IF EXISTS "
        "integration_routes_provider_external_account_id_key"
    )
    op.execute(
        "CREATE INDEX integration_routes_account ON integration_routes "
        "(provider, external_account_id)"
    )
    _set_search_path("public, pg_temp")


def downgrade() -> None:
    _set_search_path("public")
    op.execute("DROP INDEX IF EXISTS integration_routes_account")
    op.execute(
        "ALTER TABLE integration_routes ADD CONSTRAINT "
        "integration_routes_provider_external_account_id_key UNIQUE (provider, external_account_id)"
    )
    op.execute("DROP INDEX IF EXISTS integrations_account")
    op.execute(
        "ALTER TABLE integrations ADD CONSTRAINT "
        "integrations_provider_external_account_id_key UNIQUE (provider, external_account_id)"
    )
