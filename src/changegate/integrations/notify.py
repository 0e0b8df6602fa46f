"""Notification adapters: email through an SMTP relay, a Slack-compatible incoming webhook.

What these rely on, and where it is documented:

- SMTP (RFC 5321) through `smtplib`: one connection per message, so a relay that drops us
  mid-batch costs one message an attempt, not the batch. STARTTLS before AUTH when configured.
  Any reply other than success raises `smtplib.SMTPException`; a refused or timed-out
  connection raises `OSError`. Both become IntegrationError, with the SMTP reply code when the
  relay gave one (an SMTP 550 is not an HTTP 550, hence `protocol="SMTP"`).
- The message (RFC 5322): `Message-ID` is built from the outbox row id and the event key, so
  the copy a worker sends again after dying between the send and the bookkeeping carries the
  same id and a receiver (or a mail filter) can drop it. `Date` is when the event was queued,
  not when a retry finally got through. `Auto-Submitted: auto-generated` (RFC 3834) keeps
  vacation responders from answering a robot.
- Slack incoming webhooks: `POST` JSON `{"text": ...}`, 200 with body `ok` on success; failures
  are 400 invalid_payload, 403 action_prohibited, 404 channel_not_found, 410
  channel_is_archived, 500 rollup_error, each with that string as a plain-text body.
  https://api.slack.com/messaging/webhooks
  https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
  Text is mrkdwn: `&`, `<`, `>` must be escaped (and only those), or a subject such as
  "<!channel>" would ping a whole channel.
  https://api.slack.com/reference/surfaces/formatting#escaping
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Final
from urllib.parse import urlsplit

import httpx

from changegate.integrations.ports import IntegrationError, OutgoingMessage

SMTP_TIMEOUT: Final = 10.0
ERROR_DETAIL: Final = 200  # a relay's or Slack's error text is kept, but not a whole page of it
_NOT_ATOM = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True)
class SmtpRelay:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout: float = SMTP_TIMEOUT


Connect = Callable[[str, int, float], smtplib.SMTP]


def _connect(host: str, port: int, timeout: float) -> smtplib.SMTP:
    return smtplib.SMTP(host, port, timeout=timeout)


def message_id(message: OutgoingMessage, sender: str) -> str:
    """Stable for a row: `<changegate.<id>.<event slug>.<hash>@<sender's domain>>`.

    The slug is for people reading headers; the hash keeps two event keys that slug alike
    (`a:b` and `a.b`) apart; the domain is the sender's, as RFC 5322 suggests.
    """
    _, at, domain = parseaddr(sender)[1].rpartition("@")
    domain = domain if at and domain else "changegate.invalid"
    slug = _NOT_ATOM.sub("-", message.event_key).strip("-")[:60] or "event"
    digest = hashlib.sha256(message.event_key.encode()).hexdigest()[:12]
    return f"<changegate.{message.outbox_id}.{slug}.{digest}@{domain}>"


class SmtpNotifier:
    """Sends each notification as one plain-text email to its recipient."""

    def __init__(
        self, relay: SmtpRelay, connect: Connect = _connect, tls: ssl.SSLContext | None = None
    ) -> None:
        self.relay = relay
        self.endpoint = f"smtp://{relay.host}:{relay.port}"
        self._connect = connect
        self._tls = tls

    def compose(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.relay.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = format_datetime(message.created_at)
        email["Message-ID"] = message_id(message, self.relay.sender)
        email["Auto-Submitted"] = "auto-generated"
        email["X-Changegate-Event"] = message.event_key
        email.set_content(message.body)
        return email

    def send(self, message: OutgoingMessage) -> None:
        email = self.compose(message)
        relay = self.relay
        try:
            with self._connect(relay.host, relay.port, relay.timeout) as smtp:
                if relay.starttls:
                    smtp.starttls(context=self._tls or ssl.create_default_context())
                if relay.username and relay.password:
                    smtp.login(relay.username, relay.password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise IntegrationError(self.endpoint, code, _text(reply), "SMTP") from None
        except smtplib.SMTPResponseException as exc:
            raise IntegrationError(
                self.endpoint, exc.smtp_code, _text(exc.smtp_error), "SMTP"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            # Refused, reset, timed out, TLS failed, or the relay hung up: no reply to report.
            raise IntegrationError(self.endpoint, None, _describe(exc)) from None


class SlackNotifier:
    """Posts each notification to a Slack (or Mattermost, Rocket.Chat...) incoming webhook."""

    def __init__(self, webhook_url: str, client: httpx.Client) -> None:
        self.webhook_url = webhook_url
        # The URL's path is the credential: errors and logs name the host only.
        self.endpoint = f"Slack webhook at {urlsplit(webhook_url).hostname}"
        self._client = client

    def send(self, message: OutgoingMessage) -> None:
        try:
            response = self._client.post(
                self.webhook_url, json={"text": slack_text(message)}, follow_redirects=False
            )
        except httpx.HTTPError as exc:
            raise IntegrationError(self.endpoint, None, self._scrub(_describe(exc))) from None
        if not response.is_success:
            raise IntegrationError(
                self.endpoint,
                response.status_code,
                self._scrub(_text(response.text) or response.reason_phrase),
            )

    def _scrub(self, text: str) -> str:
        """The peer's reply without the webhook's secret: a proxy or a gateway may echo the URL
        (or its path, or its token segments) in an error page, which is then logged and stored."""
        parts = urlsplit(self.webhook_url)
        secrets = [self.webhook_url, parts.path, parts.query]
        secrets += [p for p in parts.path.split("/") if len(p) >= 6]
        for secret in sorted(filter(None, secrets), key=len, reverse=True):
            text = text.replace(secret, "[redacted]")
        return text


def slack_text(message: OutgoingMessage) -> str:
    """The text a Slack post carries for `message` (what a reader of the channel sees)."""
    return f"*{_mrkdwn(message.subject)}*\n{_mrkdwn(message.body)}"


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text(reply: bytes | str) -> str:
    raw = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(raw.split())[:ERROR_DETAIL]


def _describe(exc: BaseException) -> str:
    detail = str(exc).strip() or type(exc).__name__
    return _text(detail)
