"""Evolution API v2 (Baileys): webhook verification, parsing, request building and the client."""
