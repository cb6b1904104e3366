"""Pushing registered stacks into a running ZenML server, and removing what was pushed."""
