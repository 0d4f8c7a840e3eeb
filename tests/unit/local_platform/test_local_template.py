"""The local platform's template reader and its pure event-shape helpers."""

import base64
import gzip
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import CloudWatchLogsEvent

from opswire_local.bindings import LogSubscription, Route, Rule
from opswire_local.events import (
    _transform,
    cloudwatch_logs_event,
    http_api_event,
    rule_target_input,
)
from opswire_local.template import (
    ACCOUNT_ID,
    REGION,
    PhysicalResource,
    Resolver,
    Template,
    TemplateError,
    creation_order,
    load_template,
)
from tests.conftest import EVENTS, REPO_ROOT


def write_template(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def resolver_with(**resources: PhysicalResource) -> Resolver:
    resolver = Resolver({"Environment": "dev", "Emails": "a@x.com,b@y.com"}, "opswire-local")
    resolver.resources.update(resources)
    return resolver


# ---- loading short-form tags --------------------------------------------------------------------
def test_short_form_tags_load_as_their_long_forms(tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        """\
        Parameters:
          Emails: {Type: String}
        Resources:
          Topic:
            Type: AWS::SNS::Topic
            Properties:
              TopicName: !Sub "${AWS::StackName}-alarms"
              DisplayName: !Ref Emails
              KmsMasterKeyId: !GetAtt Key.Arn
              Owner: !GetAtt Db.Endpoint.Address
              First: !Select [0, !Split [",", !Ref Emails]]
              Joined: !Join ["-", [a, !Ref Emails]]
              Pair: !Sub ["${X}.${Y}", {X: !Ref Emails, Y: literal}]
        """,
    )

    properties = load_template(path)["Resources"]["Topic"]["Properties"]

    assert properties["TopicName"] == {"Fn::Sub": "${AWS::StackName}-alarms"}
    assert properties["DisplayName"] == {"Ref": "Emails"}
    assert properties["KmsMasterKeyId"] == {"Fn::GetAtt": ["Key", "Arn"]}
    assert properties["Owner"] == {"Fn::GetAtt": ["Db", "Endpoint.Address"]}
    assert properties["First"] == {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "Emails"}]}]}
    assert properties["Joined"] == {"Fn::Join": ["-", ["a", {"Ref": "Emails"}]]}
    assert properties["Pair"] == {
        "Fn::Sub": ["${X}.${Y}", {"X": {"Ref": "Emails"}, "Y": "literal"}]
    }


def test_a_document_without_resources_is_a_template_error(tmp_path: Path) -> None:
    path = write_template(tmp_path, "Parameters: {}\n")
    with pytest.raises(TemplateError, match="no Resources"):
        load_template(path)


# ---- Resolver -----------------------------------------------------------------------------------
def test_ref_resolves_pseudo_parameters_parameters_and_resources() -> None:
    resolver = resolver_with(Topic=PhysicalResource(ref="arn:aws:sns:us-east-1:1:t"))
    assert resolver.resolve({"Ref": "AWS::Region"}) == REGION
    assert resolver.resolve({"Ref": "AWS::AccountId"}) == ACCOUNT_ID
    assert resolver.resolve({"Ref": "AWS::StackName"}) == "opswire-local"
    assert resolver.resolve({"Ref": "Environment"}) == "dev"
    assert resolver.resolve({"Ref": "Topic"}) == "arn:aws:sns:us-east-1:1:t"


def test_get_att_resolves_a_created_resources_attribute() -> None:
    resolver = resolver_with(Fn=PhysicalResource(ref="fn", attributes={"Arn": "arn:fn"}))
    assert resolver.resolve({"Fn::GetAtt": ["Fn", "Arn"]}) == "arn:fn"


def test_sub_resolves_pseudo_parameters_attributes_and_keeps_literals() -> None:
    resolver = resolver_with(
        Queue=PhysicalResource(ref="https://sqs/q", attributes={"Arn": "arn:aws:sqs:q"})
    )
    text = "${AWS::Region}/${Environment}/${Queue}/${Queue.Arn}/${!Literal}/${AWS::Partition}"
    assert resolver.resolve({"Fn::Sub": text}) == (
        f"{REGION}/dev/https://sqs/q/arn:aws:sqs:q/${{Literal}}/aws"
    )


def test_sub_with_a_variable_map_prefers_the_map_and_resolves_its_values() -> None:
    resolver = resolver_with()
    value = {"Fn::Sub": ["${Environment}-${Name}", {"Name": {"Ref": "AWS::AccountId"}}]}
    assert resolver.resolve(value) == f"dev-{ACCOUNT_ID}"
    shadowed = {"Fn::Sub": ["${Environment}", {"Environment": "prod"}]}
    assert resolver.resolve(shadowed) == "prod"


def test_join_select_and_split_compose() -> None:
    resolver = resolver_with()
    assert resolver.resolve({"Fn::Join": [":", ["a", {"Ref": "Environment"}, "c"]]}) == "a:dev:c"
    assert resolver.resolve({"Fn::Split": [",", {"Ref": "Emails"}]}) == ["a@x.com", "b@y.com"]
    select = {"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "Emails"}]}]}
    assert resolver.resolve(select) == "b@y.com"
    assert resolver.resolve({"Fn::Select": ["0", ["x", "y"]]}) == "x"


def test_resolve_walks_nested_structures_and_leaves_plain_values() -> None:
    resolver = resolver_with()
    value = {
        "Variables": {"ENV": {"Ref": "Environment"}, "N": 3, "Flag": True},
        "List": [{"Ref": "AWS::Region"}, "plain"],
    }
    assert resolver.resolve(value) == {
        "Variables": {"ENV": "dev", "N": 3, "Flag": True},
        "List": [REGION, "plain"],
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Ref": "Nowhere"}, "Nowhere"),
        ({"Fn::GetAtt": ["Nowhere", "Arn"]}, "Nowhere.Arn"),
        ({"Fn::GetAtt": ["Known", "Missing"]}, "Known.Missing"),
        ({"Fn::Sub": "${Nowhere}-x"}, "Nowhere"),
        ({"Fn::Sub": "${Nowhere.Arn}"}, "Nowhere.Arn"),
    ],
)
def test_unknown_references_are_template_errors_naming_them(
    value: dict[str, Any], message: str
) -> None:
    resolver = resolver_with(Known=PhysicalResource(ref="k", attributes={"Arn": "arn:k"}))
    with pytest.raises(TemplateError, match=message):
        resolver.resolve(value)


# ---- creation_order -----------------------------------------------------------------------------
def _template(tmp_path: Path, text: str) -> Template:
    return Template.load(write_template(tmp_path, text))


def test_creation_order_puts_dependencies_first(tmp_path: Path) -> None:
    template = _template(
        tmp_path,
        """\
        Resources:
          LogGroup:
            Type: AWS::Logs::LogGroup
            Properties:
              LogGroupName: !Sub /aws/lambda/${Function}
          Function:
            Type: AWS::Serverless::Function
            Properties:
              DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt Queue.Arn}
              Environment:
                Variables:
                  TOPIC: !Ref Topic
                  NAME: !Sub ["${T}", {T: !GetAtt Table.Arn}]
          Alarm:
            Type: AWS::CloudWatch::Alarm
            DependsOn: Function
          Topic: {Type: AWS::SNS::Topic}
          Queue: {Type: AWS::SQS::Queue}
          Table: {Type: AWS::DynamoDB::Table}
        """,
    )

    order = creation_order(template)

    assert sorted(order) == sorted(template.resources)
    for before, after in [
        ("Function", "LogGroup"),
        ("Queue", "Function"),
        ("Topic", "Function"),
        ("Table", "Function"),
        ("Function", "Alarm"),
    ]:
        assert order.index(before) < order.index(after), (before, after, order)


def test_creation_order_ignores_parameters_pseudo_parameters_and_self(tmp_path: Path) -> None:
    template = _template(
        tmp_path,
        """\
        Parameters:
          Environment: {Type: String}
        Resources:
          Topic:
            Type: AWS::SNS::Topic
            Properties:
              TopicName: !Sub "${AWS::StackName}-${Environment}-${!Topic}"
        """,
    )
    assert creation_order(template) == ["Topic"]


def test_creation_order_detects_a_cycle(tmp_path: Path) -> None:
    template = _template(
        tmp_path,
        """\
        Resources:
          A:
            Type: AWS::SNS::Topic
            Properties: {DisplayName: !GetAtt B.TopicName}
          B:
            Type: AWS::SNS::Topic
            Properties: {DisplayName: !Sub "${C}"}
          C:
            Type: AWS::SQS::Queue
            DependsOn: [A]
        """,
    )
    with pytest.raises(TemplateError, match="circular reference"):
        creation_order(template)


def test_the_project_template_has_a_creation_order() -> None:
    template = Template.load(REPO_ROOT / "template.yaml")
    order = creation_order(template)
    assert sorted(order) == sorted(template.resources)
    layer = next(iter(template.resources_of_type("AWS::Serverless::LayerVersion")))
    for function in template.resources_of_type("AWS::Serverless::Function"):
        assert order.index(layer) < order.index(function)


# ---- Globals ------------------------------------------------------------------------------------
def test_function_properties_merge_globals_maps_and_let_own_values_win(tmp_path: Path) -> None:
    template = _template(
        tmp_path,
        """\
        Globals:
          Function:
            Runtime: python3.13
            Timeout: 30
            Handler: app.handler
            Environment:
              Variables:
                POWERTOOLS_SERVICE_NAME: opswire
                LOG_LEVEL: INFO
            Tags: {team: ops}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: functions/fn/
              Timeout: 60
              Environment:
                Variables:
                  LOG_LEVEL: DEBUG
                  TABLE: t
          Plain:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: functions/plain/
        """,
    )

    merged = template.function_properties("Fn")

    assert merged["Runtime"] == "python3.13"
    assert merged["Handler"] == "app.handler"
    assert merged["Timeout"] == 60
    assert merged["CodeUri"] == "functions/fn/"
    assert merged["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "opswire",
        "LOG_LEVEL": "DEBUG",
        "TABLE": "t",
    }
    assert merged["Tags"] == {"team": "ops"}
    assert template.function_properties("Plain")["Timeout"] == 30
    # Merging builds new dicts: the loaded document keeps its Globals.
    globals_ = template.document["Globals"]["Function"]["Environment"]["Variables"]
    assert globals_ == {"POWERTOOLS_SERVICE_NAME": "opswire", "LOG_LEVEL": "INFO"}


def test_shared_environment_is_the_plain_powertools_variables_of_globals(tmp_path: Path) -> None:
    template = Template.load(
        write_template(
            tmp_path,
            """
            Globals:
              Function:
                Environment:
                  Variables:
                    ENVIRONMENT: !Ref Environment
                    POWERTOOLS_SERVICE_NAME: svc
                    POWERTOOLS_METRICS_NAMESPACE: ns
                    POWERTOOLS_LOG_LEVEL: !Ref LogLevel
            Resources: {}
            """,
        )
    )
    assert template.shared_environment() == {
        "POWERTOOLS_SERVICE_NAME": "svc",
        "POWERTOOLS_METRICS_NAMESPACE": "ns",
    }


def test_the_project_shares_its_metrics_namespace_with_every_process() -> None:
    # The CLI imports opswire.core.observability (Metrics reads the namespace once) before any
    # handler runs: without it every alarm failed with "Must contain a metric namespace".
    shared = Template.load(REPO_ROOT / "template.yaml").shared_environment()
    assert shared["POWERTOOLS_METRICS_NAMESPACE"]


def test_function_properties_without_globals(tmp_path: Path) -> None:
    template = _template(
        tmp_path,
        """\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: fn/, Handler: app.handler}
        """,
    )
    assert template.function_properties("Fn") == {"CodeUri": "fn/", "Handler": "app.handler"}


# ---- EventBridge target input -------------------------------------------------------------------
def _alarm_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "eventbridge/alarm-metric-alarm.json").read_text())
    return event


def _rule(**kwargs: Any) -> Rule:
    return Rule(
        logical_id="AlarmRule",
        event_name="Alarm",
        target_kind="statemachine",
        target="arn",
        **kwargs,
    )


def test_without_input_settings_the_target_gets_the_whole_event() -> None:
    event = _alarm_event()
    assert rule_target_input(_rule(), event) == event


def test_input_replaces_the_event_with_constant_json() -> None:
    rule = _rule(input='{"job": "rotate", "dryRun": false}')
    assert rule_target_input(rule, _alarm_event()) == {"job": "rotate", "dryRun": False}


def test_input_path_selects_part_of_the_event() -> None:
    event = _alarm_event()
    assert rule_target_input(_rule(input_path="$.detail"), event) == event["detail"]
    assert (
        rule_target_input(_rule(input_path="$.detail.alarmName"), event)
        == (event["detail"]["alarmName"])
    )


def test_the_projects_transformer_wraps_the_event_for_the_workflow() -> None:
    event = _alarm_event()
    rule = _rule(
        input_transformer={
            "InputTemplate": '{"source": "eventbridge", "payload": <aws.events.event.json>}'
        }
    )
    assert rule_target_input(rule, event) == {"source": "eventbridge", "payload": event}


def test_transformer_variables_bare_and_in_quotes() -> None:
    event = _alarm_event()
    transformer = {
        "InputPathsMap": {
            "alarm": "$.detail.alarmName",
            "state": "$.detail.state.value",
            "state_obj": "$.detail.state",
        },
        "InputTemplate": (
            '{"name": <alarm>, "quoted": "<alarm>", "state": <state_obj>, "text": "<state_obj>"}'
        ),
    }

    result = _transform(event, transformer)

    name = event["detail"]["alarmName"]
    assert result["name"] == name
    assert result["quoted"] == name
    assert result["state"] == event["detail"]["state"]
    # An object inside quotes arrives as its JSON text, escaped for the string.
    assert json.loads(result["text"]) == event["detail"]["state"]


def test_transformer_escapes_quotes_in_values_put_inside_strings() -> None:
    event = {"detail": {"reason": 'Threshold "5.0" crossed\nnow'}}
    result = _transform(
        event, {"InputPathsMap": {"r": "$.detail.reason"}, "InputTemplate": '{"why": "<r>"}'}
    )
    assert result == {"why": 'Threshold "5.0" crossed\nnow'}


def test_transformer_variables_inside_a_longer_string_are_spliced_in() -> None:
    event = {"detail": {"instance": "i-0123456789", "status": "running"}}
    transformer = {
        "InputPathsMap": {"instance": "$.detail.instance", "status": "$.detail.status"},
        "InputTemplate": '{"myInstance": <instance>, '
        '"myStatus": "<instance> is in state \\"<status>\\""}',
    }
    assert _transform(event, transformer) == {
        "myInstance": "i-0123456789",
        "myStatus": 'i-0123456789 is in state "running"',
    }


def test_aws_events_event_is_the_event_without_its_detail() -> None:
    event = _alarm_event()
    result = _transform(event, {"InputTemplate": '{"payload": <aws.events.event>}'})
    assert result["payload"] == {k: v for k, v in event.items() if k != "detail"}


def test_transformer_predefined_variables_name_the_rule_and_the_ingestion_time() -> None:
    event = _alarm_event()
    rule = _rule(
        input_transformer={
            "InputTemplate": '{"rule": <aws.events.rule-arn>, '
            '"at": "<aws.events.event.ingestion-time>"}'
        }
    )
    assert rule_target_input(rule, event) == {
        "rule": f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/AlarmRule",
        "at": event["time"],
    }


def test_a_transformer_that_is_not_json_gives_the_text() -> None:
    result = _transform({"detail": {}}, {"InputTemplate": "plain text, no JSON"})
    assert result == "plain text, no JSON"


# ---- HttpApi ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("route", "method", "path", "expected"),
    [
        (Route("POST", "/github/webhook", "fn"), "POST", "/github/webhook", {}),
        (Route("POST", "/github/webhook", "fn"), "post", "/github/webhook", {}),
        (Route("POST", "/github/webhook", "fn"), "GET", "/github/webhook", None),
        (Route("POST", "/github/webhook", "fn"), "POST", "/github/webhook/x", None),
        (Route("POST", "/github-webhook", "fn"), "POST", "/githubXwebhook", None),
        (Route("GET", "/items/{id}", "fn"), "GET", "/items/42", {"id": "42"}),
        (Route("GET", "/items/{id}", "fn"), "GET", "/items/42/parts", None),
        (Route("GET", "/items/{id}", "fn"), "GET", "/items/", None),
        (Route("ANY", "/approvals/{token}", "fn"), "PUT", "/approvals/ab-1", {"token": "ab-1"}),
        (Route("ANY", "/files/{proxy+}", "fn"), "GET", "/files/a/b/c.txt", {"proxy": "a/b/c.txt"}),
        (Route("ANY", "/files/{proxy+}", "fn"), "GET", "/files/", None),
    ],
)
def test_route_match(route: Route, method: str, path: str, expected: dict[str, str] | None) -> None:
    assert route.match(method, path) == expected


def test_http_api_event_is_a_payload_format_2_0_request() -> None:
    route = Route("POST", "/items/{id}", "fn")
    body = b'{"action": "approve"}'

    event = http_api_event(
        "post",
        "/items/42",
        "verbose=1&tag=a%20b&empty=",
        body,
        {"Content-Type": "application/json", "X-GitHub-Event": "push", "User-Agent": "curl/8"},
        route,
        {"id": "42"},
    )

    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /items/{id}"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "verbose=1&tag=a%20b&empty="
    assert event["queryStringParameters"] == {"verbose": "1", "tag": "a b", "empty": ""}
    assert event["headers"] == {
        "content-type": "application/json",
        "x-github-event": "push",
        "user-agent": "curl/8",
    }
    assert event["pathParameters"] == {"id": "42"}
    assert event["body"] == body.decode()
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "POST"
    assert context["http"]["path"] == "/items/42"
    assert context["http"]["userAgent"] == "curl/8"
    assert context["routeKey"] == "POST /items/{id}"
    assert context["stage"] == "$default"
    assert context["accountId"] == ACCOUNT_ID
    assert isinstance(context["timeEpoch"], int)


def test_http_api_event_without_query_body_or_parameters() -> None:
    event = http_api_event("GET", "/health", "", b"", {}, Route("GET", "/health", "fn"), {})
    assert event["queryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None


def test_http_api_event_base64_encodes_a_binary_body() -> None:
    body = b"\x1f\x8b\x08\x00\xff"
    event = http_api_event("POST", "/upload", "", body, {}, Route("POST", "/upload", "fn"), {})
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_http_api_event_joins_repeated_query_parameters_with_commas() -> None:
    event = http_api_event(
        "GET", "/items", "state=ALARM&state=OK", b"", {}, Route("GET", "/items", "fn"), {}
    )
    assert event["queryStringParameters"] == {"state": "ALARM,OK"}


# ---- CloudWatch Logs subscription ---------------------------------------------------------------
def test_cloudwatch_logs_event_round_trips_through_gzip_and_base64() -> None:
    subscription = LogSubscription(
        log_group="/aws/lambda/orders-worker",
        filter_name="ShipLogsOrders",
        filter_pattern="",
        function="opswire-local-ShipLogsFunction",
    )
    document = {
        "logStream": "2026/03/14/[$LATEST]abc",
        "logEvents": [
            "START RequestId: 1",
            {"message": "ERROR boom", "timestamp": 1773480000000, "id": "3699"},
            {"message": "END RequestId: 1"},
        ],
    }

    event = cloudwatch_logs_event(subscription, document)

    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    assert data["messageType"] == "DATA_MESSAGE"
    assert data["owner"] == ACCOUNT_ID
    assert data["logGroup"] == "/aws/lambda/orders-worker"
    assert data["logStream"] == "2026/03/14/[$LATEST]abc"
    assert data["subscriptionFilters"] == ["ShipLogsOrders"]
    assert [e["message"] for e in data["logEvents"]] == [
        "START RequestId: 1",
        "ERROR boom",
        "END RequestId: 1",
    ]
    assert data["logEvents"][1] == {
        "id": "3699",
        "timestamp": 1773480000000,
        "message": "ERROR boom",
    }
    ids = [e["id"] for e in data["logEvents"]]
    assert len(set(ids)) == 3
    assert all(isinstance(e["timestamp"], int) for e in data["logEvents"])

    # Powertools decodes it the way it decodes a real delivery.
    parsed = CloudWatchLogsEvent(event).parse_logs_data()
    assert parsed.log_group == "/aws/lambda/orders-worker"
    assert [e.message for e in parsed.log_events][1] == "ERROR boom"


def test_cloudwatch_logs_event_defaults_the_stream() -> None:
    subscription = LogSubscription("/g", "f", "", "fn")
    event = cloudwatch_logs_event(subscription, {"logEvents": []})
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    assert data["logStream"] == "local/stream"
    assert data["logEvents"] == []
