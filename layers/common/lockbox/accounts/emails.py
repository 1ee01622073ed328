"""Email addresses: whether one is usable, and its canonical form.

Two addresses are one account when their canonical forms are equal (SPEC.md, "POST
/api/register"): Unicode NFKC, then case folding, with the domain in its IDNA form. Both
registration calls key uniqueness on it, and a login by email looks it up the same way.
"""

from __future__ import annotations

import re
import unicodedata

from lockbox.core.errors import ErrorCode
from lockbox.core.validation import refuse_if, required_text

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64  # RFC 5321, 4.5.3.1.1

# ASCII addresses: RFC 5322's dot-atom local part and a DNS host name of two or more
# labels, the last ending with a letter (as every top-level domain does) and not a
# special-use name (RFC 6761, 7686): the rules the email-validator package applies,
# checked here because it costs 15 ms to import and 30 µs a call. It still checks every
# internationalised address (IDNA domains, UTF-8 local parts), which need its tables.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = r"(?:[A-Za-z0-9][A-Za-z0-9-]{0,61})?[A-Za-z]"
_ASCII_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?P<top>{_TOP_LABEL})")
_SPECIAL_USE_TOP_LABELS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def email_reason(text: str) -> str | None:
    """Why this is not a usable email address, or None."""
    if len(text) > MAX_EMAIL_LENGTH:
        return f"Email must be at most {MAX_EMAIL_LENGTH} characters."
    if len(text.rpartition("@")[0]) > MAX_LOCAL_PART_LENGTH:
        return f"The part before @ must be at most {MAX_LOCAL_PART_LENGTH} characters."
    labels = text.rpartition("@")[2].lower().split(".")
    if text.isascii() and not any(label.startswith("xn--") for label in labels):
        match = _ASCII_EMAIL.fullmatch(text)
        valid = (
            match is not None
            and match["top"].lower() not in _SPECIAL_USE_TOP_LABELS
            # "ab--cd" is reserved for IDNA encodings (RFC 5891), as "xn--" labels are.
            and not any(label[2:4] == "--" for label in labels)
        )
    else:
        valid = _valid_international_email(text)
    return None if valid else "Email must be a valid email address."


def _valid_international_email(text: str) -> bool:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def canonical_email(text: str) -> str:
    """The form every spelling of one mailbox shares: full-width letters, ideographic full
    stops, upper case, NFD and Unicode or IDNA domains all give the same string.

    A domain IDNA cannot encode keeps its folded text: no valid address has such a domain,
    so a login with it finds nothing rather than failing.
    """
    local, _, domain = unicodedata.normalize("NFKC", text).rpartition("@")
    domain = domain.casefold()
    if not domain.isascii():
        domain = _idna_domain(domain)
    return f"{local.casefold()}@{domain}"


def _idna_domain(domain: str) -> str:
    import idna  # a dependency of email-validator; loaded only for Unicode domains

    try:
        # UTS 46 mapping: ideographic full stops become dots, as browsers read them.
        return idna.encode(domain, uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        return domain


def check_email(value: object) -> str:
    """The rule of every call that takes an address (registration, forgot, an address
    change): a non-blank string that is a usable address, else INVALID_REQUEST."""
    text = required_text(value, "Email", ErrorCode.INVALID_REQUEST)
    refuse_if(email_reason(text), ErrorCode.INVALID_REQUEST)
    return text
