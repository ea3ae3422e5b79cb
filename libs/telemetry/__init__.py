"""Structured logging and W3C trace context, the same way in every process."""
