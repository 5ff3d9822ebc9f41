"""The wizard's one error type."""

from __future__ import annotations

from rest_assets.errors import RestAssetsError


class WizardError(RestAssetsError):
    """The wizard cannot go on; the message says why and what to do."""
