"""Lockbox: shared code of the Lockbox API's Lambda functions.

Modules are imported on demand by each function, so a function only pays the
start-up cost of what it uses (the authorizer never imports boto3 or pydantic).
"""

from lockbox.core.startup import pause_collection

pause_collection()  # until the first invocation has answered (lockbox/core/startup.py)
