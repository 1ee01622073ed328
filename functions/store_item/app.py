"""POST /api/data: store a new key for the caller."""

from lockbox.core.handler import api_handler
from lockbox.items.item_calls import store_item
from lockbox.items.item_inputs import store_input

lambda_handler = api_handler(store_input, store_item)
