"""The validation framework's shared rules."""

from __future__ import annotations

import sys
import unicodedata

from lockbox.core.validation import has_control_character


def test_control_characters_are_exactly_unicodes_category_cc() -> None:
    """Given every code point (lone surrogates included), it is a control character exactly
    when Unicode's general category is Cc."""
    disagreements = [
        code
        for code in range(sys.maxunicode + 1)
        if has_control_character(f"a{chr(code)}b") != (unicodedata.category(chr(code)) == "Cc")
    ]

    assert disagreements == []
