"""The mails' subjects and bodies: a plain-text and an HTML template of each kind in
`templates/` (shipped in the layer), filled with string.Template; every value put into the
HTML is escaped."""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from string import Template
from typing import NamedTuple

_TEMPLATES = Path(__file__).parent / "templates"

SUBJECTS = {
    "verify_email": "Verify your email address",
    "reset_password": "Reset your password",
    "confirm_email": "Confirm your new email address",
    "email_changed": "Your email address was changed",
}


class Message(NamedTuple):
    subject: str
    text: str
    html: str


@cache
def _template(name: str, suffix: str) -> Template:
    return Template((_TEMPLATES / f"{name}.{suffix}").read_text(encoding="utf-8"))


def render(name: str, values: dict[str, str]) -> Message:
    """The mail `name` (a key of SUBJECTS) filled with `values`; a missing value raises."""
    escaped = {key: html.escape(value) for key, value in values.items()}
    return Message(
        subject=SUBJECTS[name],
        text=_template(name, "txt").substitute(values),
        html=_template(name, "html").substitute(escaped),
    )


def greeting(profile_names: dict[str, str]) -> str:
    """How a mail addresses its reader: the name the account gave, else none."""
    name = (
        profile_names.get("full_name")
        or profile_names.get("firstname")
        or profile_names.get("username")
    )
    return f"Hello {name}," if name else "Hello,"
