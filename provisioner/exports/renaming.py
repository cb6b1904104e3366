"""`stack import --name NEW`: give everything the import creates the new stack's prefix, not only the stack.

An export of ``aws-staging`` holds ``aws-staging-artifacts``, ``aws-staging-aws`` and so on; importing it
as ``aws-qa`` on the same registry must not collide with them. Each connector and component named
``<old stack>-...`` becomes ``<new stack>-...`` (any other name gets ``<new stack>-`` in front), links
between them follow, and the ``stack`` label names the new stack, so the copy is never taken for the
original's deployment. Secret references stay as they are: the copy reads the same secrets.
"""

from __future__ import annotations

from provisioner.exports.format import StackExport
from provisioner.recipe_api import LABEL_DEPLOYMENT, LABEL_MANAGED_BY, LABEL_STACK


def renamed(document: StackExport, new_stack: str) -> StackExport:
    """The document with the stack and every connector and component renamed to ``new_stack``'s prefix."""
    old = document.stack.name
    if new_stack == old:
        return document

    def name(current: str) -> str:
        return new_stack + current[len(old):] if current.startswith(f"{old}-") else f"{new_stack}-{current}"

    def labels(current: dict[str, str]) -> dict[str, str]:
        # A copy is not deploy-stack's: without these it can never be taken for the original's deployment.
        kept = {k: v for k, v in current.items() if k not in (LABEL_MANAGED_BY, LABEL_DEPLOYMENT)}
        return {**kept, LABEL_STACK: new_stack} if LABEL_STACK in current else kept

    connectors = {c.name: name(c.name) for c in document.connectors}
    return document.model_copy(update={
        "stack": document.stack.model_copy(update={"name": new_stack, "labels": labels(document.stack.labels)}),
        "connectors": [c.model_copy(update={"name": connectors[c.name], "labels": labels(c.labels)}) for c in document.connectors],
        "components": [
            c.model_copy(update={"name": name(c.name), "labels": labels(c.labels),
                                 "connector": connectors.get(c.connector, c.connector) if c.connector else None})
            for c in document.components
        ],
    })
