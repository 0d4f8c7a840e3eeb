"""Secrets in a spec: the rotation kind is an enum and picks the stack's function of that kind,
a rotated secret is named under the rotation prefix, value_from is checked for its kind, and
an unsupported key gets one precise line."""

import json

import pytest

from opswire.core.errors import SpecValidationError
from opswire.provisioning.resources import Context, expand
from opswire.provisioning.spec import parse_spec, supplied_secret_json

GENERIC_FN = "arn:aws:lambda:eu-west-1:123456789012:function:stack-SecretRotation"
DATABASE_FN = "arn:aws:lambda:eu-west-1:123456789012:function:stack-DatabaseRotation"
CTX = Context(
    account="123456789012",
    region="eu-west-1",
    rotation_function_arn=GENERIC_FN,
    database_rotation_function_arn=DATABASE_FN,
    rotated_secret_prefix="opswire/rotated/",
    managed_by="stack",
)


def problems(data: object) -> list[str]:
    with pytest.raises(SpecValidationError) as caught:
        parse_spec(data)
    return caught.value.problems


def expand_problems(secret: dict[str, object], ctx: Context = CTX) -> list[str]:
    with pytest.raises(SpecValidationError) as caught:
        expand(parse_spec({"name": "demo", "secrets": [secret]}), ctx)
    return caught.value.problems


def test_a_rotation_kind_typo_is_one_line_with_its_path() -> None:
    assert problems(
        {"name": "demo", "secrets": [{"name": "opswire/rotated/db", "rotation_kind": "postgress"}]}
    ) == [
        "secrets[opswire/rotated/db].rotation_kind: Input should be 'generic', 'api-key', "
        "'postgres', 'postgres-alternating' or 'iam-access-key'"
    ]


@pytest.mark.parametrize(
    ("kind", "function"),
    [
        ("generic", GENERIC_FN),
        ("api-key", GENERIC_FN),
        ("iam-access-key", GENERIC_FN),
        ("postgres", DATABASE_FN),
        ("postgres-alternating", DATABASE_FN),
    ],
)
def test_the_kind_picks_the_stacks_function_of_that_kind(kind: str, function: str) -> None:
    secret: dict[str, object] = {
        "name": f"opswire/rotated/{kind}", "rotation_kind": kind, "rotation_days": 30,
    }  # fmt: skip
    if kind in ("postgres", "postgres-alternating", "iam-access-key"):
        secret["value_from"] = {"env": "DB_SECRET"}
    (resource,) = expand(parse_spec({"name": "demo", "secrets": [secret]}), CTX)
    assert resource.desired["rotation_function"] == function
    assert resource.desired["tags"]["opswire:rotation-kind"] == kind


def test_a_rotated_secret_outside_the_prefix_is_refused_at_plan() -> None:
    assert expand_problems({"name": "wired/api-key", "rotation_days": 30}) == [
        "secrets[wired/api-key].name: a rotated secret must be named under the stack's "
        "rotation prefix 'opswire/rotated/', the only secrets its rotation functions may touch "
        "(e.g. 'opswire/rotated/api-key')"
    ]
    # not rotated: any name
    assert expand(parse_spec({"name": "d", "secrets": [{"name": "wired/api-key"}]}), CTX)


def test_a_kind_without_its_function_in_the_stack_is_refused() -> None:
    no_database = Context(account="1", region="eu-west-1", rotation_function_arn=GENERIC_FN)
    found = expand_problems(
        {"name": "opswire/rotated/db", "rotation_kind": "postgres", "rotation_days": 30,
         "value_from": {"file": "db.json"}},
        no_database,
    )  # fmt: skip
    assert found == [
        "secrets[opswire/rotated/db]: rotation_kind postgres needs the stack's rotation "
        "function of that kind (not configured)"
    ]


def test_value_from_rules() -> None:
    assert problems({"name": "d", "secrets": [{"name": "s", "rotation_kind": "postgres"}]}) == [
        "secrets[s]: rotation_kind postgres needs value_from (the first value: where the "
        "database or the key is, docs/rotation.md)"
    ]
    assert problems(
        {"name": "d", "secrets": [{"name": "s", "value_from": {"file": "a", "env": "B"}}]}
    ) == ["secrets[s].value_from: value_from takes exactly one of file, env or stdin: true"]
    assert problems(
        {"name": "d", "secrets": [{"name": "s", "value_from": {"stdin": True},
                                    "generate": {"length": 40}}]}
    ) == ["secrets[s]: a secret takes generate or value_from, not both"]  # fmt: skip
    # the plan shows neither the generator nor where a value comes from
    spec = parse_spec({"name": "d", "secrets": [{"name": "s", "value_from": {"env": "X"}}]})
    (resource,) = expand(spec, CTX)
    assert "generate" not in resource.desired and resource.desired["supplied"] == ""


def test_unsupported_keys_get_one_precise_line() -> None:
    assert problems({"name": "d", "secrets": [{"name": "s", "rotate_days": 30}]}) == [
        "secrets[s]: unsupported key 'rotate_days' (did you mean 'rotation_days'?)"
    ]
    assert problems({"name": "d", "secrets": [{"name": "s", "value_from": {"fil": "x"}}]}) == [
        "secrets[s].value_from: unsupported key 'fil' (did you mean 'file'?)"
    ]
    grant = {"read_bucket": {"bucket": "bbb", "prefx": "a"}}
    spec = {
        "name": "d",
        "buckets": [{"name": "bbb"}],
        "policies": [{"name": "p", "grants": [grant]}],
    }
    assert problems(spec) == [
        "policies[p].grants[0].read_bucket: unsupported key 'prefx' (did you mean 'prefix'?)"
    ]


def test_supplied_values_are_checked_for_their_kind_without_quoting_them() -> None:
    value = "s3cr3t-Value-that-must-not-leak"
    assert json.loads(supplied_secret_json(value + "\n", "api-key", "w")) == {
        "value": value, "kind": "api-key",
    }  # fmt: skip
    database = {"host": "db", "username": "app", "password": value}
    assert json.loads(supplied_secret_json(json.dumps(database), "postgres", "w")) == {
        **database, "kind": "postgres",
    }  # fmt: skip
    for text, kind, expected in (
        (value, "postgres", "w: rotation_kind postgres needs a JSON object (host, username, "
                            "password)"),
        (json.dumps({"host": "db", "password": value}), "postgres",
         "w: the supplied JSON lacks username (rotation_kind postgres)"),
        (json.dumps({**database, "kind": "generic"}), "postgres",
         "w: the supplied JSON says kind 'generic', the spec 'postgres'"),
        ("  ", "generic", "w: the supplied value is empty"),
    ):  # fmt: skip
        with pytest.raises(SpecValidationError) as caught:
            supplied_secret_json(text, kind, "w")
        assert caught.value.problems == [expected]
        assert value not in str(caught.value) and caught.value.__cause__ is None


def test_an_alternating_users_master_secret_must_be_under_the_rotation_prefix() -> None:
    login = {"host": "db", "username": "app", "password": "Pg-" + "7" * 20}
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:"
    for master in (f"{arn}opswire/rotated/db-master-AbCdEf", "opswire/rotated/db-master"):
        text = json.dumps({**login, "masterarn": master})
        converted = supplied_secret_json(text, "postgres-alternating", "w", "opswire/rotated/")
        assert json.loads(converted)["masterarn"] == master
    outside = json.dumps({**login, "masterarn": f"{arn}rds!db-1234-AbCdEf"})
    with pytest.raises(SpecValidationError) as caught:
        supplied_secret_json(outside, "postgres-alternating", "w", "opswire/rotated/")
    assert caught.value.problems == [
        "w: masterarn must name a secret under the stack's rotation prefix 'opswire/rotated/', "
        "the only secrets the rotation function may read"
    ]
    assert login["password"] not in str(caught.value)
    # not rotated (no prefix to respect): any master secret
    assert supplied_secret_json(outside, "postgres-alternating", "w")
