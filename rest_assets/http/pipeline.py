"""The layers one call's requests go through, outermost first:

    attempts (retries, one re-auth after a 401)
      -> response actions (on each attempt's final response)
        -> redirects (each hop checked against the trusted origins)
          -> hop (one request on the wire, its body read within the limits)

Each layer holds one rule; `RestClient` assembles them per call (so a changed client
setting applies to the next call) and drives them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rest_assets.http.actions import ResponseAction, apply_actions
from rest_assets.http.attempts import Attempts
from rest_assets.http.redirects import Redirects
from rest_assets.http.request import Reply, RequestSpec


class Pipeline:
    """Sends RequestSpecs through attempts -> actions -> redirects -> hop."""

    def __init__(self, attempts: Attempts, redirects: Redirects) -> None:
        self._attempts = attempts
        self._redirects = redirects

    def send(
        self,
        request: RequestSpec,
        actions: Sequence[ResponseAction] = (),
        follow_redirects: bool = True,
    ) -> Reply:
        """The final reply of `request` (raises `actions.Ignore` when an action says so)."""

        def once() -> Reply:
            return apply_actions(self._redirects.send(request, follow_redirects), actions)

        return self._attempts.send(request, once)
