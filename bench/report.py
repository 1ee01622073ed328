"""bench/results.json as the Markdown table the README shows: python -m bench.report"""

from __future__ import annotations

from typing import Any

from bench.results import read_results

COLD_TARGET = 1.3
# The registrations validate the richest input and start with a password's policy check.
COLD_TARGETS = {"register": 1.45, "users_register": 1.45}
WARM_TARGET_US = 100.0
# DynamoDB requests each call may make (SPEC.md and its issues); 1 where not listed.
REQUEST_BUDGETS = {
    "token": 2,  # count the attempt; start the session and clear the count
    "users_login": 2,
    # Read the profile and the caller's session; count the attempt in the name's login
    # protection (the contract counts every password check); one transaction.
    "change_password": 3,
    # As a password change: the profile and session, the count, then one transaction (the
    # new address checked free, the mail request put).
    "change_email": 3,
    # Read the profile (the answer, the markers of a new name), then one transaction: the
    # change and its account_updated event, a second item (SPEC "Security activity").
    "update_account": 2,
    "delete_account": 3,
    # The second factor's calls that take the password read and count as a password change;
    # the login's second step counts on the name's marker, then one transaction.
    "mfa_setup": 3,
    "mfa_disable": 3,
    "recovery_codes": 3,
    "mfa_confirm": 2,  # the profile and session read together, then one transaction
    "token_mfa": 2,
    # The purge's recheck marker (a PutItem), then per page a Query and a BatchWriteItem per
    # 25 keys; the bench event's user has one key, so a page, its delete and the empty page.
    "purge_items": 4,
    # Read the value, then write over exactly that version (more only after a conflict).
    "increment_item": 2,
    "patch_item": 2,
    # The first page: the account's GetItem and one Query (each later page: the Query alone).
    "export_items": 2,
    # The profile the link names (it holds the link's hash), then one transaction.
    "verify_email": 2,
    "reset_password": 2,
}


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def function_rows(results: dict[str, Any]) -> list[str]:
    cold = results["cold_start"]
    rows = [
        "| function | cold start ms | x floor | target | CPU x floor | first call ms "
        "| warm µs/call | target | DynamoDB requests/call |",
        "|---|---:|---:|---|---:|---:|---:|---|---:|",
    ]
    for name, figures in cold["functions"].items():
        cold_target = COLD_TARGETS.get(name, COLD_TARGET)
        warm = results["warm_overhead_us"].get(name)
        requests = results["dynamodb_requests_per_call"].get(name)
        expected_requests = REQUEST_BUDGETS.get(name, 1)
        rows.append(
            f"| {name} | {figures['ms']} | {figures['ratio']} | "
            f"≤ {cold_target} {verdict(figures['ratio'] <= cold_target)} | "
            f"{figures.get('cpu_ratio', '')} | {figures.get('first_call_ms', '')} | {warm} | "
            f"≤ {WARM_TARGET_US:.0f} {verdict(warm is not None and warm <= WARM_TARGET_US)} | "
            f"{requests} {verdict(requests is not None and requests <= expected_requests)} |"
        )
    return rows


def render(results: dict[str, Any]) -> str:
    lines = [
        f"Floor (fresh process: import boto3, create a DynamoDB client, one GetItem): "
        f"**{results['cold_start']['floor_ms']} ms**, median of {results['cold_start']['runs']} runs"
        + (
            f" ({results['cold_start']['floor_cpu_ms']} ms of CPU time)."
            if "floor_cpu_ms" in results["cold_start"]
            else "."
        ),
        "",
    ]
    lines += function_rows(results)
    bcrypt = results.get("bcrypt_ms")
    if bcrypt:
        lines += [
            "",
            f"bcrypt at cost {bcrypt['cost']}: hash {bcrypt['hash']} ms, check {bcrypt['check']} ms.",
        ]
    listing = results.get("listing")
    if listing:
        pages = listing["ms_per_page"]
        lines += [
            "",
            f"Listing {listing['keys']} keys in pages of {listing['page_size']} (median of "
            f"{listing['walks']} walks): {min(pages)} to {max(pages)} ms per page; last pages "
            f"over first pages {listing['last_over_first']}x.",
        ]
    counters = results.get("increments")
    if counters:
        lines += [
            "",
            f"Increments: {counters['parallel']} parallel increments by 1 of one key in "
            f"{counters['seconds']} s, {counters['answers_per_second']} answers/s (slowest "
            f"answer {counters['slowest_answer_s']} s), "
            + (
                f"all exact (1..{counters['parallel']} once each, final value "
                f"{counters['final_value']})."
                if counters["exact"]
                else f"**not exact** ({counters['refused']} refused, final value "
                f"{counters['final_value']})."
            ),
        ]
    load = results.get("load")
    if load:
        lines += [
            "",
            f"Load: {load['requests']} requests from {load.get('users', 20)} concurrent clients, "
            f"{load['errors']} errors, {load.get('lost_writes', 0)} lost writes, "
            f"{load['rps']} requests/s, p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms.",
        ]
    fuzz = results.get("fuzz")
    if fuzz:
        lines += [
            "",
            f"Fuzz: {fuzz['requests']} generated requests, {fuzz['server_errors']} server errors, "
            f"{fuzz['schema_violations']} responses outside the OpenAPI document.",
        ]
    machine = results.get("machine")
    if machine:
        lines += [
            "",
            f"Measured {results.get('measured_at', '')} on {machine['cpu_count']} cores, "
            f"{machine['platform']}, Python {machine['python']}.",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(read_results()))
