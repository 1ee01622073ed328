"""Powertools logger, tracer and metrics shared by every function of the service.

Instances of one service name share their state, so handlers and layer modules
log, trace and count through the same objects.
"""

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# Only registration and login publish metrics; the other functions flush none by design.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])  # the only traced library; patching more costs start-up
metrics = Metrics()
