"""Exceptions raised by rest-assets. Every message is safe to log: secrets are redacted."""

from __future__ import annotations


class RestAssetsError(Exception):
    """Base class of every error rest-assets raises on purpose."""


class ConfigError(RestAssetsError):
    """The configuration is invalid; the message names the field path and the fix."""


class MissingEnvVarError(RestAssetsError):
    """A `${VAR}` or `*_env` reference names an environment variable that is not set."""

    def __init__(self, name: str, where: str = "") -> None:
        self.name = name
        location = f" (used by {where})" if where else ""
        super().__init__(
            f"environment variable {name} is not set{location}; export it, or add it to "
            "the .env file beside the config or to the project's .dlt/secrets.toml"
        )


class HTTPStatusError(RestAssetsError):
    """An HTTP request failed for good. The message names resource, redacted URL and status."""

    def __init__(self, message: str, status: int | None = None, url: str = "") -> None:
        self.status = status
        self.url = url
        super().__init__(message)


class PaginationLoopError(RestAssetsError):
    """A paginator was handed the same next page twice: following it would never end."""


class HTTPConnectionError(HTTPStatusError):
    """A request never got a response (connection refused, timeout) even after retries.

    A subclass of HTTPStatusError with `status` None, so one `except` handles both.
    """


class ResponseFormatError(RestAssetsError):
    """A successful response whose body is not the JSON the client expects."""


class ResponseTooLargeError(ResponseFormatError):
    """A response body exceeded the client's `max_response_bytes`; it was not kept in memory."""


class AuthError(RestAssetsError):
    """Authentication could not be set up, e.g. an OAuth2 token request failed."""
