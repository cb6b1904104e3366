"""provisioner: deploy MLOps infrastructure with Pulumi and register it as stack components."""

__version__ = "0.4.0"
