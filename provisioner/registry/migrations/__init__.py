"""Alembic migrations of the registry schema (run by the store on open; see ``provisioner.registry.schema``)."""
