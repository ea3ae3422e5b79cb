"""Provider adapters for Meta WhatsApp Cloud API, Evolution API and Z-API.

``base`` defines the one interface ingest, dispatcher and media use; ``errors`` the failure
types callers branch on. Each provider lives in its own package with pure ``parse``/``verify``/
``build`` modules and one ``client`` module that does HTTP.
"""
