"""Logger, Metrics and Tracer shared by every function, with phone numbers masked in all logs."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from optin.masking import mask


class MaskingFormatter(LambdaPowertoolsFormatter):
    """JSON log lines in which every phone-number-like run of digits keeps only its last four."""

    def serialize(self, log: Any) -> str:
        return mask(super().serialize(log))


NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SmsOptin"
logger = Logger(logger_formatter=MaskingFormatter())
metrics = Metrics(namespace=NAMESPACE)
tracer = Tracer(patch_modules=("botocore",))


def count(name: str, **dimensions: str) -> None:
    """Count one occurrence of ``name``; with dimensions it is emitted as its own metric line."""
    if not dimensions:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)
