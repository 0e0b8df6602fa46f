"""The notification adapters against real peers: an SMTP server and an incoming webhook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from changegate.integrations.notify import (
    SlackNotifier,
    SmtpNotifier,
    SmtpRelay,
    message_id,
    slack_text,
)
from changegate.integrations.ports import IntegrationError, OutgoingMessage
from tests.integrations.fake_notify import FakeRelay, FakeSlack, free_port, self_signed

SENDER = "changegate <changegate@casper.example>"
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def make_message(**overrides: object) -> OutgoingMessage:
    fields: dict[str, object] = {
        "outbox_id": 7,
        "event_key": "finding.reported:FND-3",
        "recipient": "ivy@example.com",
        "subject": "FND-3: unapproved production change",
        "body": "Review it by Friday.\n",
        "created_at": AT,
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


def body(mail: EmailMessage) -> str:
    return str(mail.get_content()).replace("\r\n", "\n")  # SMTP carries lines as CRLF


@pytest.fixture
def relay() -> Iterator[FakeRelay]:
    with FakeRelay() as fake:
        yield fake


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0, follow_redirects=False) as c:
        yield c


def smtp(relay: FakeRelay, **overrides: object) -> SmtpNotifier:
    fields: dict[str, object] = {
        "host": "127.0.0.1",
        "port": relay.port,
        "sender": SENDER,
        "timeout": 5.0,
    }
    fields.update(overrides)
    return SmtpNotifier(SmtpRelay(**fields))  # type: ignore[arg-type]


def test_email_arrives_with_headers_a_receiver_can_deduplicate_on(relay: FakeRelay) -> None:
    notifier = smtp(relay)
    notifier.send(make_message())
    notifier.send(make_message())  # a worker that died after sending sends it again

    assert len(relay.received) == 2
    first, second = relay.received
    assert first.mail_from == "changegate@casper.example"
    assert first.rcpt_tos == ("ivy@example.com",)
    mail = first.message
    assert mail["Subject"] == "FND-3: unapproved production change"
    assert mail["To"] == "ivy@example.com"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert parsedate_to_datetime(str(mail["Date"])) == AT  # when it happened, not when sent
    assert body(mail) == "Review it by Friday.\n"
    expected_id = "<changegate.7.finding-reported-FND-3.{}@casper.example>"
    assert mail["Message-ID"] == second.message["Message-ID"]
    assert str(mail["Message-ID"]).startswith(expected_id.split("{}", maxsplit=1)[0])


def test_message_id_is_stable_and_distinct_per_row_and_event() -> None:
    base = message_id(make_message(), SENDER)
    assert base == message_id(make_message(), SENDER)
    assert base != message_id(make_message(outbox_id=8), SENDER)
    # Two keys that slug alike still differ, thanks to the hash.
    assert message_id(make_message(event_key="a:b"), SENDER) != message_id(
        make_message(event_key="a.b"), SENDER
    )
    assert message_id(make_message(), "no-domain").endswith("@changegate.invalid>")


def test_non_ascii_subject_and_body_survive(relay: FakeRelay) -> None:
    smtp(relay).send(make_message(subject="Änderung CHG-9 genehmigt ✓", body="Grüße\n"))
    mail = relay.received[0].message
    assert mail["Subject"] == "Änderung CHG-9 genehmigt ✓"
    assert body(mail) == "Grüße\n"


def test_relay_down_is_an_integration_error_without_a_reply_code() -> None:
    notifier = SmtpNotifier(SmtpRelay("127.0.0.1", free_port(), SENDER, timeout=2.0))
    with pytest.raises(IntegrationError) as caught:
        notifier.send(make_message())
    assert caught.value.status is None
    assert str(caught.value).startswith("smtp://127.0.0.1:")
    assert "no response" in str(caught.value)


def test_refused_recipient_carries_the_smtp_code(relay: FakeRelay) -> None:
    relay.refuse.add("ivy@example.com")
    with pytest.raises(IntegrationError) as caught:
        smtp(relay).send(make_message())
    assert caught.value.status == 550
    assert "SMTP 550" in str(caught.value)
    assert "User unknown" in str(caught.value)
    assert relay.received == []


def test_login_on_a_local_relay(tmp_path: Path) -> None:
    with FakeRelay(credentials=("changegate", "s3cret")) as relay:
        smtp(relay, username="changegate", password="s3cret").send(make_message())
        assert relay.received[0].login == "changegate"
        with pytest.raises(IntegrationError) as caught:
            smtp(relay, username="changegate", password="wrong").send(make_message())
    assert caught.value.status == 535
    assert "s3cret" not in str(caught.value) and "wrong" not in str(caught.value)


def test_starttls_before_login(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path)
    with FakeRelay(credentials=("changegate", "s3cret"), starttls=server_tls) as relay:
        notifier = SmtpNotifier(
            SmtpRelay(
                "127.0.0.1", relay.port, SENDER, "changegate", "s3cret", starttls=True, timeout=5.0
            ),
            tls=client_tls,
        )
        notifier.send(make_message())
        assert relay.received[0].tls
        assert relay.received[0].login == "changegate"
        # Without STARTTLS this relay does not even offer AUTH: the password is never sent.
        with pytest.raises(IntegrationError) as caught:
            smtp(relay, username="changegate", password="s3cret").send(make_message())
    assert "AUTH extension not supported" in str(caught.value)
    assert len(relay.received) == 1


def test_starttls_with_an_untrusted_certificate_fails(tmp_path: Path) -> None:
    server_tls, _ = self_signed(tmp_path)
    with FakeRelay(starttls=server_tls) as relay, pytest.raises(IntegrationError) as caught:
        smtp(relay, starttls=True).send(make_message())  # the system trust store
    assert caught.value.status is None
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert relay.received == []


def test_slack_post_carries_subject_and_body_as_escaped_mrkdwn(
    slack: FakeSlack, client: httpx.Client
) -> None:
    message = make_message(subject="FND-3 <!channel> R&D", body="see <https://x> & reply")
    SlackNotifier(slack.webhook_url, client).send(message)
    assert len(slack.posts) == 1
    post = slack.posts[0]
    assert post.content_type == "application/json"
    assert post.body == {
        "text": "*FND-3 &lt;!channel&gt; R&amp;D*\nsee &lt;https://x&gt; &amp; reply"
    }
    assert post.body["text"] == slack_text(message)


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, "rollup_error"), (400, "invalid_payload"), (410, "channel_is_archived")],
)
def test_slack_error_status_is_an_integration_error_naming_the_host_only(
    slack: FakeSlack, client: httpx.Client, status: int, body: str
) -> None:
    slack.fail_next(1, status)
    with pytest.raises(IntegrationError) as caught:
        SlackNotifier(slack.webhook_url, client).send(make_message())
    assert caught.value.status == status
    assert str(caught.value) == f"Slack webhook at 127.0.0.1: HTTP {status}: {body}"
    assert slack.path not in str(caught.value)  # the path is the credential
    assert slack.posts == []


def test_a_reply_quoting_the_webhook_url_is_scrubbed(
    slack: FakeSlack, client: httpx.Client
) -> None:
    slack.echo_next()
    with pytest.raises(IntegrationError) as caught:
        SlackNotifier(slack.webhook_url, client).send(make_message())
    told = str(caught.value)
    assert told == (
        "Slack webhook at 127.0.0.1: HTTP 502: <h1>502 Bad Gateway</h1> upstream timed out for "
        "POST [redacted]"
    )
    for segment in slack.path.split("/"):
        if len(segment) >= 6:
            assert segment not in told


def test_slack_redirect_is_not_followed(slack: FakeSlack, client: httpx.Client) -> None:
    with FakeSlack() as elsewhere:
        slack.redirect_to(elsewhere.webhook_url)
        with pytest.raises(IntegrationError) as caught:
            SlackNotifier(slack.webhook_url, client).send(make_message())
        assert caught.value.status == 302
        assert elsewhere.requests == 0


def test_slack_unreachable_is_an_integration_error(client: httpx.Client) -> None:
    url = f"http://127.0.0.1:{free_port()}/services/T/B/secret"
    with pytest.raises(IntegrationError) as caught:
        SlackNotifier(url, client).send(make_message())
    assert caught.value.status is None
    assert "secret" not in str(caught.value)
