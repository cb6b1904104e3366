"""provisioner's guardrails for any Pulumi project: pulumi preview --policy-pack examples/policy-pack."""

from provisioner.policy_pack import serve

serve()
