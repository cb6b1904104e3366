"""Engines run a recipe's Pulumi program: the real Pulumi CLI, or an in-process simulation."""
