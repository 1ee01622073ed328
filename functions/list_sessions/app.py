"""GET /api/sessions: the caller's live sessions, newest first."""

from lockbox.core.handler import api_handler
from lockbox.sessions.session_calls import list_sessions
from lockbox.sessions.session_inputs import session_caller

lambda_handler = api_handler(session_caller, list_sessions)
