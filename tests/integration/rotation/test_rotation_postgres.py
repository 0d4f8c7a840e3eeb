"""PostgreSQL rotation against a real server: each step, the whole rotation twice, reruns,
TLS, alternating users; the function runs in-process behind moto's Secrets Manager."""

import uuid

from opswire_local.platform import LocalPlatform
from tests.integration.rotation.support import (
    PostgresServer,
    begin_rotation,
    create_secret,
    function_arn,
    invoke_step,
    labels,
    rotate,
    value,
)

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def _role() -> str:
    return f"app_{uuid.uuid4().hex[:8]}"


def test_each_step_and_every_rerun_of_a_single_user_rotation(
    platform: LocalPlatform, postgres: PostgresServer
) -> None:
    user, old_password = _role(), uuid.uuid4().hex
    postgres.create_role(user, old_password)
    arn = create_secret(user, postgres.secret(user, old_password))
    function = function_arn(platform, "DatabaseRotationFunction")
    old_version = next(iter(labels(arn)))
    token = begin_rotation(arn, function)

    created = invoke_step(function, "createSecret", arn, token)
    assert created["action"] == "stored the new value as AWSPENDING", created
    pending = value(arn, "AWSPENDING")
    assert pending["password"] != old_password and pending["username"] == user
    assert invoke_step(function, "createSecret", arn, token)["action"].startswith("nothing to do")
    assert value(arn, "AWSPENDING") == pending  # the rerun did not make another password

    assert postgres.logs_in(user, old_password) and not postgres.logs_in(user, pending["password"])
    set_ = invoke_step(function, "setSecret", arn, token)
    assert "changed its password" in set_["action"], set_
    assert postgres.logs_in(user, pending["password"])
    assert not postgres.logs_in(user, old_password)
    assert "already logs in" in invoke_step(function, "setSecret", arn, token)["action"]

    for _ in range(2):
        tested = invoke_step(function, "testSecret", arn, token)
        assert "logged in with the new password" in tested["action"], tested
    # testing changes nothing: the labels are still those of a rotation in progress
    assert labels(arn) == {old_version: ["AWSCURRENT"], token: ["AWSPENDING"]}

    finished = invoke_step(function, "finishSecret", arn, token)
    assert "moved AWSCURRENT" in finished["action"]
    after = labels(arn)
    assert after == {token: ["AWSCURRENT"], old_version: ["AWSPREVIOUS"]}
    assert value(arn)["password"] == pending["password"]
    again = invoke_step(function, "finishSecret", arn, token)
    assert "already AWSCURRENT" in again["action"]
    assert labels(arn) == after
    for step in ("createSecret", "setSecret", "testSecret"):
        assert invoke_step(function, step, arn, token)["action"].startswith("nothing to do")
    assert labels(arn) == after and value(arn)["password"] == pending["password"]
    assert postgres.logs_in(user, pending["password"])


def test_the_whole_rotation_twice_in_a_row(
    platform: LocalPlatform, postgres: PostgresServer
) -> None:
    user, first = _role(), uuid.uuid4().hex
    postgres.create_role(user, first)
    arn = create_secret(user, postgres.secret(user, first))
    function = function_arn(platform, "DatabaseRotationFunction")
    passwords = [first]

    rotate(arn, function)  # configures rotation and rotates at once, like AWS
    passwords.append(value(arn)["password"])
    rotate(arn)
    passwords.append(value(arn)["password"])

    assert len(set(passwords)) == 3
    assert postgres.logs_in(user, passwords[2])
    assert not postgres.logs_in(user, passwords[1])
    assert not postgres.logs_in(user, passwords[0])
    stages = labels(arn)
    assert sorted(stages.values()) == [["AWSCURRENT"], ["AWSPREVIOUS"]]
    assert value(arn, "AWSPREVIOUS")["password"] == passwords[1]
    assert value(arn, "AWSCURRENT")["password"] == passwords[2]


def test_an_interrupted_rotation_recovers_with_the_previous_password(
    platform: LocalPlatform, postgres: PostgresServer
) -> None:
    """AWSCURRENT moved but the database still has the password of AWSPREVIOUS (e.g. someone
    restored it): setSecret logs in with the previous password instead."""
    user, password = _role(), uuid.uuid4().hex
    postgres.create_role(user, password)
    arn = create_secret(user, postgres.secret(user, password))
    function = function_arn(platform, "DatabaseRotationFunction")
    rotate(arn, function)
    from pg8000.native import identifier, literal

    postgres.admin(f"ALTER ROLE {identifier(user)} PASSWORD {literal(password)}")
    token = begin_rotation(arn, function)
    for step in STEPS:
        assert "error" not in invoke_step(function, step, arn, token)
    assert "AWSPREVIOUS" in str(labels(arn))
    assert postgres.logs_in(user, value(arn)["password"])
    assert not postgres.logs_in(user, password)


def test_ssl_true_connects_over_tls_with_a_verified_certificate(
    platform: LocalPlatform, postgres: PostgresServer
) -> None:
    """The role tls_only is rejected without TLS (pg_hba hostnossl ... reject)."""
    postgres.admin("DROP ROLE IF EXISTS tls_only")
    password = uuid.uuid4().hex
    postgres.create_role("tls_only", password)
    assert not postgres.logs_in("tls_only", password)  # plain TCP is refused
    arn = create_secret(
        "tls-only",
        postgres.secret("tls_only", password, ssl=True, ssl_ca_bundle=str(postgres.ca_file)),
    )
    function = function_arn(platform, "DatabaseRotationFunction")
    token = begin_rotation(arn, function)
    results = [invoke_step(function, step, arn, token) for step in STEPS]
    assert all("error" not in r for r in results), results
    assert "over TLS" in results[2]["action"]
    assert postgres.logs_in("tls_only", value(arn)["password"], ssl=True)

    # Without the CA, the certificate cannot be verified: the rotation fails before any change.
    arn2 = create_secret("tls-unverified", postgres.secret("tls_only", value(arn)["password"],
                                                           ssl=True))  # fmt: skip
    token2 = begin_rotation(arn2, function)
    assert "error" not in invoke_step(function, "createSecret", arn2, token2)
    failed = invoke_step(function, "setSecret", arn2, token2)
    assert failed["error"]["errorType"] == "DatabaseUnavailableError"
    assert postgres.logs_in("tls_only", value(arn)["password"], ssl=True)


def test_alternating_users_twice(platform: LocalPlatform, postgres: PostgresServer) -> None:
    user, password = _role(), uuid.uuid4().hex
    master, master_password = _role(), uuid.uuid4().hex
    postgres.create_role(master, master_password, "CREATEROLE")
    postgres.create_role(user, password)
    postgres.admin(f"GRANT {user} TO {master} WITH ADMIN OPTION")
    master_arn = create_secret(f"{master}-master", postgres.secret(master, master_password))
    arn = create_secret(
        user, postgres.secret(user, password, kind="postgres-alternating", masterarn=master_arn)
    )
    function = function_arn(platform, "DatabaseRotationFunction")

    rotate(arn, function)
    first = value(arn)
    assert first["username"] == f"{user}_clone"
    assert postgres.logs_in(f"{user}_clone", first["password"])
    assert postgres.logs_in(user, password)  # the other user keeps working until next time
    member = postgres.admin(
        f"SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        f"JOIN pg_roles c ON c.oid = m.member WHERE r.rolname = '{user}' "
        f"AND c.rolname = '{user}_clone'"
    )
    assert member == [[1]]

    rotate(arn)
    second = value(arn)
    assert second["username"] == user and second["password"] != password
    assert postgres.logs_in(user, second["password"])
    assert not postgres.logs_in(user, password)
    assert postgres.logs_in(f"{user}_clone", first["password"])
    assert value(arn, "AWSPREVIOUS")["username"] == f"{user}_clone"


def test_no_password_reaches_the_server_log(postgres: PostgresServer) -> None:
    """Runs last in this module: every statement of the tests above was logged."""
    log = postgres.log_file.read_text(errors="replace")
    assert "ALTER ROLE" in log and "SCRAM-SHA-256$" in log
    assert "PASSWORD '" in log
    for line in log.splitlines():
        if "ALTER ROLE" in line and "PASSWORD" in line and "opswire-rotation" in line:
            assert "SCRAM-SHA-256$" in line
