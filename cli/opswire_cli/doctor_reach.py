"""The reachability checks of ``opswire doctor`` (pure, like opswire_cli.doctor_checks): the
OpenSearch endpoint answers, and the database rotation function in a VPC has a way to Secrets
Manager."""

from __future__ import annotations

from opswire_cli.doctor_facts import (
    CheckResult,
    OpenSearchFacts,
    RotationFacts,
    RouteTable,
    result,
    secret_problem,
    unreadable,
)


# ---- 5. OpenSearch -------------------------------------------------------------------------------
def check_opensearch(search: OpenSearchFacts) -> CheckResult:
    name = "opensearch"
    if not search.endpoint:
        return result(
            name,
            "warn",
            "OpenSearchEndpoint is empty: logs go to the dead-letter bucket",
            "deploy with OpenSearchEndpoint=https://..., then opswire logs replay --stack NAME",
        )
    if search.basic_auth_secret is not None:
        problem = secret_problem(name, search.basic_auth_secret, "log shipping cannot log in")
        if problem is not None:
            return problem
    answer = search.answer
    if answer is None or answer.status is None:
        return result(
            name,
            "fail",
            f"{search.endpoint} cannot be reached: " + (answer.error if answer else "not probed"),
            "check the endpoint URL, DNS and that the domain is public (the shipper runs "
            "outside any VPC)",
        )
    status = answer.status
    if status >= 500:
        return result(
            name, "fail", f"{search.endpoint} answers HTTP {status}", "check the domain health"
        )
    if status in (401, 403):
        return _auth_refused(search, status)
    version = ""
    if isinstance(answer.body, dict):
        version = str((answer.body.get("version") or {}).get("number") or "")
    return result(
        name,
        "ok",
        f"{search.endpoint} answers HTTP {status}" + (f" (version {version})" if version else ""),
    )


def _auth_refused(search: OpenSearchFacts, status: int) -> CheckResult:
    if search.auth in ("sigv4", "aoss"):
        # The doctor does not sign: a refusal is what a domain behind IAM answers.
        return result(
            "opensearch",
            "ok",
            f"{search.endpoint} is reachable (HTTP {status} to an unsigned request; the shipper "
            f"signs with {search.auth}; its role's access is not checked here)",
        )
    if search.auth == "basic":
        secret = search.basic_auth_secret.name if search.basic_auth_secret else "?"
        return result(
            "opensearch",
            "warn",
            f"{search.endpoint} refuses the credentials of secret {secret} (HTTP {status})",
            "put the right username/password into the secret, or map the user to a role",
        )
    return result(
        "opensearch",
        "warn",
        f"{search.endpoint} asks for credentials (HTTP {status}) but OpenSearchAuth is "
        f"{search.auth}",
        "deploy with OpenSearchAuth=sigv4 (or aoss / basic) and OpenSearchResourceArn",
    )


# ---- 7. The rotation function in a VPC -----------------------------------------------------------
def subnet_reaches_internet(subnet_id: str, vpc_id: str, tables: list[RouteTable]) -> str:
    """ "nat" (a 0.0.0.0/0 route to an active NAT gateway), "maybe" (to something else that may
    lead out: transit gateway, instance, peering) or "no" (none, an internet gateway — Lambda's
    network interfaces have no public IP — or a blackhole)."""
    explicit = [t for t in tables if subnet_id in t.subnet_ids]
    table = (
        explicit[0]
        if explicit
        else next((t for t in tables if t.main and t.vpc_id == vpc_id), None)
    )
    if table is None:
        return "no"
    targets = [r.target for r in table.default_routes if r.state == "active"]
    if any(t.startswith("nat-") for t in targets):
        return "nat"
    if any(not t.startswith(("igw-", "local")) for t in targets):
        return "maybe"
    return "no"


def check_rotation_network(rotation: RotationFacts | None) -> CheckResult:
    name = "rotation-network"
    if rotation is None:
        return result(name, "warn", "the stack has no DatabaseRotationFunctionArn output")
    if rotation.error:
        return unreadable(name, f"the configuration of {rotation.function}", rotation.error)
    if not rotation.subnet_ids:
        return result(name, "ok", "the database rotation function is not in a VPC")
    vpcs = sorted(set(rotation.subnet_vpcs.values()))
    service = f"com.amazonaws.{rotation.region}.secretsmanager"
    endpoints = [
        e
        for e in rotation.endpoints
        if e.vpc_id in vpcs and e.service_name == service and e.state.lower() == "available"
    ]
    if any(e.private_dns for e in endpoints):
        ids = ", ".join(e.endpoint_id for e in endpoints if e.private_dns)
        return result(name, "ok", f"Secrets Manager VPC endpoint {ids} (private DNS)")
    reach = {
        s: subnet_reaches_internet(s, rotation.subnet_vpcs.get(s, ""), list(rotation.route_tables))
        for s in rotation.subnet_ids
    }
    blocked = sorted(s for s, how in reach.items() if how == "no")
    unsure = sorted(s for s, how in reach.items() if how == "maybe")
    fix = _rotation_fix(rotation, vpcs)
    if endpoints and (blocked or unsure):
        fix = "enable private DNS on " + ", ".join(e.endpoint_id for e in endpoints) + "; " + fix
    if blocked:
        return result(
            name,
            "fail",
            "the rotation function cannot reach Secrets Manager: subnets "
            + ", ".join(blocked)
            + " have no Secrets Manager endpoint and no route to a NAT "
            "gateway",
            fix,
        )
    if unsure:
        return result(
            name,
            "warn",
            "subnets " + ", ".join(unsure) + " send 0.0.0.0/0 to something other than a NAT "
            "gateway: opswire cannot tell whether it reaches Secrets Manager",
            fix,
        )
    return result(name, "ok", "every subnet of the rotation function routes 0.0.0.0/0 to NAT")


def _rotation_fix(rotation: RotationFacts, vpcs: list[str]) -> str:
    vpc = vpcs[0] if vpcs else "VPC_ID"
    return (
        f"aws ec2 create-vpc-endpoint --vpc-id {vpc} --vpc-endpoint-type Interface "
        f"--service-name com.amazonaws.{rotation.region}.secretsmanager --subnet-ids "
        f"{' '.join(rotation.subnet_ids)} --security-group-ids SG_ALLOWING_443 "
        "--private-dns-enabled; or route 0.0.0.0/0 of these subnets to a NAT gateway"
    )
