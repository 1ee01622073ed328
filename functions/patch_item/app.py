"""PATCH /api/data/{key}: apply a JSON merge patch to one of the caller's values."""

from lockbox.core.handler import api_handler
from lockbox.items.item_calls import patch_item
from lockbox.items.item_inputs import patch_input

lambda_handler = api_handler(patch_input, patch_item)
