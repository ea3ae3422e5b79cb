"""Dispatcher: one pace per WhatsApp number shared by every dispatcher process.

``send_pacing`` holds, per integration, the theoretical arrival time of a generic cell rate
algorithm (GCRA, a token bucket kept as one timestamp) and the end of a pause a provider's
429 asked for. It holds no tenant data (ids and timestamps), so instead of row-level security
the app role gets no privilege on it at all, only the SECURITY DEFINER functions below, each
one statement, one round trip:

- ``take_send_slot(integration, rate_per_s, burst)``: reserves the number's next send slot and
  returns the seconds to wait for it (0: send now). Up to ``burst`` sends go at once after a
  quiet spell, then one every ``1/rate_per_s`` seconds, across all processes.
- ``pause_sends(integration, seconds, rate_per_s, burst)``: no slot starts before now +
  seconds, and the sends after the pause resume at the rate (no burst).
- ``send_pause_left(integration)``: seconds left of a pause (0: none), checked by a send that
  waited for its slot, since a pause may have begun while it waited.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE send_pacing (
            integration_id uuid PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
            next_at timestamptz NOT NULL,
            paused_until timestamptz
        )
        """
    )
    op.execute("REVOKE ALL ON send_pacing FROM PUBLIC")
    # GCRA with reservation: T = 1/rate, the slot of this take is max(now, tat - (burst-1)*T)
    # and the new tat is max(tat, now) + T, so slot = max(now, new_tat - burst*T).
    op.execute(
        """
        CREATE FUNCTION take_send_slot(p_integration uuid, p_rate float8, p_burst float8)
            RETURNS float8
            LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
            AS $$
            DECLARE
                now_at timestamptz := clock_timestamp();
                tat timestamptz;
            BEGIN
                INSERT INTO send_pacing AS p (integration_id, next_at)
                    VALUES (p_integration, now_at + make_interval(secs => 1 / p_rate))
                ON CONFLICT (integration_id) DO UPDATE
                    SET next_at = greatest(p.next_at, now_at)
                                  + make_interval(secs => 1 / p_rate)
                RETURNING next_at INTO tat;
                RETURN greatest(
                    0, extract(epoch FROM tat - now_at)::float8 - p_burst / p_rate);
            END
            $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION pause_sends(p_integration uuid, p_seconds float8, p_rate float8,
                                    p_burst float8)
            RETURNS void
            LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
            AS $$
            INSERT INTO send_pacing AS p (integration_id, next_at, paused_until)
                VALUES (p_integration,
                        clock_timestamp()
                        + make_interval(secs => p_seconds + (p_burst - 1) / p_rate),
                        clock_timestamp() + make_interval(secs => p_seconds))
            ON CONFLICT (integration_id) DO UPDATE
                SET next_at = greatest(p.next_at, excluded.next_at),
                    paused_until = greatest(p.paused_until, excluded.paused_until)
            $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION send_pause_left(p_integration uuid) RETURNS float8
            LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
            AS $$
            SELECT coalesce(greatest(0, extract(epoch FROM
                       max(paused_until) - clock_timestamp())::float8), 0)
              FROM send_pacing WHERE integration_id = p_integration
            $$
        """
    )
    for signature in (
        "take_send_slot(uuid, float8, float8)",
        "pause_sends(uuid, float8, float8, float8)",
        "send_pause_left(uuid)",
    ):
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO omni_app")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS send_pause_left(uuid)")
    op.execute("DROP FUNCTION IF EXISTS pause_sends(uuid, float8, float8, float8)")
    op.execute("DROP FUNCTION IF EXISTS take_send_slot(uuid, float8, float8)")
    op.execute("DROP TABLE IF EXISTS send_pacing")
