"""Client mode: the CLI talks to a registry server over httpx instead of opening the database."""
