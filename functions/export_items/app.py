"""GET /api/export: the caller's account and every key, whole, a page at a time."""

from lockbox.core.handler import api_handler
from lockbox.items.item_calls import export_items
from lockbox.items.item_inputs import export_input

lambda_handler = api_handler(export_input, export_items)
