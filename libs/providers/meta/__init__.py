"""Meta WhatsApp Cloud API: webhook verification, parsing, request building and the client."""
