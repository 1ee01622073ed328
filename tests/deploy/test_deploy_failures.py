"""Failures that alarm, and only real ones, on the transformed template: InternalErrors per
function, the API's 5xx rate over enough requests, the stream consumers' bounded retries,
failure queue and iterator age, and the erasure's second pass after the authorizer cache."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lockbox_local.template import function_keys, load_template
from tests.deploy.sam_transform import parameter_defaults, resources, sam_template

# Every function but the rotation one answers through lockbox.core (handler_for,
# stream_handler or the authorizer's own), which counts InternalErrors; the rotation
# function fails its invocation instead (its Errors alarm).
COUNTING = sorted(set(function_keys(load_template())) - {"RotateSigningKeyFunction"})


def alarms() -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources("AWS::CloudWatch::Alarm").items()}


def stream_mappings() -> dict[str, dict[str, Any]]:
    return {
        logical_id: mapping["Properties"]
        for logical_id, mapping in resources("AWS::Lambda::EventSourceMapping").items()
    }


def test_every_answering_function_has_an_internal_errors_alarm() -> None:
    """Each function's own InternalErrors (dimensions service and function): one or more
    in 5 minutes fires, no data is no alarm."""
    found = {
        next(d["Value"]["Ref"] for d in a["Dimensions"] if d["Name"] == "function"): a
        for a in alarms().values()
        if a.get("MetricName") == "InternalErrors"
    }

    assert sorted(found) == COUNTING
    for function_id, alarm in found.items():
        assert alarm["Namespace"] == "LockboxApi", function_id
        assert alarm["Dimensions"] == [
            {"Name": "service", "Value": "lockbox-api"},
            {"Name": "function", "Value": {"Ref": function_id}},
        ]
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1)
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
        )
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]


def test_the_metric_the_alarms_read_is_the_one_the_functions_publish() -> None:
    """Namespace and service of the alarms are the functions' Powertools settings."""
    variables = sam_template()["Globals"]["Function"]["Environment"]["Variables"]

    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "LockboxApi"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "lockbox-api"


def test_the_api_5xx_rate_alarm_ignores_small_samples() -> None:
    """The rate is 5XXError / Count, evaluated only over 20 requests or more (else 0)."""
    alarm = alarms()["Api5xxRateAlarm"]
    metrics = {query["Id"]: query for query in alarm["Metrics"]}
    returned = [query for query in alarm["Metrics"] if query.get("ReturnData", True)]

    assert metrics["errors"]["MetricStat"]["Metric"]["MetricName"] == "5XXError"
    assert metrics["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"
    for query_id in ("errors", "requests"):
        stat = metrics[query_id]["MetricStat"]
        assert (stat["Stat"], stat["Period"]) == ("Sum", 300)
        assert stat["Metric"]["Namespace"] == "AWS/ApiGateway"
    assert [query["Id"] for query in returned] == ["rate"]
    expression = metrics["rate"]["Expression"]
    assert expression.startswith("IF(FILL(requests, 0) >= 20,"), expression
    assert expression.endswith(", 0)"), expression
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0.01, "GreaterThanThreshold")
    assert "Statistic" not in alarm
    assert "MetricName" not in alarm


def test_every_stream_mapping_has_bounded_retries_and_a_failure_queue() -> None:
    """No stream batch is retried forever or dropped silently: bounded retries and record
    age, bisection, and an encrypted queue kept 14 days as its failure destination."""
    mappings = stream_mappings()
    queues = resources("AWS::SQS::Queue")

    assert mappings
    for logical_id, mapping in mappings.items():
        assert 0 <= mapping["MaximumRetryAttempts"] <= 100, logical_id
        assert 60 <= mapping["MaximumRecordAgeInSeconds"] < 86400, logical_id
        assert mapping["BisectBatchOnFunctionError"] is True, logical_id
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], logical_id
        destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
        queue_id, attribute = destination["Fn::GetAtt"]
        assert attribute == "Arn"
        queue = queues[queue_id]["Properties"]
        assert queue["MessageRetentionPeriod"] == 1209600
        assert queue.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue


def role_statements(function_id: str) -> list[dict[str, Any]]:
    role_id = resources("AWS::Lambda::Function")[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    role = resources("AWS::IAM::Role")[role_id]["Properties"]
    return [
        statement
        for policy in role.get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def test_the_purge_may_send_to_its_failure_queue_and_write_its_marker() -> None:
    """Lambda sends the failure record with the function's role: sqs:SendMessage on the
    queue; and the purge puts its recheck marker in the users table."""
    statements = role_statements("PurgeItemsFunction")
    text = json.dumps(statements)

    assert "sqs:SendMessage" in text
    assert '"Fn::GetAtt": ["PurgeFailuresQueue", "Arn"]' in text
    assert any(
        "dynamodb:PutItem" in json.dumps(s["Action"])
        and s["Resource"] == {"Fn::GetAtt": ["UsersTable", "Arn"]}
        for s in statements
    )


def test_stream_consumers_and_their_queue_are_alarmed() -> None:
    """IteratorAge (Maximum) of every stream consumer, and any message on the queue."""
    # A mapping calls the function's alias (gradual deploys); Lambda publishes IteratorAge
    # under the function's name too, which the alarm watches.
    aliases = resources("AWS::Lambda::Alias")
    targets = {mapping["FunctionName"]["Ref"] for mapping in stream_mappings().values()}
    consumers = {
        aliases[target]["Properties"]["FunctionName"]["Ref"] if target in aliases else target
        for target in targets
    }
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for alarm in alarms().values():
        by_metric.setdefault(str(alarm.get("MetricName")), []).append(alarm)

    aged = {a["Dimensions"][0]["Value"]["Ref"]: a for a in by_metric["IteratorAge"]}
    assert set(aged) == consumers
    for alarm in aged.values():
        assert (alarm["Namespace"], alarm["Statistic"]) == ("AWS/Lambda", "Maximum")
        assert 0 < alarm["Threshold"] <= 3_600_000  # milliseconds: an hour at most
    queues = {
        mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        for mapping in stream_mappings().values()
    }
    queued = by_metric["ApproximateNumberOfMessagesVisible"]
    assert {alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for alarm in queued} == queues
    for alarm in queued:
        assert alarm["Namespace"] == "AWS/SQS"
        assert alarm["Dimensions"][0]["Name"] == "QueueName"
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
        )
        assert alarm["TreatMissingData"] == "notBreaching"


def test_the_authorizer_cache_defaults_to_a_minute() -> None:
    """AuthorizerCacheTtl defaults to 60 s, the cached authorizer's TTL (SAM resolves the
    parameter's default into the API's definition)."""
    api = resources("AWS::ApiGateway::RestApi")["LockboxApi"]["Properties"]["Body"]
    schemes = api["components"]["securitySchemes"]

    assert parameter_defaults(sam_template())["AuthorizerCacheTtl"] == "60"
    assert schemes["TokenAuthorizer"]["x-amazon-apigateway-authorizer"][
        "authorizerResultTtlInSeconds"
    ] in (60, {"Ref": "AuthorizerCacheTtl"})


def test_the_second_purge_pass_waits_out_the_cache_and_the_longest_request() -> None:
    """The marker expires AuthorizerCacheTtl + ErasureRecheckMargin after the purge; the
    margin covers the longest Timeout of a function behind the API, and only the TTL's own
    removal of a marker (userIdentity the DynamoDB service) reaches the purge."""
    template = sam_template()
    defaults = parameter_defaults(template)
    api_timeouts = [
        int(function["Properties"].get("Timeout", template["Globals"]["Function"]["Timeout"]))
        for function in template["Resources"].values()
        if function["Type"] == "AWS::Serverless::Function"
        and any(e["Type"] == "Api" for e in (function["Properties"].get("Events") or {}).values())
    ]
    purge = resources("AWS::Lambda::Function")["PurgeItemsFunction"]["Properties"]
    variables = purge["Environment"]["Variables"]
    patterns = [
        json.loads(f["Pattern"])
        for mapping in stream_mappings().values()
        for f in mapping["FilterCriteria"]["Filters"]
    ]
    users = resources("AWS::DynamoDB::Table")["UsersTable"]["Properties"]

    assert api_timeouts
    assert int(defaults["ErasureRecheckMargin"]) >= max(api_timeouts)
    assert variables["AUTHORIZER_CACHE_TTL"] == {"Ref": "AuthorizerCacheTtl"}
    assert variables["ERASURE_RECHECK_MARGIN"] == {"Ref": "ErasureRecheckMargin"}
    assert {
        "eventName": ["REMOVE"],
        "userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]},
        "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "PURGE#"}]}}},
    } in patterns
    assert users["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


@pytest.mark.parametrize("queue", ["PurgeFailuresQueue", "SendMailFailuresQueue"])
def test_the_failure_queue_is_an_output(queue: str) -> None:
    assert sam_template()["Outputs"][f"{queue}Url"]["Value"] == {"Ref": queue}


def test_the_mail_sender_may_send_mail_and_reach_its_failure_queue() -> None:
    """The sender's role: SES SendEmail on the account's identities, its queue, and only
    reads, updates and the activity event's put in the users table."""
    statements = role_statements("SendMailFunction")
    text = json.dumps(statements)

    assert "ses:SendEmail" in text
    assert '"Fn::GetAtt": ["SendMailFailuresQueue", "Arn"]' in text
    table_actions = {
        action
        for s in statements
        if s["Resource"] == {"Fn::GetAtt": ["UsersTable", "Arn"]}
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert table_actions == {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"}


def test_only_written_mail_requests_reach_the_mail_sender() -> None:
    """INSERT and MODIFY of MAIL# items: never their TTL removal, never another item."""
    (mapping,) = [
        m for m in stream_mappings().values() if "SendMail" in json.dumps(m["FunctionName"])
    ]
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]

    assert patterns == [
        {
            "eventName": ["INSERT", "MODIFY"],
            "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "MAIL#"}]}}},
        }
    ]
