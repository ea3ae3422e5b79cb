"""What every process does the same way: structured logging (secrets in URLs redacted), W3C
trace context, the ops endpoints on their own port, and the request body cap of HTTP APIs."""
