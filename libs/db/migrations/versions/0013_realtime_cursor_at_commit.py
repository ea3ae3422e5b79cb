"""Realtime cursors are taken at commit, by the database, instead of by the writer mid-transaction.

Until now a writer took its cursors with ``UPDATE tenants SET realtime_seq ...`` as its last
statement and held that row lock until its COMMIT arrived: a round trip plus however long its
event loop took to send the COMMIT. Every writer of a tenant (gateway, dispatcher,
ingest-worker, media-worker) queued on that lock, and on a loaded machine the holder's wait
to be scheduled was most of the hold (measured: 2.7 to 3.4 sessions waiting on it on average
during the outbound bench).

Now a writer inserts its events with a placeholder cursor (negative, from a sequence) and a
deferred constraint trigger numbers them when the transaction commits: the first of the
transaction's events takes the tenant's row lock, numbers all of them (in insertion order)
and the lock is released with the commit, with no client in between. Cursors still commit in
order (the lock is held from numbering to the end of the commit), so the replay guarantee of
``db.realtime_log`` is unchanged; a placeholder is never visible outside its transaction.
The writer learns its cursors after the commit from ``realtime_event_cursors``.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE realtime_event_placeholders AS bigint")
    op.execute("GRANT USAGE ON SEQUENCE realtime_event_placeholders TO omni_app")
    op.execute("CREATE INDEX realtime_events_event_id ON realtime_events (event_id)")
    op.execute(
        """
        CREATE FUNCTION realtime_events_number() RETURNS trigger
            LANGUAGE plpgsql SET search_path = public, pg_temp
            AS $$
        DECLARE
            pending bigint;
            base bigint;
        BEGIN
            -- The first of this transaction's events numbers them all; the others find
            -- their placeholder gone. Placeholders of other transactions are invisible here
            -- (uncommitted), so "seq < 0" is this transaction's events.
            PERFORM 1 FROM realtime_events WHERE tenant_id = NEW.tenant_id AND seq = NEW.seq;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            SELECT count(*) INTO pending
              FROM realtime_events WHERE tenant_id = NEW.tenant_id AND seq < 0;
            UPDATE tenants SET realtime_seq = realtime_seq + pending
             WHERE id = NEW.tenant_id
            RETURNING realtime_seq - pending INTO base;
            -- Placeholders count down (-nextval), so insertion order is seq descending.
            UPDATE realtime_events e
               SET seq = base + p.ord,
                   payload = jsonb_set(e.payload, '{cursor}', to_jsonb(base + p.ord))
              FROM (SELECT seq, row_number() OVER (ORDER BY seq DESC) AS ord
                      FROM realtime_events
                     WHERE tenant_id = NEW.tenant_id AND seq < 0) p
             WHERE e.tenant_id = NEW.tenant_id AND e.seq = p.seq;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER realtime_events_number
            AFTER INSERT ON realtime_events
            DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (NEW.seq < 0)
            EXECUTE FUNCTION realtime_events_number()
        """
    )
    # After the commit the writer's tenant setting is gone (it is transaction-local): the
    # cursors of its events are read through this function, by event id (random uuids; it
    # returns only the numbers).
    op.execute(
        """
        DO $$
        BEGIN
            EXECUTE format(
                'CREATE POLICY owner_cursor_lookup ON realtime_events FOR SELECT TO %I '
                'USING (true)', current_user);
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION realtime_event_cursors(p_tenant uuid, p_events uuid[])
            RETURNS TABLE (event_id uuid, seq bigint)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
            AS $$ SELECT e.event_id, e.seq FROM realtime_events e
                  WHERE e.event_id = ANY (p_events) AND e.tenant_id = p_tenant
                    AND e.seq > 0 $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION realtime_event_cursors(uuid, uuid[]) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION realtime_event_cursors(uuid, uuid[]) TO omni_app")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS realtime_event_cursors(uuid, uuid[])")
    op.execute("DROP POLICY IF EXISTS owner_cursor_lookup ON realtime_events")
    op.execute("DROP TRIGGER IF EXISTS realtime_events_number ON realtime_events")
    op.execute("DROP FUNCTION IF EXISTS realtime_events_number()")
    op.execute("DROP INDEX IF EXISTS realtime_events_event_id")
    op.execute("DROP SEQUENCE IF EXISTS realtime_event_placeholders")
