"""The registry: stack components, flavors, service connectors, stacks and their store."""
