"""GET /api/account/activity: one page of the caller's security events, newest first."""

from lockbox.activity.activity_calls import list_activity
from lockbox.activity.activity_inputs import activity_input
from lockbox.core.handler import api_handler

lambda_handler = api_handler(activity_input, list_activity)
