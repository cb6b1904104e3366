"""Per-cloud Pulumi recipes: ComponentResources plus a recipe object that provisioner deploys."""
