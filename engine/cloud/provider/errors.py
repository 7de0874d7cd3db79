"""The simulated cloud's API errors, shaped like a real cloud's (EC2's error codes).

Every failure of a cloud call is a ``CloudError`` with a ``code`` a caller
can branch on and a ``message`` a human reads, as the AWS SDK's ``awserr``
carries them. Three kinds matter to the controllers: throttling
(``RequestLimitExceeded``, with the seconds after which a retry may succeed,
as an HTTP 429's ``Retry-After`` says), timeouts (``RequestTimeout``: the
caller does not know whether the call took effect, so every controller must
be idempotent), and ``NotFound`` codes (``InvalidInstanceID.NotFound``...)
that mean "the thing is gone", which the node controllers act on.
"""

from __future__ import annotations


class CloudError(Exception):
    """A failed cloud API call: ``code`` (machine-readable), ``message`` (human-readable)."""

    http_status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CloudNotFound(CloudError):
    """The resource does not exist (``InvalidInstanceID.NotFound``, ``InvalidVolume.NotFound``...)."""


class RequestLimitExceeded(CloudError):
    """HTTP 429: too many calls; ``retry_after`` seconds until the bucket has a token again."""

    http_status = 429

    def __init__(self, operation: str, retry_after: float) -> None:
        super().__init__("RequestLimitExceeded", f"Request limit exceeded for {operation}.")
        self.retry_after = retry_after


class RequestTimeout(CloudError):
    """The call timed out on the caller's side: it may or may not have taken effect."""

    http_status = 504

    def __init__(self, operation: str, seconds: float) -> None:
        super().__init__("RequestTimeout", f"{operation}: request timed out after {seconds:g}s")


class InternalError(CloudError):
    """HTTP 500: the cloud failed the call; nothing was done, a retry may succeed."""

    http_status = 500
