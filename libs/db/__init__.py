"""Postgres access: the connection pool, the one tenant-scoped transaction, and migrations.

Every tenant query runs inside ``tenant_tx``, which sets ``app.tenant_id`` for the
transaction; row-level security (FORCEd, app role neither owner nor superuser) does the rest.
"""
