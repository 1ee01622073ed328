"""What every function shares: the handler wiring, reading the proxy event, the response
formats and error codes, validation, exact JSON, settings, observability, and the one
seam to DynamoDB. Submodules are imported where used, never here (cold starts)."""
