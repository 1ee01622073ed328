"""The counter benchmark's figures (bench/increments.py): exact only when the answers are
1..N once each and the stored value N."""

from __future__ import annotations

from bench.increments import figures


def test_answers_1_to_n_and_a_final_n_are_exact_and_rated_per_second() -> None:
    answers: list[str | None] = [str(n) for n in (3, 1, 4, 2)]

    result = figures(answers, "4", 2.0, 1.5)

    assert result == {
        "parallel": 4,
        "seconds": 2.0,
        "answers_per_second": 2.0,
        "slowest_answer_s": 1.5,
        "refused": 0,
        "final_value": "4",
        "exact": True,
    }


def test_a_repeated_answer_is_not_exact() -> None:
    """Given two calls that both answered 2 (a lost update), the burst is not exact even
    though the final value is right."""
    assert figures(["1", "2", "2"], "3", 1.0, 1.0)["exact"] is False


def test_a_refusal_or_a_wrong_final_value_is_not_exact() -> None:
    refused = figures(["1", None], "1", 1.0, 1.0)

    assert (refused["exact"], refused["refused"]) == (False, 1)
    assert figures(["1", "2"], "3", 1.0, 1.0)["exact"] is False
    assert figures(["1", "2"], None, 1.0, 1.0)["exact"] is False
