"""The Lambda function's settings, read from its environment.

``OBJLEN_ENDPOINT`` (required: the SageMaker endpoint), ``AWS_REGION`` (set by
Lambda; ``OBJLEN_REGION`` overrides it), ``OBJLEN_ENDPOINT_URL`` (another
runtime URL, e.g. ``python -m objlen serve``), ``OBJLEN_TIMEOUT_S`` (longest
wait for the model, default 60), ``OBJLEN_MAX_ATTEMPTS`` (calls per request,
retries included, default 2), ``OBJLEN_API_TIMEOUT_S`` (default 29),
``OBJLEN_MAX_PIXELS`` (default 50 000 000) and ``OBJLEN_CORS_ORIGIN``
(default ``*``). :data:`ENVIRONMENT_VARIABLES` lists them all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from objlen.serverless.response import HttpError

#: Seconds API Gateway waits for the integration (REST API default; HTTP API: 30).
DEFAULT_API_TIMEOUT_S = 29.0
#: Longest wait for the model, seconds (SageMaker's own limit is 60 s).
DEFAULT_MODEL_TIMEOUT_S = 60.0
#: Calls to the endpoint per request, the first included.
DEFAULT_MAX_ATTEMPTS = 2
#: Largest photo decoded, in pixels (a 12 MP photo needs about 36 MB as RGB).
DEFAULT_MAX_PIXELS = 50_000_000
#: Environment variables the handler reads (besides AWS's own for credentials).
ENVIRONMENT_VARIABLES = (
    "OBJLEN_ENDPOINT",
    "OBJLEN_REGION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "OBJLEN_ENDPOINT_URL",
    "OBJLEN_TIMEOUT_S",
    "OBJLEN_MAX_ATTEMPTS",
    "OBJLEN_API_TIMEOUT_S",
    "OBJLEN_MAX_PIXELS",
    "OBJLEN_CORS_ORIGIN",
)


@dataclass(frozen=True)
class HandlerConfig:
    """The handler's settings, from the environment (see :meth:`from_environ`)."""

    endpoint_name: str
    region: str
    endpoint_url: str | None = None
    model_timeout_s: float = DEFAULT_MODEL_TIMEOUT_S
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    api_timeout_s: float = DEFAULT_API_TIMEOUT_S
    max_pixels: int = DEFAULT_MAX_PIXELS
    cors_origin: str = "*"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> HandlerConfig:
        """Read :data:`ENVIRONMENT_VARIABLES`.

        Raises:
            HttpError: 500 ``not_configured`` when a value is missing or wrong
                (the detail, for the log, names it).
        """
        endpoint = environ.get("OBJLEN_ENDPOINT", "").strip()
        region = (
            environ.get("OBJLEN_REGION")
            or environ.get("AWS_REGION")
            or environ.get("AWS_DEFAULT_REGION")
            or ""
        ).strip()
        problems = []
        if not endpoint:
            problems.append("OBJLEN_ENDPOINT (the SageMaker endpoint name) is not set")
        if not region:
            problems.append("AWS_REGION is not set")
        try:
            config = cls(
                endpoint_name=endpoint,
                region=region,
                endpoint_url=environ.get("OBJLEN_ENDPOINT_URL", "").strip() or None,
                model_timeout_s=_env_number(environ, "OBJLEN_TIMEOUT_S", DEFAULT_MODEL_TIMEOUT_S),
                max_attempts=int(
                    _env_number(environ, "OBJLEN_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, integer=True)
                ),
                api_timeout_s=_env_number(environ, "OBJLEN_API_TIMEOUT_S", DEFAULT_API_TIMEOUT_S),
                max_pixels=int(
                    _env_number(environ, "OBJLEN_MAX_PIXELS", DEFAULT_MAX_PIXELS, integer=True)
                ),
                cors_origin=cors_origin(environ),
            )
        except ValueError as exc:
            problems.append(str(exc))
            config = None
        if problems or config is None:
            raise HttpError(
                500,
                "not_configured",
                "the service is not configured correctly; its operator has to fix it",
                detail="; ".join(problems),
            )
        return config


def _env_number(
    environ: Mapping[str, str], name: str, default: float, *, integer: bool = False
) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0 or (integer and value != int(value)):
        raise ValueError(f"{name}={text!r} must be a positive {'integer' if integer else 'number'}")
    return value


def cors_origin(environ: Mapping[str, str]) -> str:
    """The ``Access-Control-Allow-Origin`` value: ``OBJLEN_CORS_ORIGIN`` or ``*``."""
    return environ.get("OBJLEN_CORS_ORIGIN", "").strip() or "*"


__all__ = [
    "DEFAULT_API_TIMEOUT_S",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MODEL_TIMEOUT_S",
    "ENVIRONMENT_VARIABLES",
    "HandlerConfig",
    "cors_origin",
]
