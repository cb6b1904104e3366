"""Syntax rules for recipe inputs, checked before anything is made: images, quantities, machine types, CIDRs.

Each ``check_*`` returns the value or raises ValueError with a one-line message (pydantic turns it
into the field's error). Patterns are matched in full: ``re.match`` with ``$`` accepts a trailing newline.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from decimal import Decimal
from functools import lru_cache

# The distribution/reference grammar (what `docker pull` and containerd accept): [domain/]path[:tag][@digest].
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?)"
_PATH_COMPONENT = r"(?:[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_REFERENCE = re.compile(rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?")

# Kubernetes resource.Quantity without a sign (requests and limits are never negative).
_QUANTITY = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][0-9]+)?")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"m": Decimal("0.001"), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9,
            "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18}

# GCE machine types: FAMILY-TYPE[-SIZE][-VARIANT] (e2-micro, n2-highmem-8, a2-highgpu-1g, c3-standard-4-lssd)
# or custom ones ([FAMILY-]custom-CPUS-MEMORY_MB[-ext]).
GCE_MACHINE_TYPE = re.compile(
    r"(?:[a-z][a-z0-9]*-)?custom-[0-9]+-[0-9]+(?:-ext)?|[a-z][a-z0-9]*-[a-z]+(?:-[0-9]+[a-z]*)?(?:-[a-z]+)?"
)
KUBERNETES_MINOR = re.compile(r"[0-9]+\.[0-9]+")

# Private IPv4 ranges AWS accepts for a VPC: RFC 1918 and RFC 6598 (shared address space).
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(cidr) for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)


def check_image_reference(value: str) -> str:
    """An OCI image reference such as ``ghcr.io/mlflow/mlflow:v3.17.2`` (full match, nothing else)."""
    if not IMAGE_REFERENCE.fullmatch(value):
        raise ValueError(f"not an image reference: {value!r} (expected [registry/]path[:tag][@sha256:digest])")
    return value


def parse_quantity(value: str) -> Decimal:
    """The amount a Kubernetes quantity such as ``500m``, ``2``, ``1Gi`` or ``1e3`` stands for.

    Raises:
        ValueError: ``value`` is not a (non-negative) Kubernetes quantity.
    """
    match = _QUANTITY.fullmatch(value)
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {value!r} (e.g. 500m, 2, 512Mi, 4Gi)")
    number, suffix = Decimal(match["number"]), match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * (Decimal(10) ** int(suffix[1:])) if suffix else number


def check_quantity(value: str) -> str:
    """``value`` if it is a Kubernetes quantity (see parse_quantity)."""
    parse_quantity(value)
    return value


def check_kubernetes_version(value: str) -> str:
    """A Kubernetes minor version, MAJOR.MINOR (``1.34``); whether it is supported is checked elsewhere."""
    if not KUBERNETES_MINOR.fullmatch(value):
        raise ValueError(f"not a Kubernetes version: {value!r} (expected MAJOR.MINOR, e.g. 1.34)")
    return value


def check_gce_machine_type(value: str) -> str:
    """A Compute Engine machine type name (``e2-standard-4``, ``n2-highmem-8``, ``custom-4-16384``)."""
    if not GCE_MACHINE_TYPE.fullmatch(value):
        raise ValueError(f"not a Compute Engine machine type: {value!r} (e.g. e2-standard-4, n2-highmem-8, custom-4-16384)")
    return value


@lru_cache(maxsize=1)
def ec2_instance_types() -> frozenset[str]:
    """Every EC2 instance type botocore's EC2 model knows (its ``InstanceType`` enum); loaded once, lazily."""
    import botocore.loaders

    model = botocore.loaders.Loader().load_service_model("ec2", "service-2")
    return frozenset(model["shapes"]["InstanceType"]["enum"])


def check_ec2_instance_type(value: str) -> str:
    """``value`` if it is an EC2 instance type; the error names the closest ones."""
    known = ec2_instance_types()
    if value not in known:
        close = difflib.get_close_matches(value, sorted(known), n=3)
        hint = f" (closest: {', '.join(close)})" if close else ""
        raise ValueError(f"unknown EC2 instance type {value!r}{hint}")
    return value


def check_vpc_cidr(value: str) -> str:
    """A private IPv4 range (RFC 1918 or RFC 6598) from /16 to /20, as the recipe splits it into per-AZ subnets."""
    try:
        network = ipaddress.ip_network(value)
    except ValueError:
        raise ValueError(f"not a CIDR range: {value!r}") from None
    if not isinstance(network, ipaddress.IPv4Network) or not any(network.subnet_of(r) for r in PRIVATE_RANGES):
        allowed = ", ".join(str(r) for r in PRIVATE_RANGES)
        raise ValueError(f"the VPC {value} is not a private range: use one inside {allowed}")
    if network.prefixlen < 16:
        raise ValueError(f"the VPC {value} is too large: AWS allows /16 at most")
    if network.prefixlen > 20:
        raise ValueError(f"the VPC {value} is too small: use a /20 or larger")
    return value
