"""provisioner: deploy MLOps infrastructure with Pulumi and register it as stack components."""

__version__ = "0.2.0"
