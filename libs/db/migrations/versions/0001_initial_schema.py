"""Initial schema: tenants, members, integrations, contacts, conversations, messages, audit log,
realtime event log; row-level security on every tenant table.

Revision ID: 0001
Revises:
"""

from alembic import op

from db.sqlscript import split_statements

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "tenant_members",
    "integrations",
    "contacts",
    "conversations",
    "messages",
    "parked_statuses",
    "webhook_logs",
    "realtime_events",
)

SCHEMA = r"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'omni_app') THEN
        -- The services' role: not owner, not superuser, no BYPASSRLS. `omni migrate` gives it LOGIN.
        CREATE ROLE omni_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

-- The tenant of the current transaction, or NULL. After a transaction that used
-- set_config(..., true) the setting reads '' rather than NULL, hence the NULLIF.
CREATE FUNCTION app_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;

-- Message status rank: statuses only move forward (see contracts/status.py).
CREATE FUNCTION status_rank(status text) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE status
        WHEN 'received' THEN 0 WHEN 'queued' THEN 0 WHEN 'sent' THEN 1
        WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'played' THEN 4
        WHEN 'failed' THEN 100 END::smallint $$;

CREATE TABLE tenants (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL,
    slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    realtime_seq  bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenant_members (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     text NOT NULL,
    role        text NOT NULL CHECK (role IN ('agent', 'admin')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE integrations (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider             text NOT NULL CHECK (provider IN ('meta', 'evolution', 'zapi')),
    external_account_id  text NOT NULL,
    display_name         text,
    webhook_key          text NOT NULL UNIQUE CHECK (length(webhook_key) >= 32),
    verify_token         text NOT NULL,
    credentials          bytea NOT NULL,          -- Fernet token of the provider credentials (JSON)
    api_base_url         text,                    -- Evolution server / Z-API / simulator base URL
    rate_limit_per_s     real CHECK (rate_limit_per_s IS NULL OR rate_limit_per_s > 0),
    status               text NOT NULL DEFAULT 'active'
                         CHECK (status IN ('active', 'disabled', 'needs_attention')),
    status_reason        text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, external_account_id),
    UNIQUE (tenant_id, id)
);

-- Where a webhook goes, before anyone knows the tenant. Not readable by the app role:
-- it is reached only through the two SECURITY DEFINER functions below, which return one row.
CREATE TABLE integration_routes (
    webhook_key          text PRIMARY KEY,
    provider             text NOT NULL,
    external_account_id  text NOT NULL,
    integration_id       uuid NOT NULL UNIQUE,
    tenant_id            uuid NOT NULL,
    status               text NOT NULL,
    UNIQUE (provider, external_account_id)
);

CREATE FUNCTION sync_integration_route() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    DELETE FROM integration_routes WHERE integration_id = COALESCE(OLD.id, NEW.id);
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO integration_routes
            (webhook_key, provider, external_account_id, integration_id, tenant_id, status)
        VALUES
            (NEW.webhook_key, NEW.provider, NEW.external_account_id, NEW.id, NEW.tenant_id, NEW.status);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION route_by_webhook_key(key text)
    RETURNS TABLE (integration_id uuid, tenant_id uuid, provider text, external_account_id text, status text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT integration_id, tenant_id, provider, external_account_id, status
          FROM integration_routes WHERE webhook_key = key $$;

CREATE FUNCTION route_by_account(p_provider text, p_account text)
    RETURNS TABLE (integration_id uuid, tenant_id uuid, provider text, external_account_id text, status text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT integration_id, tenant_id, provider, external_account_id, status
          FROM integration_routes WHERE provider = p_provider AND external_account_id = p_account $$;

CREATE TRIGGER integrations_route AFTER INSERT OR UPDATE OR DELETE ON integrations
    FOR EACH ROW EXECUTE FUNCTION sync_integration_route();

CREATE TABLE contacts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL,
    integration_id  uuid NOT NULL,
    external_id     text NOT NULL,      -- the chat id at the provider (wa_id, remoteJid, phone)
    phone           text,
    lid             text,
    display_name    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id) ON DELETE CASCADE,
    UNIQUE (integration_id, external_id),
    UNIQUE (tenant_id, id)
);

CREATE TABLE conversations (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id              uuid NOT NULL,
    integration_id         uuid NOT NULL,
    contact_id             uuid NOT NULL,
    status                 text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    assignee               text,
    last_message_preview   text,
    last_message_at        timestamptz,
    last_inbound_at        timestamptz,   -- the 24-hour customer-service window starts here
    last_inbound_provider_message_id text, -- what mark-as-read points at
    unread_count           integer NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE,
    UNIQUE (integration_id, contact_id),
    UNIQUE (tenant_id, id)
);
-- The inbox: newest activity first, keyset on (last_message_at, id).
CREATE INDEX conversations_inbox ON conversations (tenant_id, last_message_at DESC NULLS LAST, id DESC);

CREATE TABLE messages (
    id                            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id                     uuid NOT NULL,
    conversation_id               uuid NOT NULL,
    integration_id                uuid NOT NULL,
    direction                     text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    type                          text NOT NULL,
    status                        text NOT NULL
                                  CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'played', 'failed')),
    status_rank                   smallint GENERATED ALWAYS AS (status_rank(status)) STORED,
    provider_message_id           text,
    client_message_id             text,
    sender_name                   text,
    text                          text,
    caption                       text,
    content                       jsonb NOT NULL DEFAULT '{}'::jsonb,  -- location, contacts, reply choice, template, outbound request
    reply_to_provider_message_id  text,
    reply_to_message_id           uuid,
    reactions                     jsonb NOT NULL DEFAULT '[]'::jsonb,
    media_state                   text CHECK (media_state IN ('pending', 'stored', 'failed')),
    media_provider_ref            text,
    media_key                     text,
    media_mime                    text,
    media_size                    bigint,
    media_sha256                  text,
    media_filename                text,
    media_error                   text,
    error_code                    text,
    error_reason                  text,
    provider_timestamp            timestamptz,
    send_started_at               timestamptz,   -- set before calling the provider: "outcome unknown" after a crash
    sent_at                       timestamptz,
    delivered_at                  timestamptz,
    read_at                       timestamptz,
    failed_at                     timestamptz,
    created_at                    timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at                    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id) ON DELETE CASCADE,
    UNIQUE (tenant_id, id)
);
-- Deduplication lives in constraints: a provider's id once per integration (inbound and
-- outbound alike), an agent's idempotency key once per tenant.
CREATE UNIQUE INDEX messages_provider_id ON messages (integration_id, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE UNIQUE INDEX messages_client_id ON messages (tenant_id, client_message_id)
    WHERE client_message_id IS NOT NULL;
CREATE INDEX messages_history ON messages (tenant_id, conversation_id, created_at, id);
CREATE INDEX messages_created_brin ON messages USING brin (created_at);
CREATE INDEX messages_stuck_queued ON messages (created_at) WHERE status = 'queued';

-- Statuses whose provider message id is not known yet (the webhook beat the send's response).
CREATE TABLE parked_statuses (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id            uuid NOT NULL,
    integration_id       uuid NOT NULL,
    provider_message_id  text NOT NULL,
    status               text NOT NULL,
    error_code           text,
    error_reason         text,
    reported_at          timestamptz NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id) ON DELETE CASCADE,
    UNIQUE (integration_id, provider_message_id, status)
);

CREATE TABLE webhook_logs (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    integration_id  uuid NOT NULL,
    provider        text NOT NULL,
    received_at     timestamptz NOT NULL,
    body            text NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('accepted', 'processed', 'failed')),
    error           text,
    event_count     integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_logs_received_brin ON webhook_logs USING brin (received_at);
CREATE INDEX webhook_logs_failed ON webhook_logs (tenant_id, received_at) WHERE outcome = 'failed';

-- The realtime log the gateway replays from. seq comes from tenants.realtime_seq, taken with
-- UPDATE ... RETURNING inside the writing transaction: the row lock orders the commits, so a
-- reader never sees seq N+1 committed before seq N (a plain sequence would allow that).
CREATE TABLE realtime_events (
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq              bigint NOT NULL,
    event_id         uuid NOT NULL,
    type             text NOT NULL,
    conversation_id  uuid,
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX realtime_events_conversation ON realtime_events (tenant_id, conversation_id, seq);
CREATE INDEX realtime_events_created_brin ON realtime_events USING brin (created_at);
"""


def upgrade() -> None:
    for statement in split_statements(SCHEMA):
        op.execute(statement)
    for table in (
        "tenants",
        "tenant_members",
        "integrations",
        "contacts",
        "conversations",
        "messages",
        "webhook_logs",
    ):
        op.execute(
            f"CREATE TRIGGER {table}_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )
    # Row-level security, FORCEd so not even the owner is exempt; superusers still are,
    # which is why the services connect as omni_app.
    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tenants FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON tenants "
        "USING (id = app_tenant()) WITH CHECK (id = app_tenant())"
    )
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant())"
        )
    op.execute("REVOKE ALL ON integration_routes FROM PUBLIC")
    op.execute("GRANT USAGE ON SCHEMA public TO omni_app")
    op.execute("GRANT SELECT, UPDATE ON tenants TO omni_app")
    op.execute(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON " + ", ".join(TENANT_TABLES) + " TO omni_app"
    )
    op.execute(
        "GRANT EXECUTE ON FUNCTION route_by_webhook_key(text), "
        "route_by_account(text, text) TO omni_app"
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS realtime_events, webhook_logs, parked_statuses, messages, "
        "conversations, contacts, integration_routes, integrations, tenant_members, tenants CASCADE"
    )
    op.execute(
        "DROP FUNCTION IF EXISTS route_by_account(text, text), route_by_webhook_key(text), "
        "sync_integration_route(), status_rank(text), set_updated_at(), app_tenant()"
    )
