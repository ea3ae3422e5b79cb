"""Agents' JWTs: minting development tokens and verifying tokens from the tenant's identity
provider, with the algorithm pinned and exp/nbf/iss/aud checked."""
