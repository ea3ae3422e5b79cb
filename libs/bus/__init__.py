"""Kafka plumbing shared by every service: publishing envelopes, consuming in batches with
commit-after-durable, dead-lettering, and topic administration."""
