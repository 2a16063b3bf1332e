"""The errors of actions: `ActionError` (refused at creation), `ActionFailed` (at run time)."""

from __future__ import annotations

from tasks_core.errors import TasksCoreError, ValidationError

__all__ = ["ActionError", "ActionFailed"]


class ActionError(ValidationError):
    """An action that cannot be saved: a bad field, an invalid template, an unknown
    deployment or work pool; the message names the action, the field and the fix."""


class ActionFailed(TasksCoreError):
    """An action that ran and did not do its work (its target missing, a refused state
    change, a render error, a failed delivery, a webhook answering >= 400). The only error
    `execute_action` raises; the engine records it and carries on.

    Attributes:
        retryable: the failure may pass if the action runs again later (Redis was away);
            False for failures that would repeat (a missing target, a refused change).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
