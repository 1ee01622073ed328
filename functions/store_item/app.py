"""POST /api/data: store a new key for the caller."""

from lockbox.handler import api_handler
from lockbox.item_inputs import store_input
from lockbox.items import store_item

lambda_handler = api_handler(store_input, store_item)
