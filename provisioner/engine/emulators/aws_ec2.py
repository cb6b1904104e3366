"""EC2 networking in moto: VPC, subnets, gateways, elastic IPs, route tables, routes and security groups."""

from __future__ import annotations

import zlib
from typing import Any

from provisioner.engine.emulators.aws_common import (
    account_id,
    ec2_arn,
    error_code,
    find_ec2_orphan,
    ignore_not_found,
    is_not_found,
    sync_ec2_tags,
    tag_specifications,
    tags_of,
    wait_for,
)
from provisioner.engine.emulators.base import FAKE_ACCOUNT_ID, EmulationContext, Emulator


def _first(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    return items[0] if items else None


def _describe_one(ctx: EmulationContext, method: str, key: str, **params: Any) -> dict[str, Any] | None:
    """The single item an EC2 ``describe_*`` call returns, or None when it does not exist."""
    try:
        return _first(getattr(ctx.aws("ec2"), method)(**params)[key])
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise



def _refuse_while_in_use(ctx: EmulationContext, filter_name: str, resource_id: str, what: str) -> None:
    """Raise DependencyViolation like AWS when network interfaces still sit in the subnet or VPC.

    moto deletes them anyway; AWS does not, which is what blocks teardowns after Kubernetes made
    load balancers and volumes outside Pulumi's state.
    """
    from botocore.exceptions import ClientError

    interfaces = ctx.aws("ec2").describe_network_interfaces(Filters=[{"Name": filter_name, "Values": [resource_id]}])
    if interfaces["NetworkInterfaces"]:
        ids = ", ".join(i["NetworkInterfaceId"] for i in interfaces["NetworkInterfaces"])
        raise ClientError(
            {"Error": {"Code": "DependencyViolation", "Message": f"The {what} has dependencies and cannot be deleted ({ids})"}},
            "Delete",
        )


class _TaggedEc2Emulator(Emulator):
    """An EC2 type that takes tags: a half-made one is found by this deployment's id and its URN tag."""

    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        return find_ec2_orphan(ctx, inputs)


class VpcEmulator(_TaggedEc2Emulator):
    """aws:ec2/vpc:Vpc. Outputs the VPC's default security group, main route table and network ACL."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"CidrBlock": inputs["cidrBlock"], "TagSpecifications": tag_specifications("vpc", tags_of(inputs))}
        if inputs.get("instanceTenancy"):
            params["InstanceTenancy"] = inputs["instanceTenancy"]
        vpc = ctx.aws("ec2").create_vpc(**params)["Vpc"]
        self._attributes(vpc["VpcId"], inputs, ctx)
        return vpc["VpcId"], self._state(vpc["VpcId"], inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        self._attributes(resource_id, inputs, ctx)
        sync_ec2_tags(ctx, resource_id, tags_of(old), tags_of(inputs))
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return _describe_one(ctx, "describe_vpcs", "Vpcs", VpcIds=[resource_id]) is not None

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        _refuse_while_in_use(ctx, "vpc-id", resource_id, f"vpc {resource_id}")
        ignore_not_found(ctx.aws("ec2").delete_vpc, VpcId=resource_id)

    @staticmethod
    def _attributes(vpc_id: str, inputs: dict[str, Any], ctx: EmulationContext) -> None:
        ec2 = ctx.aws("ec2")
        for key, attribute in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
            if inputs.get(key) is not None:
                ec2.modify_vpc_attribute(VpcId=vpc_id, **{attribute: {"Value": bool(inputs[key])}})

    @staticmethod
    def _state(vpc_id: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        ec2 = ctx.aws("ec2")
        vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
        by_vpc = {"Name": "vpc-id", "Values": [vpc_id]}
        main_table = ec2.describe_route_tables(Filters=[by_vpc, {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
        default_group = ec2.describe_security_groups(Filters=[by_vpc, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
        default_acl = ec2.describe_network_acls(Filters=[by_vpc, {"Name": "default", "Values": ["true"]}])["NetworkAcls"]

        def attribute(name: str) -> bool:
            return bool(ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)[name[0].upper() + name[1:]]["Value"])

        main_table_id = main_table[0]["RouteTableId"] if main_table else ""
        return {
            **inputs,
            "arn": ec2_arn(ctx, vpc["OwnerId"], "vpc", vpc_id),
            "cidrBlock": vpc["CidrBlock"],
            "instanceTenancy": vpc.get("InstanceTenancy", "default"),
            "enableDnsSupport": attribute("enableDnsSupport"),
            "enableDnsHostnames": attribute("enableDnsHostnames"),
            "defaultSecurityGroupId": default_group[0]["GroupId"] if default_group else "",
            "mainRouteTableId": main_table_id,
            "defaultRouteTableId": main_table_id,
            "defaultNetworkAclId": default_acl[0]["NetworkAclId"] if default_acl else "",
            "dhcpOptionsId": vpc.get("DhcpOptionsId", ""),
            "ownerId": vpc["OwnerId"],
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


class SubnetEmulator(_TaggedEc2Emulator):
    """aws:ec2/subnet:Subnet."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {
            "VpcId": inputs["vpcId"],
            "CidrBlock": inputs["cidrBlock"],
            "TagSpecifications": tag_specifications("subnet", tags_of(inputs)),
        }
        if inputs.get("availabilityZone"):
            params["AvailabilityZone"] = inputs["availabilityZone"]
        elif inputs.get("availabilityZoneId"):
            params["AvailabilityZoneId"] = inputs["availabilityZoneId"]
        subnet = ctx.aws("ec2").create_subnet(**params)["Subnet"]
        self._attributes(subnet["SubnetId"], inputs, ctx)
        return subnet["SubnetId"], self._state(subnet["SubnetId"], inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        self._attributes(resource_id, inputs, ctx)
        sync_ec2_tags(ctx, resource_id, tags_of(old), tags_of(inputs))
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return _describe_one(ctx, "describe_subnets", "Subnets", SubnetIds=[resource_id]) is not None

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        _refuse_while_in_use(ctx, "subnet-id", resource_id, f"subnet {resource_id}")
        ignore_not_found(ctx.aws("ec2").delete_subnet, SubnetId=resource_id)

    @staticmethod
    def _attributes(subnet_id: str, inputs: dict[str, Any], ctx: EmulationContext) -> None:
        if inputs.get("mapPublicIpOnLaunch") is not None:
            ctx.aws("ec2").modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": bool(inputs["mapPublicIpOnLaunch"])})

    @staticmethod
    def _state(subnet_id: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        subnet = ctx.aws("ec2").describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]
        return {
            **inputs,
            "arn": subnet.get("SubnetArn") or ec2_arn(ctx, subnet["OwnerId"], "subnet", subnet_id),
            "vpcId": subnet["VpcId"],
            "cidrBlock": subnet["CidrBlock"],
            "availabilityZone": subnet["AvailabilityZone"],
            "availabilityZoneId": subnet.get("AvailabilityZoneId", ""),
            "mapPublicIpOnLaunch": bool(subnet.get("MapPublicIpOnLaunch", False)),
            "assignIpv6AddressOnCreation": bool(subnet.get("AssignIpv6AddressOnCreation", False)),
            "ownerId": subnet["OwnerId"],
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


class InternetGatewayEmulator(_TaggedEc2Emulator):
    """aws:ec2/internetGateway:InternetGateway: created, then attached to ``vpcId`` when given."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        ec2 = ctx.aws("ec2")
        gateway = ec2.create_internet_gateway(TagSpecifications=tag_specifications("internet-gateway", tags_of(inputs)))["InternetGateway"]
        gateway_id = gateway["InternetGatewayId"]
        if inputs.get("vpcId"):
            ec2.attach_internet_gateway(InternetGatewayId=gateway_id, VpcId=inputs["vpcId"])
        return gateway_id, self._state(gateway_id, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        ec2 = ctx.aws("ec2")
        if inputs.get("vpcId") != old.get("vpcId"):
            self._detach_all(resource_id, ctx)
            if inputs.get("vpcId"):
                ec2.attach_internet_gateway(InternetGatewayId=resource_id, VpcId=inputs["vpcId"])
        sync_ec2_tags(ctx, resource_id, tags_of(old), tags_of(inputs))
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return self._describe(resource_id, ctx) is not None

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        if self._describe(resource_id, ctx) is None:
            return
        self._detach_all(resource_id, ctx)
        ignore_not_found(ctx.aws("ec2").delete_internet_gateway, InternetGatewayId=resource_id)

    @staticmethod
    def _describe(gateway_id: str, ctx: EmulationContext) -> dict[str, Any] | None:
        return _describe_one(ctx, "describe_internet_gateways", "InternetGateways", InternetGatewayIds=[gateway_id])

    def _detach_all(self, gateway_id: str, ctx: EmulationContext) -> None:
        gateway = self._describe(gateway_id, ctx) or {}
        for attachment in gateway.get("Attachments", []):
            ignore_not_found(ctx.aws("ec2").detach_internet_gateway, InternetGatewayId=gateway_id, VpcId=attachment["VpcId"])

    def _state(self, gateway_id: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        gateway = self._describe(gateway_id, ctx) or {}
        owner = gateway.get("OwnerId") or account_id(ctx)
        attachments = gateway.get("Attachments", [])
        return {
            **inputs,
            "arn": ec2_arn(ctx, owner, "internet-gateway", gateway_id),
            "ownerId": owner,
            "vpcId": attachments[0]["VpcId"] if attachments else inputs.get("vpcId"),
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


class EipEmulator(_TaggedEc2Emulator):
    """aws:ec2/eip:Eip: an elastic IP in the VPC domain; its id is the allocation id."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"Domain": inputs.get("domain") or "vpc", "TagSpecifications": tag_specifications("elastic-ip", tags_of(inputs))}
        allocation = ctx.aws("ec2").allocate_address(**params)
        return allocation["AllocationId"], self._state(allocation["AllocationId"], inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        sync_ec2_tags(ctx, resource_id, tags_of(old), tags_of(inputs))
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return self._describe(resource_id, ctx) is not None

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        address = self._describe(resource_id, ctx)
        if address is None:
            return
        if address.get("AssociationId"):
            ignore_not_found(ctx.aws("ec2").disassociate_address, AssociationId=address["AssociationId"])
        ignore_not_found(ctx.aws("ec2").release_address, AllocationId=resource_id)

    @staticmethod
    def _describe(allocation_id: str, ctx: EmulationContext) -> dict[str, Any] | None:
        return _describe_one(ctx, "describe_addresses", "Addresses", AllocationIds=[allocation_id])

    def _state(self, allocation_id: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        address = self._describe(allocation_id, ctx) or {}
        public_ip = address.get("PublicIp", "")
        owner = account_id(ctx)
        return {
            **inputs,
            "allocationId": allocation_id,
            "arn": ec2_arn(ctx, owner, "elastic-ip", allocation_id),
            "domain": address.get("Domain", "vpc"),
            "publicIp": public_ip,
            "publicDns": f"ec2-{public_ip.replace('.', '-')}.{ctx.region}.compute.amazonaws.com" if public_ip else "",
            "associationId": address.get("AssociationId", ""),
            "networkInterface": address.get("NetworkInterfaceId", ""),
            "privateIp": address.get("PrivateIpAddress", ""),
            "publicIpv4Pool": address.get("PublicIpv4Pool", "amazon"),
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


class NatGatewayEmulator(_TaggedEc2Emulator):
    """aws:ec2/natGateway:NatGateway. Deleted NAT gateways linger in moto as 'deleted', as on AWS."""

    _GONE = ("deleted", "deleting", "failed")

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {
            "SubnetId": inputs["subnetId"],
            "ConnectivityType": inputs.get("connectivityType") or "public",
            "TagSpecifications": tag_specifications("natgateway", tags_of(inputs)),
        }
        if inputs.get("allocationId"):
            params["AllocationId"] = inputs["allocationId"]
        gateway = ctx.aws("ec2").create_nat_gateway(**params)["NatGateway"]
        gateway_id = gateway["NatGatewayId"]
        wait_for(ctx.aws("ec2"), "nat_gateway_available", NatGatewayIds=[gateway_id])
        return gateway_id, self._state(gateway_id, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        sync_ec2_tags(ctx, resource_id, tags_of(old), tags_of(inputs))
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        gateway = self._describe(resource_id, ctx)
        return gateway is not None and gateway.get("State") not in self._GONE

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        if not self.exists(resource_id, state, ctx):
            return
        gateway = self._describe(resource_id, ctx) or {}
        ignore_not_found(ctx.aws("ec2").delete_nat_gateway, NatGatewayId=resource_id)
        wait_for(ctx.aws("ec2"), "nat_gateway_deleted", NatGatewayIds=[resource_id])
        # AWS releases the gateway's network interface with it, and disassociates its Elastic IP (which a
        # replacement gateway then takes); moto keeps both, which would block the subnet and the address.
        for address in gateway.get("NatGatewayAddresses", []):
            if address.get("AllocationId"):
                found = ctx.aws("ec2").describe_addresses(AllocationIds=[address["AllocationId"]]).get("Addresses", [])
                for eip in found:
                    if eip.get("AssociationId"):
                        ignore_not_found(ctx.aws("ec2").disassociate_address, AssociationId=eip["AssociationId"])
            if address.get("NetworkInterfaceId"):
                ignore_not_found(ctx.aws("ec2").delete_network_interface, NetworkInterfaceId=address["NetworkInterfaceId"])

    @staticmethod
    def _describe(gateway_id: str, ctx: EmulationContext) -> dict[str, Any] | None:
        return _describe_one(ctx, "describe_nat_gateways", "NatGateways", NatGatewayIds=[gateway_id])

    def _state(self, gateway_id: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        gateway = self._describe(gateway_id, ctx) or {}
        address = _first(gateway.get("NatGatewayAddresses", [])) or {}
        return {
            **inputs,
            "allocationId": address.get("AllocationId", inputs.get("allocationId")),
            "associationId": address.get("AssociationId", ""),
            "networkInterfaceId": address.get("NetworkInterfaceId", ""),
            "privateIp": address.get("PrivateIp", ""),
            "publicIp": address.get("PublicIp", ""),
            "subnetId": gateway.get("SubnetId", inputs.get("subnetId")),
            "vpcId": gateway.get("VpcId", ""),
            "connectivityType": gateway.get("ConnectivityType") or inputs.get("connectivityType") or "public",
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


_ROUTE_TARGETS = {
    "gatewayId": "GatewayId",
    "natGatewayId": "NatGatewayId",
    "networkInterfaceId": "NetworkInterfaceId",
    "transitGatewayId": "TransitGatewayId",
    "vpcPeeringConnectionId": "VpcPeeringConnectionId",
    "vpcEndpointId": "VpcEndpointId",
    "egressOnlyGatewayId": "EgressOnlyInternetGatewayId",
    "carrierGatewayId": "CarrierGatewayId",
    "localGatewayId": "LocalGatewayId",
}
_ROUTE_DESTINATIONS = {
    "destinationCidrBlock": "DestinationCidrBlock",
    "destinationIpv6CidrBlock": "DestinationIpv6CidrBlock",
    "destinationPrefixListId": "DestinationPrefixListId",
}


def _route_params(route: dict[str, Any], destinations: dict[str, str]) -> dict[str, Any]:
    """boto3 route parameters (destination and target) from Pulumi route inputs."""
    params = {api: route[key] for key, api in destinations.items() if route.get(key)}
    params.update({api: route[key] for key, api in _ROUTE_TARGETS.items() if route.get(key)})
    return params


class RouteTableEmulator(_TaggedEc2Emulator):
    """aws:ec2/routeTable:RouteTable, with any inline ``routes`` created in it."""

    _INLINE_DESTINATIONS = {
        "cidrBlock": "DestinationCidrBlock",
        "ipv6CidrBlock": "DestinationIpv6CidrBlock",
        "destinationPrefixListId": "DestinationPrefixListId",
    }

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        ec2 = ctx.aws("ec2")
        table = ec2.create_route_table(VpcId=inputs["vpcId"], TagSpecifications=tag_specifications("route-table", tags_of(inputs)))["RouteTable"]
        table_id = table["RouteTableId"]
        for route in inputs.get("routes") or []:
            ec2.create_route(RouteTableId=table_id, **_route_params(route, self._INLINE_DESTINATIONS))
        return table_id, self._state(table_id, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        if "routes" in inputs and inputs.get("routes") != old.get("routes"):
            ec2 = ctx.aws("ec2")
            for route in old.get("routes") or []:
                params = _route_params(route, self._INLINE_DESTINATIONS)
                destination = {k: v for k, v in params.items() if k.startswith("Destination")}
                ignore_not_found(ec2.delete_route, RouteTableId=resource_id, **destination)
            for route in inputs.get("routes") or []:
                ec2.create_route(RouteTableId=resource_id, **_route_params(route, self._INLINE_DESTINATIONS))
        sync_ec2_tags(ctx, resource_id, tags_of(old), tags_of(inputs))
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return _describe_one(ctx, "describe_route_tables", "RouteTables", RouteTableIds=[resource_id]) is not None

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        ignore_not_found(ctx.aws("ec2").delete_route_table, RouteTableId=resource_id)

    @staticmethod
    def _state(table_id: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        table = ctx.aws("ec2").describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
        return {
            **inputs,
            "arn": ec2_arn(ctx, table["OwnerId"], "route-table", table_id),
            "ownerId": table["OwnerId"],
            "vpcId": table["VpcId"],
            "routes": list(inputs.get("routes") or []),
            "propagatingVgws": list(inputs.get("propagatingVgws") or []),
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


def _table_is_ours(table_id: str, ctx: EmulationContext) -> bool:
    """Whether the route table carries this deployment's id (what untagged routes and associations are proven by)."""
    from provisioner.recipe_api import TAG_DEPLOYMENT

    table = _describe_one(ctx, "describe_route_tables", "RouteTables", RouteTableIds=[table_id]) if table_id else None
    tags = {tag["Key"]: tag["Value"] for tag in (table or {}).get("Tags", [])}
    return bool(ctx.deployment_id) and tags.get(TAG_DEPLOYMENT) == ctx.deployment_id


class RouteEmulator(Emulator):
    """aws:ec2/route:Route. Its id is the provider's: ``r-<route table id><crc32 of the destination>``."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        ctx.aws("ec2").create_route(RouteTableId=inputs["routeTableId"], **_route_params(inputs, _ROUTE_DESTINATIONS))
        return self.route_id(inputs), self._state(inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        ctx.aws("ec2").replace_route(RouteTableId=inputs["routeTableId"], **_route_params(inputs, _ROUTE_DESTINATIONS))
        return self._state(inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return self._find(state, ctx) is not None

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        if self._find(state, ctx) is None:
            return
        params = _route_params(state, _ROUTE_DESTINATIONS)
        destination = {k: v for k, v in params.items() if k.startswith("Destination")}
        ignore_not_found(ctx.aws("ec2").delete_route, RouteTableId=state["routeTableId"], **destination)

    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        """A route takes no tags: it is ours when it sits in a route table carrying this deployment's id."""
        if not _table_is_ours(str(inputs.get("routeTableId", "")), ctx) or self._find(inputs, ctx) is None:
            return None
        return self.route_id(inputs)

    @staticmethod
    def destination(inputs: dict[str, Any]) -> str:
        """The route's destination (IPv4 CIDR, IPv6 CIDR or prefix list)."""
        return str(next((inputs[key] for key in _ROUTE_DESTINATIONS if inputs.get(key)), ""))

    @classmethod
    def route_id(cls, inputs: dict[str, Any]) -> str:
        """The id the AWS provider gives a route."""
        return f"r-{inputs['routeTableId']}{zlib.crc32(cls.destination(inputs).encode())}"

    @classmethod
    def _find(cls, state: dict[str, Any], ctx: EmulationContext) -> dict[str, Any] | None:
        table = _describe_one(ctx, "describe_route_tables", "RouteTables", RouteTableIds=[state["routeTableId"]])
        if table is None:
            return None
        wanted = cls.destination(state)
        for route in table.get("Routes", []):
            if wanted in (route.get("DestinationCidrBlock"), route.get("DestinationIpv6CidrBlock"), route.get("DestinationPrefixListId")):
                return route
        return None

    def _state(self, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        route = self._find(inputs, ctx) or {}
        return {
            **inputs,
            "origin": route.get("Origin", "CreateRoute"),
            "state": route.get("State", "active"),
            "region": ctx.region,
        }


class RouteTableAssociationEmulator(Emulator):
    """aws:ec2/routeTableAssociation:RouteTableAssociation; its id is the association id.

    Lookups go by subnet (or gateway), so an association replaced by an update is still found."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"RouteTableId": inputs["routeTableId"]}
        if inputs.get("subnetId"):
            params["SubnetId"] = inputs["subnetId"]
        if inputs.get("gatewayId"):
            params["GatewayId"] = inputs["gatewayId"]
        association_id = ctx.aws("ec2").associate_route_table(**params)["AssociationId"]
        return association_id, {**inputs, "region": ctx.region}

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        current = self._find(old, ctx)
        if current is not None and current["RouteTableId"] != inputs["routeTableId"]:
            ctx.aws("ec2").replace_route_table_association(
                AssociationId=current["RouteTableAssociationId"], RouteTableId=inputs["routeTableId"]
            )
        return {**inputs, "region": ctx.region}

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return self._find(state, ctx) is not None

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        current = self._find(state, ctx)
        if current is not None:
            ignore_not_found(ctx.aws("ec2").disassociate_route_table, AssociationId=current["RouteTableAssociationId"])

    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        """An association takes no tags: it is ours when it links the subnet to a route table of this deployment."""
        current = self._find(inputs, ctx)
        if current is None or current.get("RouteTableId") != inputs.get("routeTableId"):
            return None
        return str(current["RouteTableAssociationId"]) if _table_is_ours(str(inputs["routeTableId"]), ctx) else None

    @staticmethod
    def _find(state: dict[str, Any], ctx: EmulationContext) -> dict[str, Any] | None:
        """The association of the state's subnet (or gateway) with any route table."""
        if state.get("subnetId"):
            key, value = "SubnetId", state["subnetId"]
        else:
            key, value = "GatewayId", state.get("gatewayId")
        filter_name = "association.subnet-id" if key == "SubnetId" else "association.gateway-id"
        tables = ctx.aws("ec2").describe_route_tables(Filters=[{"Name": filter_name, "Values": [str(value)]}])["RouteTables"]
        for table in tables:
            for association in table.get("Associations", []):
                if association.get(key) == value:
                    return association
        return None


def _protocol(value: Any) -> str:
    protocol = str(value if value is not None else "-1").lower()
    return "-1" if protocol in ("all", "-1") else protocol


def _ip_permissions(rules: list[dict[str, Any]], group_id: str) -> list[dict[str, Any]]:
    """EC2 IpPermissions from Pulumi's inline ingress/egress rules."""
    permissions = []
    for rule in rules:
        permission: dict[str, Any] = {"IpProtocol": _protocol(rule.get("protocol"))}
        if permission["IpProtocol"] != "-1":
            permission["FromPort"] = int(rule.get("fromPort", 0))
            permission["ToPort"] = int(rule.get("toPort", 0))
        description = {"Description": rule["description"]} if rule.get("description") else {}
        if rule.get("cidrBlocks"):
            permission["IpRanges"] = [{"CidrIp": cidr, **description} for cidr in rule["cidrBlocks"]]
        if rule.get("ipv6CidrBlocks"):
            permission["Ipv6Ranges"] = [{"CidrIpv6": cidr, **description} for cidr in rule["ipv6CidrBlocks"]]
        groups = list(rule.get("securityGroups") or []) + ([group_id] if rule.get("self") else [])
        if groups:
            permission["UserIdGroupPairs"] = [{"GroupId": group, **description} for group in groups]
        if rule.get("prefixListIds"):
            permission["PrefixListIds"] = [{"PrefixListId": pl, **description} for pl in rule["prefixListIds"]]
        permissions.append(permission)
    return permissions


def _strip_permission(permission: dict[str, Any]) -> dict[str, Any]:
    """A described permission reduced to what authorize/revoke accept."""
    keep = ("IpProtocol", "FromPort", "ToPort", "IpRanges", "Ipv6Ranges", "UserIdGroupPairs", "PrefixListIds")
    stripped = {key: permission[key] for key in keep if permission.get(key) not in (None, [])}
    if "UserIdGroupPairs" in stripped:
        stripped["UserIdGroupPairs"] = [{"GroupId": pair["GroupId"]} for pair in stripped["UserIdGroupPairs"]]
    return stripped


class SecurityGroupEmulator(_TaggedEc2Emulator):
    """aws:ec2/securityGroup:SecurityGroup. Like the provider, the default allow-all egress is removed
    and exactly the given ingress/egress rules are applied."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        group_name = ctx.physical_name(name, inputs, limit=255)
        params: dict[str, Any] = {
            "GroupName": group_name,
            "Description": inputs.get("description") or "Managed by Pulumi",
            "TagSpecifications": tag_specifications("security-group", tags_of(inputs)),
        }
        if inputs.get("vpcId"):
            params["VpcId"] = inputs["vpcId"]
        group_id = ctx.aws("ec2").create_security_group(**params)["GroupId"]
        self._apply_rules(group_id, inputs, ctx, creating=True)
        return group_id, self._state(group_id, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        self._apply_rules(resource_id, inputs, ctx)
        sync_ec2_tags(ctx, resource_id, tags_of(old), tags_of(inputs))
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return self._describe(resource_id, ctx) is not None

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        if self._describe(resource_id, ctx) is None:
            return
        if state.get("revokeRulesOnDelete"):
            self._revoke_all(resource_id, ctx)
        ignore_not_found(ctx.aws("ec2").delete_security_group, GroupId=resource_id)

    @staticmethod
    def _describe(group_id: str, ctx: EmulationContext) -> dict[str, Any] | None:
        return _describe_one(ctx, "describe_security_groups", "SecurityGroups", GroupIds=[group_id])

    def _revoke_all(self, group_id: str, ctx: EmulationContext, *, ingress: bool = True, egress: bool = True) -> None:
        ec2 = ctx.aws("ec2")
        group = self._describe(group_id, ctx) or {}
        inbound = [_strip_permission(p) for p in group.get("IpPermissions", [])] if ingress else []
        outbound = [_strip_permission(p) for p in group.get("IpPermissionsEgress", [])] if egress else []
        if inbound:
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=inbound)
        if outbound:
            ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=outbound)

    def _apply_rules(self, group_id: str, inputs: dict[str, Any], ctx: EmulationContext, *, creating: bool = False) -> None:
        # As the provider: a new group loses AWS's default allow-all egress; after that, a direction given
        # inline is managed exactly, and one left out is left to rule resources.
        ec2 = ctx.aws("ec2")
        self._revoke_all(group_id, ctx, ingress="ingress" in inputs, egress=creating or "egress" in inputs)
        ingress = _ip_permissions(list(inputs.get("ingress") or []), group_id)
        egress = _ip_permissions(list(inputs.get("egress") or []), group_id)
        if ingress:
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=ingress)
        if egress:
            try:
                ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=egress)
            except Exception as exc:
                if error_code(exc) != "InvalidPermission.Duplicate":
                    raise

    def _state(self, group_id: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        group = self._describe(group_id, ctx) or {}
        owner = group.get("OwnerId", "")
        return {
            **inputs,
            "arn": ec2_arn(ctx, owner, "security-group", group_id),
            "name": group.get("GroupName", inputs.get("name")),
            "description": group.get("Description", inputs.get("description")),
            "vpcId": group.get("VpcId", inputs.get("vpcId")),
            "ownerId": owner,
            "ingress": list(inputs.get("ingress") or []),
            "egress": list(inputs.get("egress") or []),
            "revokeRulesOnDelete": bool(inputs.get("revokeRulesOnDelete", False)),
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


class SecurityGroupIngressRuleEmulator(Emulator):
    """aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule: one inbound rule of a security group, by its rule id."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        permission: dict[str, Any] = {"IpProtocol": str(inputs["ipProtocol"])}
        if inputs.get("fromPort") is not None:
            permission["FromPort"], permission["ToPort"] = int(inputs["fromPort"]), int(inputs["toPort"])
        if inputs.get("referencedSecurityGroupId"):
            permission["UserIdGroupPairs"] = [{"GroupId": inputs["referencedSecurityGroupId"]}]
        elif inputs.get("cidrIpv4"):
            permission["IpRanges"] = [{"CidrIp": inputs["cidrIpv4"]}]
        else:
            raise ValueError("a security group rule needs one source: referencedSecurityGroupId or cidrIpv4")
        created = ctx.aws("ec2").authorize_security_group_ingress(GroupId=inputs["securityGroupId"], IpPermissions=[permission])
        rule_id = created["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        return rule_id, {**inputs, "securityGroupRuleId": rule_id, "arn": ec2_arn(ctx, FAKE_ACCOUNT_ID, "security-group-rule", rule_id)}

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        return {**old, **inputs}  # every field that matters forces a replacement (see replace_on_change.yaml)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        found = ctx.aws("ec2").describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [state["securityGroupId"]]}])
        return any(rule["SecurityGroupRuleId"] == resource_id for rule in found.get("SecurityGroupRules", []))

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        if self.exists(resource_id, state, ctx):
            ctx.aws("ec2").revoke_security_group_ingress(GroupId=state["securityGroupId"], SecurityGroupRuleIds=[resource_id])


HANDLERS: dict[str, Emulator] = {
    "aws:ec2/vpc:Vpc": VpcEmulator(),
    "aws:ec2/subnet:Subnet": SubnetEmulator(),
    "aws:ec2/internetGateway:InternetGateway": InternetGatewayEmulator(),
    "aws:ec2/eip:Eip": EipEmulator(),
    "aws:ec2/natGateway:NatGateway": NatGatewayEmulator(),
    "aws:ec2/routeTable:RouteTable": RouteTableEmulator(),
    "aws:ec2/route:Route": RouteEmulator(),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": RouteTableAssociationEmulator(),
    "aws:ec2/securityGroup:SecurityGroup": SecurityGroupEmulator(),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": SecurityGroupIngressRuleEmulator(),
}

