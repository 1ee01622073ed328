"""Powertools logger, tracer and metrics shared by every function of the service.

Instances of one service name share their state, so handlers and layer modules
log, trace and count through the same objects.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
