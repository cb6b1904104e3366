"""The registry server: a FastAPI app over the same registry services, so roles hold for everyone."""
