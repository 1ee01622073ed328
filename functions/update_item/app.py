"""PUT /api/data/{key}: replace the value of one of the caller's keys."""

from lockbox.core.handler import api_handler
from lockbox.items.item_calls import update_item
from lockbox.items.item_inputs import update_input

lambda_handler = api_handler(update_input, update_item)
