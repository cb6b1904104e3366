"""Which resources a destroy keeps when data is retained."""

from __future__ import annotations

from provisioner.retention import Node, RetentionPolicy, kept_keys

POLICY = RetentionPolicy(
    data_types=frozenset({"db", "bucket"}),
    attachment_types=frozenset({"bucket-policy"}),
    never_keep_types=frozenset({"cluster"}),
)


def test_data_keeps_its_dependencies_and_attachments_but_not_through_never_keep_types() -> None:
    nodes = [
        Node("vpc", "vpc"),
        Node("subnet", "subnet", frozenset({"vpc"})),
        Node("cluster", "cluster", frozenset({"subnet"})),
        Node("firewall", "firewall", frozenset({"cluster"})),
        Node("db", "db", frozenset({"subnet", "firewall"})),
        Node("bucket", "bucket"),
        Node("bucket-policy", "bucket-policy", frozenset({"bucket"})),
        Node("nat", "nat", frozenset({"subnet"})),
    ]

    assert kept_keys(nodes, POLICY) == {"db", "subnet", "vpc", "firewall", "bucket", "bucket-policy"}


def test_nothing_is_kept_without_data() -> None:
    assert kept_keys([Node("vpc", "vpc"), Node("nat", "nat", frozenset({"vpc"}))], POLICY) == set()
