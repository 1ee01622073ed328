"""The canonical form of an email address: one mailbox, one string (SPEC.md)."""

from __future__ import annotations

import pytest

from lockbox.accounts.emails import canonical_email, email_reason

ONE_MAILBOX = [
    [
        "m@example.com",
        "M@EXAMPLE.COM",
        "m@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
        "m@example\u3002com",
    ],
    ["m@b\u00fccher.de", "m@xn--bcher-kva.de", "m@bu\u0308cher.de", "M@B\u00dcCHER.DE"],
    ["stra\u00dfe@example.com", "STRASSE@example.com", "strasse@EXAMPLE.com"],
]


@pytest.mark.parametrize("spellings", ONE_MAILBOX, ids=["full-width-and-dot", "idna", "case-fold"])
def test_spellings_of_one_mailbox_share_a_canonical_form(spellings: list[str]) -> None:
    """Given the contract's spellings of one mailbox, every one has the same canonical form."""
    assert len({canonical_email(spelling) for spelling in spellings}) == 1


def test_the_canonical_form_is_nfkc_casefolded_with_an_idna_domain() -> None:
    """Given a Unicode address, the canonical form folds the local part and encodes the domain."""
    assert canonical_email("Stra\u00dfe@B\u00fccher.DE") == "strasse@xn--bcher-kva.de"


def test_different_mailboxes_stay_different() -> None:
    """Given two addresses that differ in more than spelling, their forms differ."""
    assert canonical_email("m@example.com") != canonical_email("n@example.com")
    assert canonical_email("m@example.com") != canonical_email("m@example.org")


def test_a_domain_idna_cannot_encode_keeps_its_folded_text() -> None:
    """Given a domain that is not valid IDNA, the form is still a string (a login finds nothing)."""
    assert canonical_email("m@\u2603\u2603..de") == "m@\u2603\u2603..de"


@pytest.mark.parametrize(
    "address", ["m@example\u3002com", "m@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"]
)
def test_unicode_spellings_of_an_ascii_domain_are_valid_addresses(address: str) -> None:
    """Given full-width letters or an ideographic full stop, the address is usable."""
    assert email_reason(address) is None


def test_a_local_part_over_64_characters_is_refused() -> None:
    """Given 65 characters before @, the address is refused; 64 are fine."""
    assert email_reason("x" * 65 + "@example.com") is not None
    assert email_reason("x" * 64 + "@example.com") is None
