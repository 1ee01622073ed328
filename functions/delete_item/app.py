"""DELETE /api/data/{key}: delete one of the caller's keys."""

from lockbox.handler import api_handler
from lockbox.item_inputs import delete_input
from lockbox.items import delete_item

lambda_handler = api_handler(delete_input, delete_item)
