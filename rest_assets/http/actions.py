"""Response actions (dlt's `response_actions`): what to do with a response before its status
is judged.

The rules are dlt 1.31's, entry by entry in list order:

- a bare callable applies to every response;
- a dict matches on `status_code` (the response's status equals it) and/or `content` (a
  substring of the body); with neither, it matches every response;
- its `action` is "ignore" (stop this walk quietly: no records from this response and no
  further pages), a callable, or a list of callables;
- every matching entry runs, in order (not only the first); an "ignore" ends the list, so
  entries after it never see that response;
- a callable gets the response and may change it in place (`response._content`,
  `response.encoding`) or return a new one; unlike dlt, which drops the return value
  although its docs ask for one, a returned Response replaces the original.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests

from rest_assets.errors import ConfigError
from rest_assets.http.request import Reply

ResponseAction = Mapping[str, Any] | Callable[[requests.Response], Any]


class Ignore(Exception):
    """A response action said "ignore": stop this walk quietly."""

    def __init__(self, status: int | None = None) -> None:
        super().__init__(f"ignored a response with status {status}")
        self.status = status


def apply_actions(reply: Reply, actions: Sequence[ResponseAction]) -> Reply:
    """`reply` after every action that matches it; raises Ignore when one says so."""
    if not actions:
        return reply
    response = reply.response
    hooked = False
    for action in actions:
        if callable(action) and not isinstance(action, Mapping):
            response, hooked = _call_hook(action, response), True
            continue
        if not _matches(action, response):
            continue
        todo = action.get("action")
        steps = todo if isinstance(todo, list | tuple) else [todo]
        for step in steps:
            if step == "ignore":
                raise Ignore(response.status_code)
            if not callable(step):
                raise ConfigError(
                    f"response action {todo!r} is not 'ignore', a callable or a list of callables"
                )
            response, hooked = _call_hook(step, response), True
    # a hook may have replaced the response or its content: the body is what it holds now
    return Reply(response, response.content or b"") if hooked else reply


def _call_hook(hook: Callable[..., Any], response: requests.Response) -> requests.Response:
    result = hook(response)
    return result if isinstance(result, requests.Response) else response


def _matches(action: Mapping[str, Any], response: requests.Response) -> bool:
    status = action.get("status_code")
    content = action.get("content")
    if status is not None:
        statuses = status if isinstance(status, list | tuple | set) else [status]
        if response.status_code not in {int(s) for s in statuses}:
            return False
    return content is None or str(content) in response.text
