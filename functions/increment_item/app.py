"""POST /api/data/{key}/increment: add a number to one of the caller's keys, exactly."""

from lockbox.core.handler import api_handler
from lockbox.items.item_calls import increment_item
from lockbox.items.item_inputs import increment_input

lambda_handler = api_handler(increment_input, increment_item)
