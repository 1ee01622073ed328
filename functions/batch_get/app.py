"""POST /api/batch/get: read up to 100 of the caller's keys in one call."""

from lockbox.core.handler import api_handler
from lockbox.items.item_calls import batch_get
from lockbox.items.item_inputs import batch_get_input

lambda_handler = api_handler(batch_get_input, batch_get)
