"""The contract's error codes and the exception that carries one to the client."""

from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple


class ErrorCode(Enum):
    """Every error the API answers with: HTTP status and the contract's exact message."""

    INVALID_REQUEST = (
        400,
        "Invalid request. Please provide all required fields: username, email, password, full_name.",
    )
    USERNAME_EXISTS = (
        409,
        "The provided username is already taken. Please choose a different username.",
    )
    EMAIL_EXISTS = (
        409,
        "The provided email is already registered. Please use a different email address.",
    )
    INVALID_PASSWORD = (400, "The provided password does not meet the requirements.")
    INVALID_AGE = (400, "Invalid age value. Age must be a positive integer.")
    GENDER_REQUIRED = (
        400,
        "Gender field is required. Please specify the gender (e.g., male, female, non-binary).",
    )
    MISSING_FIELDS = (400, "Missing fields. Please provide both username and password.")
    INVALID_CREDENTIALS = (
        401,
        "Invalid credentials. The provided username or password is incorrect.",
    )
    INVALID_KEY = (400, "The provided key is not valid or missing.")
    INVALID_VALUE = (400, "The provided value is not valid or missing.")
    KEY_EXISTS = (
        409,
        "The provided key already exists in the database. To update an existing key, use the update API.",
    )
    KEY_NOT_FOUND = (404, "The provided key does not exist in the database.")
    INVALID_TOKEN = (401, "Invalid access token provided.")
    INVALID_REFRESH_TOKEN = (401, "Invalid or expired refresh token.")
    INVALID_TTL = (
        400,
        "The provided ttl is not valid. It must be a whole number of seconds from 1 to 31536000.",
    )
    INVALID_PARAMETER = (400, "A query parameter is not valid.")
    PRECONDITION_FAILED = (412, "The key was changed by another request. Read it again and retry.")
    MFA_REQUIRED = (401, "A second factor is required.")
    INVALID_MFA_CODE = (401, "The code is not valid.")
    MFA_ALREADY_ENABLED = (409, "Two-factor authentication is already on.")
    MFA_NOT_ENABLED = (409, "Two-factor authentication is not on.")
    INVALID_EMAIL_TOKEN = (400, "The link is invalid, has expired or was already used.")
    EMAIL_NOT_VERIFIED = (403, "Please verify your email address first.")
    SESSION_NOT_FOUND = (404, "The session does not exist or has ended.")
    INVALID_METADATA = (
        400,
        "The provided metadata is not valid. It must be a JSON object of at most 1024 bytes.",
    )
    VALUE_NOT_A_NUMBER = (409, "The stored value is not a number.")
    NOT_FOUND = (404, "The requested resource was not found.")
    TOO_MANY_REQUESTS = (429, "Too many requests. Please try again later.")
    INTERNAL_ERROR = (500, "An internal server error occurred. Please try again later.")

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def message(self) -> str:
        return self.value[1]


class Detail(NamedTuple):
    """One entry of an error's `details`: a field and why it was refused."""

    field: str
    message: str


class ApiError(Exception):
    """A request the API refuses, answered with the code's status and message."""

    def __init__(
        self,
        code: ErrorCode,
        details: list[Detail] | None = None,
        headers: dict[str, str] | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code.name)
        self.code = code
        self.details = details or []
        self.headers = headers or {}  # e.g. Retry-After on TOO_MANY_REQUESTS
        self.data = data  # only MFA_REQUIRED's mfa_token: the one error that carries data
