"""POST /api/batch/write: up to 100 stores, updates and deletes, all or nothing."""

from lockbox.core.handler import api_handler
from lockbox.items.item_calls import batch_write
from lockbox.items.item_inputs import batch_write_input

lambda_handler = api_handler(batch_write_input, batch_write)
