"""PUT /api/data/{key}: replace the value of one of the caller's keys."""

from lockbox.handler import api_handler
from lockbox.item_inputs import update_input
from lockbox.items import update_item

lambda_handler = api_handler(update_input, update_item)
