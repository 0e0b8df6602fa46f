"""Outbox notifications: their statuses and the one table of how a status moves."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from changegate.domain.states import step

# Where a notification goes: email and Slack through the worker, or changegate's own inbox
# (delivered on write) when neither is configured.
EMAIL: Final = "email"
SLACK: Final = "slack"
INBOX: Final = "inbox"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class NotificationAction(StrEnum):
    DELIVER = "deliver"
    FAIL = "fail"  # a failed attempt; it will be tried again
    GIVE_UP = "give_up"  # the last attempt failed: a dead letter, kept for an administrator
    RETRY = "retry"  # an administrator's "send it again now"


S, A = NotificationStatus, NotificationAction

TRANSITIONS: Final[Mapping[tuple[NotificationStatus, NotificationAction], NotificationStatus]] = {
    (S.PENDING, A.DELIVER): S.DELIVERED,
    (S.PENDING, A.FAIL): S.PENDING,
    (S.PENDING, A.GIVE_UP): S.DEAD,
    (S.PENDING, A.RETRY): S.PENDING,
    (S.DEAD, A.RETRY): S.PENDING,
}


def transition(current: NotificationStatus, action: NotificationAction) -> NotificationStatus:
    return step(TRANSITIONS, current, action, subject="notification")


def after_failure(attempts: int, max_attempts: int) -> NotificationAction:
    return A.GIVE_UP if attempts >= max_attempts else A.FAIL
