"""The users table's keys: every kind of item it holds, and the one place that builds them.

One table holds six kinds of item, each keyed by `pk`:
- `USER#<user_id>`: the profile (lockbox.accounts.account_records);
- `USERNAME#<username, lower-cased>` and `EMAIL#<canonical email>`: markers that make
  usernames (case-insensitively) and mailboxes (lockbox.accounts.emails.canonical_email)
  unique, and serve as the login records: they hold the user id, the password hash, the
  address as sent and the name (for the /users login's answer), and the name's login
  attempt count (lockbox.sessions.attempt_records), which may exist before any account
  has the name;
- `SESSION#<sid>`: sessions (lockbox.sessions.session_records);
- `EVENT#<user_id>#<time>#<nonce>`: the user's security activity, kept 90 days
  (lockbox.activity.activity_records);
- `MFATOKEN#<jti>`: a spent mfa_token (lockbox.mfa.mfa_records), until its expiry;
- `PURGE#<user_id>`: a deleted account's recheck marker, written by the purge; DynamoDB's
  TTL removes it once no cached authorizer decision of the account can still store a key,
  and that removal purges the user's items a second time (lockbox.items.purge);
- `MAIL#<kind>#<subject>`: a mail request (lockbox.mail.mail_records), which the users
  table's stream hands to the mail sender; kept until its TTL as the address's rate limit.

The sparse index OWNER_INDEX (`owner`, `ordered_at`) lists a user's sessions (`owner` = the
user id) and their activity (`owner` = activity_owner) newest first.
"""

from __future__ import annotations

from lockbox.accounts.emails import canonical_email

PROFILE = "USER#"
USERNAME_MARKER = "USERNAME#"
EMAIL_MARKER = "EMAIL#"
SESSION = "SESSION#"
RECHECK_MARKER = "PURGE#"
ACTIVITY = "EVENT#"
MFA_TOKEN = "MFATOKEN#"  # noqa: S105 (a key prefix, not a token)
MAIL_REQUEST = "MAIL#"
OWNER_INDEX = "ByOwner"


def user_pk(user_id: str) -> str:
    return f"{PROFILE}{user_id}"


def username_pk(username: str) -> str:
    return f"{USERNAME_MARKER}{username.lower()}"


def email_pk(email: str) -> str:
    return f"{EMAIL_MARKER}{canonical_email(email)}"


def login_pk(login: str) -> str:
    """The marker to read for a login name: an email address, or else a username."""
    return email_pk(login) if "@" in login else username_pk(login)


def session_pk(session_id: str) -> str:
    return f"{SESSION}{session_id}"


def mfa_token_pk(jti: str) -> str:
    return f"{MFA_TOKEN}{jti}"


def activity_owner(user_id: str) -> str:
    """The `owner` of a user's activity events in OWNER_INDEX."""
    return f"{ACTIVITY}{user_id}"


def event_pk(user_id: str, at: int, nonce: str) -> str:
    return f"{activity_owner(user_id)}#{at}#{nonce}"


def recheck_pk(user_id: str) -> str:
    return f"{RECHECK_MARKER}{user_id}"


def recheck_owner(pk: str) -> str | None:
    """The user id of a recheck marker's key; None for any other kind of item."""
    return pk.removeprefix(RECHECK_MARKER) if pk.startswith(RECHECK_MARKER) else None


def profile_owner(pk: str) -> str | None:
    """The user id of a profile's key; None for any other kind of item."""
    return pk.removeprefix(PROFILE) if pk.startswith(PROFILE) else None


def mail_pk(kind: str, subject: str) -> str:
    """A mail request's key: its kind, then the user id or canonical address it is about."""
    return f"{MAIL_REQUEST}{kind}#{subject}"


def mail_request_of(pk: str) -> tuple[str, str] | None:
    """The (kind, subject) of a mail request's key; None for any other kind of item."""
    if not pk.startswith(MAIL_REQUEST):
        return None
    kind, _, subject = pk.removeprefix(MAIL_REQUEST).partition("#")
    return kind, subject
