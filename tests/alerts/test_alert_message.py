"""What the operator reads: subjects, lines and chat text, with no server involved."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from alert_samples import AT, notices
from pmctl.alerts.model import AlertSettings, Notice
from pmctl.alerts.message import WEBHOOK_LINES, body, line, slack_payload, subject
from pmctl.secret import Secret


def test_subject_leads_with_the_worst_severity_and_its_kind():
    assert subject(notices()) == "[pmctl] CRITICAL: 2 alerts (unexpected_short, order_failed) on large"


def test_subject_for_one_alert_is_singular():
    assert subject(notices()[:1]) == "[pmctl] ERROR: 1 alert (order_failed) on large"


def test_subject_names_every_account_and_shortens_a_long_list_of_kinds():
    many = [Notice(f"kind_{i}", "tiny" if i % 2 else "large", "warning", "x") for i in range(6)]
    assert subject(many) == "[pmctl] WARNING: 6 alerts (kind_0, kind_1, kind_2, kind_3, +2 more) on large, tiny"


def test_body_has_one_line_per_notice_worst_first_in_utc():
    assert body(notices()).splitlines() == [
        "2026-02-03T16:00:05+00:00 CRITICAL large unexpected_short GOOGL: short 100 GOOGL that no row opened",
        "2026-02-03T16:00:05+00:00 ERROR large order_failed row 7 SPY260220P00600000: "
        "sell 1 SPY put rejected: insufficient buying power",
    ]


def test_times_in_other_zones_are_shown_in_utc():
    new_york = timezone(timedelta(hours=-5))
    notice = Notice("cycle_failed", "tiny", "error", "boom", at=datetime(2026, 2, 3, 11, 0, tzinfo=new_york))
    assert line(notice).startswith("2026-02-03T16:00:00+00:00 ERROR tiny cycle_failed: ")


def test_a_multi_line_message_stays_on_one_line():
    notice = Notice("order_failed", "large", "error", "rejected:\n  code 40310000\r\nretry later", at=AT)
    assert body([notice]) == f"{line(notice)}\n"
    assert line(notice).endswith("order_failed: rejected: code 40310000 retry later")


def test_slack_text_carries_the_subject_and_every_line():
    payload = slack_payload(notices())
    assert json.loads(json.dumps(payload)) == payload
    assert payload["text"].splitlines() == [subject(notices()), *body(notices()).splitlines()]


def test_slack_text_shows_angle_brackets_instead_of_making_links():
    notice = Notice("phantom_row", "large", "warning", "row <42> & <!channel>", at=AT)
    assert payload_line(notice).endswith("row &lt;42&gt; &amp; &lt;!channel&gt;")


def test_slack_text_is_capped_for_a_flood_of_notices():
    flood = [Notice("phantom_row", "large", "warning", f"row {i}", row_id=i, at=AT) for i in range(WEBHOOK_LINES + 7)]
    lines = slack_payload(flood)["text"].splitlines()
    assert len(lines) == 1 + WEBHOOK_LINES + 1
    assert lines[-1] == "... and 7 more"


def test_a_notice_refuses_an_unknown_severity_or_a_naive_time():
    with pytest.raises(ValueError, match="severity"):
        Notice("order_failed", "large", "urgent", "x")
    with pytest.raises(ValueError, match="timezone-aware"):
        Notice("order_failed", "large", "error", "x", at=datetime(2026, 2, 3, 16, 0))


@pytest.mark.parametrize(
    ("settings", "enabled"),
    [
        (AlertSettings(), False),
        (AlertSettings(smtp_host="mail.example.com"), False),
        (AlertSettings(email_to=("ops@example.com",)), False),
        (AlertSettings(smtp_host="mail.example.com", email_to=("ops@example.com",)), True),
        (AlertSettings(webhook_url="https://hooks.example.com/x"), True),
    ],
)
def test_alerts_are_enabled_only_by_a_complete_channel(settings, enabled):
    assert settings.enabled is enabled


def test_settings_never_show_the_password():
    settings = AlertSettings(smtp_host="mail.example.com", smtp_user="desk", smtp_password=Secret("hunter2"))
    assert "hunter2" not in repr(settings)


def test_one_address_given_as_a_string_is_refused_rather_than_spelt_out_letter_by_letter():
    with pytest.raises(TypeError, match="email_to"):
        AlertSettings(smtp_host="mail.example.com", email_to="ops@example.com")


def payload_line(notice: Notice) -> str:
    return slack_payload([notice])["text"].splitlines()[1]
