"""Stack export and import: our own format (``format``), ZenML's (``zenml``) and re-creating a stack (``importing``)."""
