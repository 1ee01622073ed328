"""`make cost`: the monthly AWS bill of the production configuration, modelled for 1 M and
100 M calls a month, written to docs/cost.md.

Inputs, each from where it is decided:
- template.yaml with the prod parameters of samconfig.toml (what `sam deploy --config-env prod`
  creates): memory sizes, the authorizer cache TTL, log classes and retention, the platform log
  level, tracing and its sampling rule, WAF and its rules, alarms, the dashboard;
- bench/results.json: warm overhead, cold-start time, log bytes and DynamoDB requests per call,
  bcrypt time at the configured cost;
- bench/prices.toml: every price, each with its AWS pricing page;
- ASSUMPTIONS below: what neither says (the call mix, item sizes, DynamoDB latency, how often a
  user calls, how long an execution environment lives). docs/cost.md lists them.

Usage: python -m bench.cost [--output docs/cost.md]
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.results import RESULTS_PATH, read_results
from lockbox_local.intrinsics import NO_VALUE, Resolver, parameter_values
from lockbox_local.template import PROJECT_ROOT, function_keys, load_template, resources_of_type

PRICES_PATH = PROJECT_ROOT / "bench" / "prices.toml"
SAMCONFIG_PATH = PROJECT_ROOT / "samconfig.toml"
OUTPUT_PATH = PROJECT_ROOT / "docs" / "cost.md"
LAYER_PATH = PROJECT_ROOT / "layers" / "common" / "lockbox"
SECONDS_PER_MONTH = 730 * 3600  # AWS prices a month as 730 hours
VOLUMES = (1_000_000, 100_000_000)
GOAL_PER_MILLION = 4.50


@dataclass(frozen=True, slots=True)
class Route:
    """One kind of call in the mix: the function that answers it and what it costs DynamoDB."""

    function: str  # key under functions/
    share: float  # of all calls
    authorized: bool  # passes the cached TOKEN authorizer first
    read_units: float  # DynamoDB read request units per call
    write_units: float  # DynamoDB write request units per call


@dataclass(frozen=True, slots=True)
class Assumptions:
    # 70% data reads (GET /api/data/{key} 4 in 5, listings 1 in 5), 20% data writes (stores,
    # updates, deletes 5:3:2), 5% logins (/api/token), 5% refreshes. Items up to 1 KB, read
    # strongly consistent (1 RRU per 4 KB), a listing page 8 KB; a transaction item costs
    # twice (https://aws.amazon.com/dynamodb/pricing/on-demand/).
    mix: tuple[Route, ...] = (
        Route("get_item", 0.56, True, read_units=1, write_units=0),
        Route("list_items", 0.14, True, read_units=2, write_units=0),
        Route("store_item", 0.10, True, read_units=0, write_units=1),
        Route("update_item", 0.06, True, read_units=0, write_units=1),
        # One Delete in a TransactWriteItems.
        Route("delete_item", 0.04, True, read_units=0, write_units=2),
        # The attempt count's UpdateItem, then a transaction of the session's Put and the
        # count's Update.
        Route("token", 0.05, False, read_units=0, write_units=1 + 2 * 2),
        # A transaction of the session's Update and a ConditionCheck.
        Route("token_refresh", 0.05, False, read_units=0, write_units=2 * 2),
    )
    # The authorizer, on a cache miss: one BatchGetItem of the session and the profile.
    authorizer_read_units: float = 2
    # A signed-in user's calls come this many seconds apart: with the cache TTL, how many of
    # them find the authorizer's decision cached (one miss per token per TTL).
    seconds_between_user_calls: float = 30.0
    calls_per_user_month: float = 1000.0  # monthly active users = calls / this (Cognito)
    dynamodb_ms_per_request: float = 6.0  # in-region round trip, SDK included
    peak_to_average: float = 3.0  # concurrency is sized for the busy hours
    environment_lifetime_hours: float = 2.0  # Lambda replaces environments even when busy
    # Lambda's own JSON lines at SystemLogLevel INFO: platform.start and platform.report
    # (request id, version, metrics, trace header), https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html
    platform_log_bytes: float = 230 + 430
    log_compression: float = 0.15  # stored (compressed) bytes per ingested byte
    access_log_value_bytes: float = 14  # an average $context value in the access log line


ASSUMPTIONS = Assumptions()


@dataclass(frozen=True, slots=True)
class Configuration:
    """What the template deploys, in the terms the bill needs."""

    memory_mb: Mapping[str, int]  # by function key
    authorizer_ttl_s: int
    platform_logs: bool  # SystemLogLevel lets INFO platform lines through
    log_retention_days: int
    tracing: bool
    sample_rate: float
    reservoir_per_s: float
    waf: bool  # the web ACL is attached (EnableWaf)
    waf_rules: int
    access_log_bytes: float | None  # None: no access logs
    access_log_infrequent: bool
    alarm_metrics: int
    dashboards: int
    custom_metrics: int
    secret_functions: tuple[str, ...]  # function keys that read the signing key
    snapstart: bool = False  # SnapStart=PublishedVersions: cold starts restore a snapshot


@dataclass(frozen=True, slots=True)
class Measured:
    """bench/results.json, by function key."""

    warm_overhead_us: Mapping[str, float]
    cold_start_ms: Mapping[str, float]
    log_bytes: Mapping[str, float]
    dynamodb_requests: Mapping[str, int]
    bcrypt_ms: float


@dataclass(slots=True)
class Bill:
    calls: int
    services: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.services.values())

    @property
    def per_million(self) -> float:
        return self.total / (self.calls / 1e6)


BCRYPT_FUNCTIONS = {"token", "register", "users_register", "users_login"}


def prod_overrides(path: Path = SAMCONFIG_PATH) -> dict[str, str]:
    text = tomllib.loads(path.read_text())["prod"]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in shlex.split(text))


def configuration(template: Mapping[str, Any], overrides: Mapping[str, str]) -> Configuration:
    resolver = Resolver(template, parameter_values(template, overrides))
    resources = template["Resources"]
    keys = function_keys(dict(template))
    functions = resources_of_type(dict(template), "AWS::Serverless::Function")

    def number(value: Any) -> float:
        return float(resolver.resolve_text(value))

    memory = {keys[fid]: int(number(f["Properties"]["MemorySize"])) for fid, f in functions.items()}
    logging_config = functions["GetItemFunction"]["Properties"].get("LoggingConfig", {})
    ttl = resources["LockboxApi"]["Properties"]["Auth"]["Authorizers"]["TokenAuthorizer"]
    (rule,) = resources_of_type(dict(template), "AWS::XRay::SamplingRule").values()
    sampling = rule["Properties"]["SamplingRule"]
    access = resolver.resolve(resources["LockboxApi"]["Properties"].get("AccessLogSetting"))
    access_group = resources["ApiAccessLogGroup"]["Properties"]
    waf = resources["WebAcl"]
    present = [
        r for r in resources.values() if "Condition" not in r or resolver.condition(r["Condition"])
    ]
    return Configuration(
        memory_mb=memory,
        authorizer_ttl_s=int(number(ttl["Identity"]["ReauthorizeEvery"])),
        platform_logs=logging_config.get("SystemLogLevel", "INFO") in ("DEBUG", "INFO"),
        log_retention_days=int(number({"Ref": "LogRetentionDays"})),
        tracing=functions["GetItemFunction"]["Properties"].get("Tracing") == "Active"
        and resources["LockboxApi"]["Properties"].get("TracingEnabled") is True,
        sample_rate=number(sampling["FixedRate"]),
        reservoir_per_s=number(sampling["ReservoirSize"]),
        waf=resolver.condition(waf["Condition"]),
        waf_rules=len(waf["Properties"]["Rules"]),
        access_log_bytes=None
        if access in (None, NO_VALUE)
        else access_log_line_bytes(str(access["Format"])),
        access_log_infrequent=access_group.get("LogGroupClass") == "INFREQUENT_ACCESS",
        alarm_metrics=sum(
            len([m for m in r["Properties"].get("Metrics", []) if "MetricStat" in m]) or 1
            for r in present
            if r["Type"] == "AWS::CloudWatch::Alarm"
        ),
        dashboards=sum(1 for r in present if r["Type"] == "AWS::CloudWatch::Dashboard"),
        custom_metrics=len(emf_metric_names()),
        snapstart=resolver.resolve_text(
            functions["GetItemFunction"]["Properties"].get("SnapStart", {}).get("ApplyOn", "None")
        )
        == "PublishedVersions",
        secret_functions=tuple(
            sorted(
                keys[fid]
                for fid, f in functions.items()
                if "AWSSecretsManagerGetSecretValuePolicy" in str(f["Properties"].get("Policies"))
            )
        ),
    )


def access_log_line_bytes(log_format: str) -> float:
    """The access log line with each $context variable replaced by an average value."""
    line = " ".join(log_format.split())
    variables = re.findall(r"\$context\.[A-Za-z.]+", line)
    return len(re.sub(r"\$context\.[A-Za-z.]+", "", line)) + len(variables) * (
        ASSUMPTIONS.access_log_value_bytes
    )


def emf_metric_names() -> set[str]:
    """The custom metrics the functions publish (one dimension set each: service)."""
    pattern = re.compile(r'add_metric\(name="(\w+)"')
    return {name for path in LAYER_PATH.rglob("*.py") for name in pattern.findall(path.read_text())}


def measured(results: Mapping[str, Any]) -> Measured:
    if "log_bytes_per_call" not in results:
        raise SystemExit(f"{RESULTS_PATH} has no log_bytes_per_call: run `make bench-core` first")
    return Measured(
        warm_overhead_us=results["warm_overhead_us"],
        cold_start_ms={k: v["ms"] for k, v in results["cold_start"]["functions"].items()},
        log_bytes=results["log_bytes_per_call"],
        dynamodb_requests=results["dynamodb_requests_per_call"],
        bcrypt_ms=float(results["bcrypt_ms"]["check"]),
    )


def authorizer_miss_rate(ttl_s: int, assumptions: Assumptions = ASSUMPTIONS) -> float:
    """Share of authorized calls that invoke the authorizer: one per token per TTL."""
    if ttl_s <= 0:
        return 1.0
    return min(1.0, assumptions.seconds_between_user_calls / ttl_s)


def model(
    calls: int,
    config: Configuration,
    bench: Measured,
    prices: Mapping[str, Mapping[str, float]],
    assumptions: Assumptions = ASSUMPTIONS,
) -> Bill:
    """The month's bill for `calls` API calls in the mix."""
    bill = Bill(calls)
    requests = calls * sum(r.share for r in assumptions.mix)  # through API Gateway
    miss = authorizer_miss_rate(config.authorizer_ttl_s, assumptions)
    authorized_share = sum(r.share for r in assumptions.mix if r.authorized)
    invocations = {r.function: calls * r.share for r in assumptions.mix}
    invocations["authorizer"] = calls * authorized_share * miss

    # Lambda: requests, billed milliseconds (rounded up) and the billed INIT of cold starts.
    gb_seconds = 0.0
    snapstart = 0.0
    log_bytes = 0.0
    environments: dict[str, int] = {}
    for function, count in invocations.items():
        memory_gb = config.memory_mb[function] / 1024
        ms = (
            bench.warm_overhead_us[function] / 1000
            + bench.dynamodb_requests[function] * assumptions.dynamodb_ms_per_request
            + (bench.bcrypt_ms if function in BCRYPT_FUNCTIONS else 0.0)
        )
        billed_ms = math.ceil(ms)
        peak_rate = count / SECONDS_PER_MONTH * assumptions.peak_to_average
        environments[function] = max(1, math.ceil(peak_rate * ms / 1000))
        cold = min(count, environments[function] * 730 / assumptions.environment_lifetime_hours)
        gb_seconds += memory_gb * count * billed_ms / 1000
        if config.snapstart:  # a restore per cold start, one snapshot cached all month
            snapstart += memory_gb * cold * prices["lambda"]["snapstart_restore_per_gb"]
            snapstart += (
                memory_gb * SECONDS_PER_MONTH * prices["lambda"]["snapstart_cache_per_gb_second"]
            )
        else:  # the INIT of each cold start, billed like the invocation
            gb_seconds += memory_gb * cold * bench.cold_start_ms[function] / 1000
        platform = assumptions.platform_log_bytes if config.platform_logs else 0.0
        log_bytes += count * (bench.log_bytes[function] + platform)
    lam = prices["lambda"]
    bill.services["Lambda requests"] = sum(invocations.values()) / 1e6 * lam["requests_per_million"]
    bill.services["Lambda duration (arm64)"] = gb_seconds * lam["arm64_per_gb_second"]
    if config.snapstart:
        bill.services["Lambda SnapStart"] = snapstart

    bill.services["API Gateway (REST)"] = requests / 1e6 * prices["api_gateway"]["rest_per_million"]

    ddb = prices["dynamodb"]
    reads = sum(calls * r.share * r.read_units for r in assumptions.mix)
    reads += invocations["authorizer"] * assumptions.authorizer_read_units
    writes = sum(calls * r.share * r.write_units for r in assumptions.mix)
    bill.services["DynamoDB (on-demand)"] = (
        reads / 1e6 * ddb["read_request_units_per_million"]
        + writes / 1e6 * ddb["write_request_units_per_million"]
    )

    logs = prices["cloudwatch_logs"]
    gb = 1024**3
    retention_months = config.log_retention_days * 24 / 730
    lambda_logs = log_bytes / gb
    access_logs = (
        0.0 if config.access_log_bytes is None else requests * config.access_log_bytes / gb
    )
    access_price = (
        logs["infrequent_access_ingestion_per_gb"]
        if config.access_log_infrequent
        else logs["standard_ingestion_per_gb"]
    )
    stored_gb = (lambda_logs + access_logs) * assumptions.log_compression * retention_months
    bill.services["CloudWatch Logs"] = (
        lambda_logs * logs["standard_ingestion_per_gb"]
        + access_logs * access_price
        + stored_gb * logs["storage_per_gb_month"]
    )

    cw = prices["cloudwatch"]
    bill.services["CloudWatch alarms, metrics, dashboard"] = (
        config.alarm_metrics * cw["alarm_metric_month"]
        + config.custom_metrics * cw["custom_metric_month"]
        + config.dashboards * cw["dashboard_month"]
    )

    traces = 0.0
    if config.tracing:
        reservoir = min(requests, config.reservoir_per_s * SECONDS_PER_MONTH)
        traces = reservoir + (requests - reservoir) * config.sample_rate
    bill.services["X-Ray"] = traces / 1e6 * prices["xray"]["traces_recorded_per_million"]

    if config.waf:
        waf = prices["waf"]
        bill.services["WAF"] = (
            waf["web_acl_month"]
            + config.waf_rules * waf["rule_month"]
            + requests / 1e6 * waf["requests_per_million"]
        )

    # Each environment asks Secrets Manager (and it KMS) once per cache period
    # (SigningKeyCacheSeconds, 300 s).
    secret_calls = sum(environments.get(f, 0) for f in config.secret_functions) * (
        SECONDS_PER_MONTH / 300
    )
    bill.services["Secrets Manager and KMS"] = (
        prices["secrets_manager"]["secret_month"]
        + secret_calls / 1e4 * prices["secrets_manager"]["api_calls_per_10k"]
        + secret_calls / 1e4 * prices["kms"]["requests_per_10k"]
    )
    bill.notes = {
        "authorizer_miss_rate": f"{miss:.0%}",
        "lambda_invocations": f"{sum(invocations.values()):,.0f}",
        "traces": f"{traces:,.0f}",
        "lambda_log_gb": f"{lambda_logs:.2f}",
        "access_log_gb": f"{access_logs:.2f}",
        "read_units": f"{reads:,.0f}",
        "write_units": f"{writes:,.0f}",
    }
    return bill


def http_api_alternative(bill: Bill, prices: Mapping[str, Mapping[str, float]]) -> float:
    """The same functions behind an HTTP API: cheaper requests, and no WAF attaches to one."""
    return (
        bill.total
        - bill.services["API Gateway (REST)"]
        - bill.services.get("WAF", 0.0)
        + bill.calls / 1e6 * prices["api_gateway"]["http_per_million"]
    )


def cognito_alternative(
    bill: Bill,
    config: Configuration,
    bench: Measured,
    prices: Mapping[str, Mapping[str, float]],
    assumptions: Assumptions = ASSUMPTIONS,
) -> float:
    """Cognito user pools for accounts and tokens, a Cognito authorizer (no Lambda), DynamoDB
    for the data: the bill without logins, refreshes and the authorizer, plus the MAUs."""
    data_only = replace(
        assumptions,
        mix=tuple(r for r in assumptions.mix if r.authorized),
        seconds_between_user_calls=0.0,  # a Cognito authorizer invokes no function
    )
    users = bill.calls / assumptions.calls_per_user_month
    return (
        model(bill.calls, config, bench, prices, data_only).total
        + users * prices["cognito"]["lite_per_mau"]
    )


# The lines the contract fixes for this mix: every call through the REST API, a function per
# call (and the authorizer per uncached decision), bcrypt on each login, and the DynamoDB
# units of strongly consistent reads, conditional writes and transactions.
CONTRACT_LINES = (
    "API Gateway (REST)",
    "Lambda requests",
    "Lambda duration (arm64)",
    "DynamoDB (on-demand)",
)


def contract_floor(bill: Bill) -> float:
    """Per million calls, what no choice of logging, tracing, alarms or WAF takes away."""
    return sum(bill.services[name] for name in CONTRACT_LINES) / (bill.calls / 1e6)


def per_million_line(bill: Bill) -> str:
    return f"per million calls at {bill.calls // 1_000_000}M/month: ${bill.per_million:.2f}"


def render(
    bills: list[Bill],
    config: Configuration,
    bench: Measured,
    prices: Mapping[str, Mapping[str, float]],
    overrides: Mapping[str, str],
) -> str:
    services = list(bills[-1].services)
    head = "| service | " + " | ".join(f"{b.calls // 1_000_000} M calls: month" for b in bills)
    head += " | " + " | ".join(f"per M at {b.calls // 1_000_000} M" for b in bills) + " |"
    rows = [head, "|---" * (1 + 2 * len(bills)) + "|"]
    for name in services:
        months = " | ".join(f"${b.services.get(name, 0.0):,.2f}" for b in bills)
        per = " | ".join(f"${b.services.get(name, 0.0) / (b.calls / 1e6):.3f}" for b in bills)
        rows.append(f"| {name} | {months} | {per} |")
    totals = " | ".join(f"**${b.total:,.2f}**" for b in bills)
    per_total = " | ".join(f"**${b.per_million:.2f}**" for b in bills)
    rows.append(f"| **total** | {totals} | {per_total} |")

    compare = ["| | " + " | ".join(f"per M at {b.calls // 1_000_000} M" for b in bills) + " |"]
    compare.append("|---" * (1 + len(bills)) + "|")
    compare.append("| this stack (REST API) | " + per_total + " |")
    http = " | ".join(f"${http_api_alternative(b, prices) / (b.calls / 1e6):.2f}" for b in bills)
    compare.append(f"| same functions behind an HTTP API (no WAF) | {http} |")
    cognito = " | ".join(
        f"${cognito_alternative(b, config, bench, prices) / (b.calls / 1e6):.2f}" for b in bills
    )
    compare.append(f"| Cognito user pool (Lite) + Cognito authorizer + DynamoDB | {cognito} |")
    # The WAF as the configuration has it or not: what it adds, or what dropping it saves.
    with_waf = [model(b.calls, replace(config, waf=True), bench, prices) for b in bills]
    sign = "-" if config.waf else "+"
    waf = " | ".join(f"{sign}${w.services['WAF'] / (w.calls / 1e6):.2f}" for w in with_waf)
    if config.waf:
        compare.append(f"| this stack without its WAF (EnableWaf=false) | {waf} |")
    else:
        compare.append(f"| add-on: WAF per-IP limit (EnableWaf=true) | {waf} |")
    if not config.snapstart:
        snap = [model(b.calls, replace(config, snapstart=True), bench, prices) for b in bills]
        delta = " | ".join(
            f"+${(s.total - b.total) / (b.calls / 1e6):.2f}"
            for s, b in zip(snap, bills, strict=True)
        )
        compare.append(
            f"| add-on: SnapStart on every function (SnapStart=PublishedVersions) | {delta} |"
        )

    choices = [
        ("Lambda's platform lines left out (`SystemLogLevel: WARN`)", {"platform_logs": True}),
        (
            "X-Ray: a sampling rule at 1%, no reservoir (X-Ray's default: 1/s and 5%)",
            {"sample_rate": 0.05, "reservoir_per_s": 1.0},
        ),
        ("access logs in the Infrequent Access class", {"access_log_infrequent": False}),
    ]
    saved = ["| choice | saves per M at 100 M |", "|---|---|"]
    for text, before in choices:
        other = model(bills[-1].calls, replace(config, **before), bench, prices)  # type: ignore[arg-type]
        saved.append(f"| {text} | ${(other.total - bills[-1].total) / (other.calls / 1e6):.2f} |")

    a = ASSUMPTIONS
    mix = ", ".join(f"{r.function} {r.share:.0%}" for r in a.mix)
    units = ", ".join(
        f"{r.function} {r.read_units:g} RRU / {r.write_units:g} WRU "
        f"({bench.dynamodb_requests[r.function]} request(s))"
        for r in a.mix
    )
    big = bills[-1]
    settings = " ".join(f"{k}={v}" for k, v in overrides.items())
    memory = ", ".join(
        f"{k} {config.memory_mb[k]} MB" for k in [r.function for r in a.mix] + ["authorizer"]
    )
    return "\n".join(
        [
            "# Cost model",
            "",
            "Generated by `make cost` (bench/cost.py) from template.yaml with the prod parameters",
            f"of samconfig.toml (`{settings}`), the benchmark's figures in bench/results.json and",
            "the prices in bench/prices.toml (us-east-1, on-demand, no free tier; each price cites",
            "its AWS pricing page). Do not edit by hand: change an input and run `make cost`.",
            "",
            f"**{per_million_line(big)}** (goal: at most ${GOAL_PER_MILLION:.2f}; "
            f"API Gateway REST alone is ${prices['api_gateway']['rest_per_million']:.2f}).",
            "",
            "## Per service",
            "",
            *rows,
            "",
            "Not in the figures: DynamoDB storage and point-in-time recovery (billed per GB held,",
            "not per call), X-Ray trace retrieval, data transfer out, SNS alarm e-mails, CodeDeploy",
            "(free for Lambda). The users table's stream is read by Lambda's event source mapping",
            "for free; the purge runs only when an account is deleted, not part of this mix.",
            "The purge's failure queue (SQS) receives a message only when a purge is given up,",
            "so it is not part of this mix either. There is no customer managed KMS key (the",
            "secret uses aws/secretsmanager: its decryptions are in the Secrets Manager line).",
            "",
            "## What the contract fixes",
            "",
            f"Of the ${big.per_million:.2f} per million calls at {big.calls // 1_000_000} M, "
            f"${contract_floor(big):.2f} is what this mix costs whatever is logged, traced, "
            "alarmed or filtered: "
            + ", ".join(
                f"{name} ${big.services[name] / (big.calls / 1e6):.2f}" for name in CONTRACT_LINES
            )
            + ". Those lines follow from the contract itself: every call passes the REST API (for",
            "its TOKEN authorizer and gateway responses), a login runs bcrypt at cost 12, reads are",
            "strongly consistent, the lockout count and the session are conditional writes, and a",
            "login and a refresh are transactions (a transaction item costs twice). With WAF on,",
            f"its ${prices['waf']['requests_per_million']:.2f} per million requests comes on top. "
            + (
                f"The goal of ${GOAL_PER_MILLION:.2f} is below this floor, so no trimming of the "
                "optional lines meets it for this mix: it would take a cheaper gateway (the HTTP "
                "API row below) or fewer logins and refreshes in the mix."
                if contract_floor(big) > GOAL_PER_MILLION
                else f"The goal of ${GOAL_PER_MILLION:.2f} leaves "
                f"${GOAL_PER_MILLION - contract_floor(big):.2f} for the optional lines."
            ),
            "",
            "## Production defaults chosen for cost",
            "",
            "Each row is the model run with the other choice, everything else equal:",
            "",
            *saved,
            "",
            "Not cut: bcrypt cost 12 (the logins' bcrypt is nearly all of the Lambda duration line), "
            "strongly consistent reads (read-your-writes), the authorizer cache TTL (it bounds how "
            "long an ended session's token still passes), 365 days of logs on prod.",
            "",
            "## Against the alternatives",
            "",
            *compare,
            "",
            "- **HTTP API**: $1.00 per million requests instead of $3.50, but it has no WAF",
            "  association, no X-Ray tracing of the API, and no custom gateway responses: the",
            "  contract's envelopes on 401/403/429 and the CORS headers on every gateway answer",
            "  (SPEC) would need other means. The saving is real; so is the work.",
            "- **Cognito**: priced per monthly active user, not per call. With "
            f"{a.calls_per_user_month:g} calls per user a month that is "
            f"{big.calls / a.calls_per_user_month:,.0f} MAUs at {big.calls // 1_000_000} M calls. "
            "It removes the login, refresh and authorizer",
            "  functions and their DynamoDB writes, but not the contract: /api/token's request and",
            "  answer, the lockout, refresh-token reuse detection and the /users flavour would",
            "  change. Heavier users make Cognito cheaper per call, lighter ones dearer.",
            "",
            "## Inputs",
            "",
            f"- Mix: {mix}; data calls pass the cached TOKEN authorizer.",
            f"- Authorizer cache: TTL {config.authorizer_ttl_s} s (AuthorizerCacheTtl), a user's "
            f"calls {a.seconds_between_user_calls:g} s apart: {big.notes['authorizer_miss_rate']}"
            " of data calls invoke the authorizer.",
            f"- Memory: {memory}.",
            f"- Duration: the measured warm overhead, plus {a.dynamodb_ms_per_request:g} ms per "
            f"DynamoDB request (bench's requests per call), plus bcrypt ({bench.bcrypt_ms:g} ms "
            "at the configured cost, measured on the bench machine's core, for the login), "
            "rounded up to the millisecond.",
            f"- Cold starts: environments sized for {a.peak_to_average:g}x the average rate, each "
            f"replaced every {a.environment_lifetime_hours:g} h; each cold start bills the "
            "measured cold-start time (INIT is billed since August 2025).",
            f"- DynamoDB: {units}; the authorizer {a.authorizer_read_units:g} RRU on a miss.",
            "- Logs: the bytes each function's code logs per call, measured by the benchmark "
            "(bench/warm.py), "
            + (
                f"plus Lambda's platform lines ({a.platform_log_bytes:g} bytes)"
                if config.platform_logs
                else "no platform lines (SystemLogLevel WARN)"
            )
            + f", retention "
            f"{config.log_retention_days} days stored at {a.log_compression:.0%} of the ingested "
            "size"
            + (
                f"; access logs {config.access_log_bytes:.0f} bytes a request in the "
                + ("Infrequent Access" if config.access_log_infrequent else "Standard")
                + " class."
                if config.access_log_bytes is not None
                else "; no access logs."
            ),
            f"- Tracing: {'on' if config.tracing else 'off'}, {config.reservoir_per_s:g} request"
            f"/s reservoir then {config.sample_rate:.1%} (TracingSampleRate): "
            f"{big.notes['traces']} traces at {big.calls // 1_000_000} M calls.",
            f"- WAF: {'on' if config.waf else 'off'} (EnableWaf); a web ACL with "
            f"{config.waf_rules} rule(s) inspects every request.",
            f"- CloudWatch: {config.alarm_metrics} alarm metrics, {config.custom_metrics} custom "
            f"(EMF) metrics, {config.dashboards} dashboard.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cost")
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    args = parser.parse_args()
    prices = tomllib.loads(PRICES_PATH.read_text())
    overrides = prod_overrides()
    config = configuration(load_template(), overrides)
    bench = measured(read_results())
    bills = [model(calls, config, bench, prices) for calls in VOLUMES]
    args.output.write_text(render(bills, config, bench, prices, overrides))
    print(per_million_line(bills[-1]))


if __name__ == "__main__":
    main()
