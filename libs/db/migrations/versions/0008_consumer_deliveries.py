"""Consumers: count the unfinished starts of each record in flight, across process restarts,
so a record that kills its consumer is dead-lettered after a few deliveries instead of
crash-looping the service (libs/bus/deliveries.py).

Offsets only, no tenant data: no row-level security. Rows live while their record is in flight.

Revision ID: 0008
Revises: 0006
"""

from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE consumer_deliveries (
            consumer_group text NOT NULL,
            topic text NOT NULL,
            partition integer NOT NULL,
            "offset" bigint NOT NULL,
            deliveries integer NOT NULL CHECK (deliveries > 0),
            last_started_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer_group, topic, partition, "offset")
        )
        """
    )
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON consumer_deliveries TO omni_app")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS consumer_deliveries")
