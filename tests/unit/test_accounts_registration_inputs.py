"""POST /api/register request rules: each field's rule, the check order, every problem listed."""

from __future__ import annotations

from typing import Any

import pytest

from lockbox.accounts.registration_inputs import RegisterInput
from lockbox.core.errors import ApiError, ErrorCode
from lockbox.core.settings import get_settings

VALID: dict[str, Any] = {
    "username": "johndoe",
    "email": "john.doe@example.com",
    "password": "secure_password123",
    "full_name": "John Doe",
    "age": 30,
    "gender": "male",
}


def register(**changes: Any) -> RegisterInput:
    body = {**VALID, **changes}
    return RegisterInput.from_body({k: v for k, v in body.items() if v is not ...})


def refusal(**changes: Any) -> ApiError:
    """The ApiError for VALID with these changes (a value of ... removes the field)."""
    with pytest.raises(ApiError) as caught:
        register(**changes)
    return caught.value


def fields(error: ApiError) -> list[str]:
    return [problem.field for problem in error.details]


@pytest.fixture
def strict_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PASSWORD_POLICY", "strict")
    get_settings.cache_clear()


def test_valid_body_is_accepted_as_sent() -> None:
    """Given the sample registration, every field is accepted unchanged."""
    request = register()

    assert request._asdict() == VALID


def test_unknown_fields_are_ignored() -> None:
    """Given extra fields (role, user_id), they are dropped, not refused."""
    request = register(role="admin", user_id="someone-else")

    assert not hasattr(request, "role")
    assert not hasattr(request, "user_id")


# Check order: each code wins when its check is the first one failing.
@pytest.mark.parametrize(
    ("changes", "code", "problem_fields"),
    [
        pytest.param(
            {"username": "x", "password": "password", "age": 0, "gender": ...},
            ErrorCode.INVALID_REQUEST,
            ["username", "password", "age", "gender"],
            id="invalid-request-first",
        ),
        pytest.param(
            {"email": "nope", "age": "30"},
            ErrorCode.INVALID_REQUEST,
            ["email", "age"],
            id="invalid-request-over-age",
        ),
        pytest.param(
            {"password": "password", "age": True, "gender": ""},
            ErrorCode.INVALID_PASSWORD,
            ["password", "age", "gender"],
            id="invalid-password-second",
        ),
        pytest.param(
            {"age": 151, "gender": 7},
            ErrorCode.INVALID_AGE,
            ["age", "gender"],
            id="invalid-age-third",
        ),
        pytest.param(
            {"gender": ...},
            ErrorCode.GENDER_REQUIRED,
            ["gender"],
            id="gender-required-last",
        ),
    ],
)
def test_first_failing_check_decides_the_code_and_details_list_all(
    changes: dict[str, Any], code: ErrorCode, problem_fields: list[str]
) -> None:
    """Given several failing checks, the earliest decides the code; details name every field."""
    error = refusal(**changes)

    assert error.code is code
    assert fields(error) == problem_fields


def test_empty_body_lists_every_field() -> None:
    """Given {}, INVALID_REQUEST and one problem per field, in order."""
    with pytest.raises(ApiError) as caught:
        RegisterInput.from_body({})

    assert caught.value.code is ErrorCode.INVALID_REQUEST
    assert fields(caught.value) == ["username", "email", "password", "full_name", "age", "gender"]


def test_details_carry_human_messages() -> None:
    """Given age 0, the single detail says why."""
    error = refusal(age=0)

    assert [(p.field, p.message) for p in error.details] == [
        ("age", "Age must be between 1 and 150.")
    ]


@pytest.mark.parametrize("field", ["username", "email", "password", "full_name"])
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(..., id="missing"),
        pytest.param(None, id="null"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param(12345678, id="number"),
        pytest.param(["x"], id="array"),
    ],
)
def test_required_text_fields_are_invalid_request(field: str, bad: object) -> None:
    """Given a required text field missing, blank or not a string, then INVALID_REQUEST."""
    error = refusal(**{field: bad})

    assert error.code is ErrorCode.INVALID_REQUEST
    assert fields(error) == [field]


@pytest.mark.parametrize(
    "username",
    ["abc", "a" * 32, "John.Doe", "j_d-1", "123", "___", "A.B"],
)
def test_valid_usernames(username: str) -> None:
    """Given 3 to 32 letters, digits, '_', '.' or '-', the username is accepted (with a
    password that does not contain it)."""
    assert register(username=username, password="Kq7#vX!mZr").username == username


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("ab", id="two-chars"),
        pytest.param("a" * 33, id="33-chars"),
        pytest.param("john doe", id="space"),
        pytest.param("john@doe", id="at-sign"),
        pytest.param("john/doe", id="slash"),
        pytest.param("jöhn", id="non-ascii-letter"),
        pytest.param("john\n", id="trailing-newline"),
        pytest.param(" john", id="leading-space"),
        pytest.param("jo\ud800", id="lone-surrogate"),
    ],
)
def test_invalid_usernames(username: str) -> None:
    """Given a username breaking the pattern or length, INVALID_REQUEST on username."""
    error = refusal(username=username)

    assert error.code is ErrorCode.INVALID_REQUEST
    assert fields(error) == ["username"]


def email_with_last_label(length: int) -> str:
    """A syntactically valid address: 64-char local part, labels of at most 63 characters."""
    return f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * length}.com"


@pytest.mark.parametrize(
    "email",
    [
        "john.doe@example.com",
        "JOHN.DOE@EXAMPLE.COM",
        "john+tag@sub.example.co.uk",
        "o'brien@example.ie",
    ],
)
def test_valid_emails(email: str) -> None:
    """Given a syntactically valid address, it is accepted as sent."""
    assert register(email=email).email == email


def test_email_of_254_characters_is_accepted() -> None:
    """Given a valid address of exactly 254 characters, it is accepted."""
    email = email_with_last_label(57)
    assert len(email) == 254

    assert register(email=email).email == email


def test_email_of_255_characters_is_refused() -> None:
    """Given 255 characters, INVALID_REQUEST with the length reason."""
    email = email_with_last_label(58)
    assert len(email) == 255

    error = refusal(email=email)

    assert error.code is ErrorCode.INVALID_REQUEST
    assert [p.message for p in error.details] == ["Email must be at most 254 characters."]


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "john.doe@",
        "@example.com",
        "john doe@example.com",
        "john@doe@example.com",
        "john..doe@example.com",
        "john.doe@example",
        "john.doe@-example.com",
    ],
)
def test_invalid_emails(email: str) -> None:
    """Given a malformed address, INVALID_REQUEST on email."""
    error = refusal(email=email)

    assert error.code is ErrorCode.INVALID_REQUEST
    assert fields(error) == ["email"]


@pytest.mark.parametrize("full_name", ["J", "x" * 100, "é" * 100, "Zoë O'Brien-Søndergaard"])
def test_valid_full_names(full_name: str) -> None:
    """Given up to 100 characters (any script), the full name is accepted."""
    assert register(full_name=full_name).full_name == full_name


@pytest.mark.parametrize("full_name", ["x" * 101, "é" * 101])
def test_full_name_over_100_characters_is_refused(full_name: str) -> None:
    """Given 101 characters, INVALID_REQUEST on full_name."""
    error = refusal(full_name=full_name)

    assert error.code is ErrorCode.INVALID_REQUEST
    assert fields(error) == ["full_name"]


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("secure_password123", id="spec-example-1"),
        pytest.param("test_password", id="spec-example-2"),
        pytest.param("k7#pQ2xz", id="8-characters"),
        pytest.param("日本語の秘密の合言葉", id="10-cjk-characters"),
        pytest.param("z" * 72, id="72-characters"),
        pytest.param("correct horse battery staple", id="passphrase"),
    ],
)
def test_acceptable_passwords(password: str) -> None:
    """Given a password of 8 characters or more that is not common, then it is accepted."""
    assert register(password=password).password == password


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("k7#pQ2x", id="7-characters"),
        pytest.param("日本語", id="3-cjk-characters-9-bytes"),
        pytest.param("🔒" * 7, id="7-emoji-28-bytes"),
        pytest.param("e\u0301" * 4, id="4-characters-after-nfc-8-code-points-before"),
    ],
)
def test_password_length_is_counted_in_characters_after_nfc(password: str) -> None:
    """Given fewer than 8 characters after NFC, however many bytes, INVALID_PASSWORD."""
    error = refusal(password=password)

    assert error.code is ErrorCode.INVALID_PASSWORD
    assert [p.message for p in error.details] == ["Password must be 8 to 128 characters long."]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param(
            {"username": "johndoe", "password": "my-JohnDoe-pass"},
            "Password must not contain the username.",
            id="username-any-case",
        ),
        pytest.param(
            {"email": "Marguerite@example.com", "password": "xmargueritex"},
            "Password must not contain the email address's name.",
            id="email-local-part",
        ),
        pytest.param(
            {"password": "my LockBox vault"},
            'Password must not contain the word "lockbox".',
            id="product-word",
        ),
    ],
)
def test_password_containing_the_accounts_words_is_refused(
    changes: dict[str, str], reason: str
) -> None:
    """Given a password containing the username, the email's local part or "lockbox" in
    any case, INVALID_PASSWORD naming the rule."""
    error = refusal(**changes)

    assert error.code is ErrorCode.INVALID_PASSWORD
    assert [(p.field, p.message) for p in error.details] == [("password", reason)]


def test_short_email_local_part_is_not_a_word() -> None:
    """Given an email whose local part has 3 characters, a password containing it passes."""
    request = register(email="bob@example.com", password="bobsled_journey")

    assert request.password == "bobsled_journey"


@pytest.mark.parametrize(
    "password",
    ["password", "PASSWORD", "Password123", "password1", "12345678", "qwertyuiop", "IloveYou"],
)
def test_common_passwords_are_refused_case_insensitively(password: str) -> None:
    """Given a common password in any case, INVALID_PASSWORD."""
    error = refusal(password=password)

    assert error.code is ErrorCode.INVALID_PASSWORD
    assert fields(error) == ["password"]


def test_password_with_lone_surrogate_is_refused() -> None:
    """Given a password UTF-8 cannot encode, it is refused on field password."""
    error = refusal(password="secure\ud800password")

    assert error.code in {ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_PASSWORD}
    assert fields(error) == ["password"]


def test_nist_policy_has_no_composition_rules() -> None:
    """Given the default policy, a long lower-case-only password is accepted."""
    assert register(password="lowercaseonlypassphrase").password == "lowercaseonlypassphrase"


@pytest.mark.usefixtures("strict_policy")
@pytest.mark.parametrize("password", ["Secure_password123", "Tr0ub4dor&3x", "Ünïcode-Pass9"])
def test_strict_policy_accepts_passwords_with_every_class(password: str) -> None:
    """Given PASSWORD_POLICY=strict, a password with all four classes passes."""
    assert register(password=password).password == password


@pytest.mark.usefixtures("strict_policy")
@pytest.mark.parametrize(
    "password",
    [
        pytest.param("secure_password123", id="no-upper"),
        pytest.param("SECURE_PASSWORD123", id="no-lower"),
        pytest.param("Secure_password", id="no-digit"),
        pytest.param("Securepassword123", id="no-special"),
    ],
)
def test_strict_policy_requires_upper_lower_digit_and_special(password: str) -> None:
    """Given PASSWORD_POLICY=strict, a password lacking one class is INVALID_PASSWORD."""
    error = refusal(password=password)

    assert error.code is ErrorCode.INVALID_PASSWORD
    assert fields(error) == ["password"]


@pytest.mark.parametrize("age", [1, 30, 150])
def test_valid_ages(age: int) -> None:
    """Given an integer from 1 to 150, the age is accepted."""
    assert register(age=age).age == age


@pytest.mark.parametrize(
    "age",
    [
        pytest.param(..., id="missing"),
        pytest.param(None, id="null"),
        pytest.param(0, id="zero"),
        pytest.param(-5, id="negative"),
        pytest.param(151, id="151"),
        pytest.param(10**20, id="huge"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param(30.0, id="float-30.0"),
        pytest.param(30.5, id="float"),
        pytest.param("30", id="string"),
        pytest.param([30], id="array"),
    ],
)
def test_invalid_ages(age: object) -> None:
    """Given an age missing, out of range, or not a JSON integer, INVALID_AGE."""
    error = refusal(age=age)

    assert error.code is ErrorCode.INVALID_AGE
    assert fields(error) == ["age"]


@pytest.mark.parametrize(
    "gender", ["male", "female", "non-binary", "prefer not to say", "x" * 64, "Två-andar"]
)
def test_valid_genders(gender: str) -> None:
    """Given non-blank free text of at most 64 characters, the gender is accepted."""
    assert register(gender=gender).gender == gender


@pytest.mark.parametrize(
    "gender",
    [
        pytest.param(..., id="missing"),
        pytest.param(None, id="null"),
        pytest.param("", id="empty"),
        pytest.param(" \t", id="blank"),
        pytest.param("x" * 65, id="65-chars"),
        pytest.param(1, id="number"),
        pytest.param(True, id="boolean"),
        pytest.param(["male"], id="array"),
    ],
)
def test_invalid_genders(gender: object) -> None:
    """Given a gender missing, blank, too long or not a string, GENDER_REQUIRED."""
    error = refusal(gender=gender)

    assert error.code is ErrorCode.GENDER_REQUIRED
    assert fields(error) == ["gender"]
