"""DELETE /api/sessions/{session_id}: end one live session of the caller's."""

from lockbox.core.handler import api_handler
from lockbox.sessions.session_calls import delete_session
from lockbox.sessions.session_inputs import delete_session_input

lambda_handler = api_handler(delete_session_input, delete_session)
