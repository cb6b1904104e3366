"""Teardown helpers: what must go, in the cluster and in the cloud, before a stack can be destroyed."""
