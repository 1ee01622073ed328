"""The users table's stream, filtered to removed profiles: purge each deleted user's items."""

from lockbox.core.handler import stream_handler
from lockbox.items.purge import purge_deleted_users

lambda_handler = stream_handler(purge_deleted_users)
