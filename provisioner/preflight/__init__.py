"""Preflight: read-only checks of the account before a deploy (identity, region, versions, offerings, quotas, permissions)."""
