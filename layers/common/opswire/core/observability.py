"""The one Logger and Metrics of the package (configured by POWERTOOLS_* variables).

Tracing comes from ``Tracing: Active`` on the functions and state machines: Lambda and Step
Functions emit the segments themselves. The Powertools Tracer is deliberately not used: importing
the X-Ray SDK creates a botocore session and costs about as much as ``import boto3`` on every cold
start (see bench/cold_start.py), which alone would break the cold-start budget.
"""

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
