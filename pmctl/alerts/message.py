"""Alerts as text.

Pure functions, so the email and the chat channels say exactly the same thing and
tests need no server to check it. Every notice is one line, worst first: the
operator reading on a phone sees what matters before scrolling. Each function
expects at least one notice; ``deliver`` never calls them with none.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC

from pmctl.alerts.model import Notice

SUBJECT_ITEMS = 4
"""Kinds or accounts named in a subject before the rest become "+N more"."""

WEBHOOK_LINES = 50
"""Notices in one chat message: a sweep that finds hundreds should not flood a channel."""

ERROR_CHARACTERS = 300
"""The longest delivery failure line: a server's whole error page is no use in a log."""


def subject(notices: Sequence[Notice]) -> str:
    ordered = _worst_first(notices)
    count = f"{len(ordered)} alert{'' if len(ordered) == 1 else 's'}"
    kinds = _listing(_unique(n.kind for n in ordered))
    accounts = _listing(_unique(n.account for n in notices))
    return f"[pmctl] {ordered[0].severity.upper()}: {count} ({kinds}) on {accounts}"


def body(notices: Sequence[Notice]) -> str:
    return "".join(f"{line(n)}\n" for n in _worst_first(notices))


def line(notice: Notice) -> str:
    """``<UTC ISO time> <SEVERITY> <account> <kind> [row <id>] [<symbol>]: <text>``.

    Newlines inside a field are flattened, so one notice can never pass for two
    and nothing a broker said can add a header to an email.
    """
    when = notice.at.astimezone(UTC).isoformat(timespec="seconds") if notice.at else "-"
    fields = [when, notice.severity.upper(), notice.account, notice.kind]
    if notice.row_id is not None:
        fields.append(f"row {notice.row_id}")
    if notice.symbol:
        fields.append(notice.symbol)
    return f"{' '.join(_flat(f) for f in fields)}: {_flat(notice.text)}"


def chat_body(notices: Sequence[Notice]) -> str:
    """The lines of a chat message, worst first, at most ``WEBHOOK_LINES`` of them."""
    ordered = _worst_first(notices)
    lines = [line(n) for n in ordered[:WEBHOOK_LINES]]
    if len(ordered) > WEBHOOK_LINES:
        lines.append(f"... and {len(ordered) - WEBHOOK_LINES} more")
    return "\n".join(lines)


def slack_payload(notices: Sequence[Notice]) -> dict[str, str]:
    """Incoming-webhook JSON whose ``text`` is the subject and then the body's lines.

    Only ``text`` is sent: it is the one field every Slack-compatible receiver
    (Mattermost, Rocket.Chat, Zulip's Slack endpoint) shows.
    """
    return {"text": _slack_escape(f"{subject(notices)}\n{chat_body(notices)}")}


def error_line(text: str, *secrets: str) -> str:
    """A delivery failure as one short line; secrets blanked out in case a server or library echoed one."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "********")
    flat = " ".join(text.split())
    return flat if len(flat) <= ERROR_CHARACTERS else flat[: ERROR_CHARACTERS - 3] + "..."


def _worst_first(notices: Sequence[Notice]) -> list[Notice]:
    return sorted(notices, key=lambda n: -n.rank)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(_flat(v) for v in values))


def _listing(values: list[str]) -> str:
    shown = values[:SUBJECT_ITEMS]
    if len(values) > SUBJECT_ITEMS:
        shown.append(f"+{len(values) - SUBJECT_ITEMS} more")
    return ", ".join(shown)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _slack_escape(text: str) -> str:
    """Slack reads ``<...>`` as links and mentions; an OCC symbol or a broker message must show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
