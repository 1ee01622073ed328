"""The users table's stream, filtered to removed profiles: purge each deleted user's items."""

from lockbox.handler import stream_handler
from lockbox.purge import purge_deleted_users

lambda_handler = stream_handler(purge_deleted_users)
