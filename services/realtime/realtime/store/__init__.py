"""SQL of the gateway, one module per aggregate; every function takes a tenant transaction."""
