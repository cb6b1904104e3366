"""The ASGI app uvicorn imports (``provisioner.server.main:app``), on PROVISIONER_STORE_URL or the home's registry."""

from provisioner.server.app import create_app

app = create_app()
