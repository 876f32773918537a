"""Keys never leave pmctl; live trading is never quiet; the embedded database listens on no network."""

from decimal import Decimal

import psycopg
import pytest

from helpers import KEYS, insert_row
from pmctl.store import embedded

CALL = "GOOGL260220C00340000"


def database_text(database_url) -> str:
    with psycopg.connect(database_url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'").fetchall()]
        return "\n".join(str(conn.execute(f'SELECT * FROM "{table}"').fetchall()) for table in tables)


def test_keys_appear_in_no_output_event_or_row(desk, state, database_url):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_position("a", "ORCL", Decimal("-12"), Decimal("160"))
    state.set_price("ORCL", Decimal("158"))
    insert_row(database_url, ticker="GOOGL", option_symbol=CALL, instrument_type="CALL", quantity=10,
               entry_price=Decimal("5.20"), stop_loss=Decimal("4.16"))
    insert_row(database_url, ticker="QCOM", quantity=5, entry_price=Decimal("150"))
    state.inject_fault("/v2/orders", "lost_answer", count=1, method="POST")
    runs = [
        desk("check", "--dry-run"), desk("check"), desk("check"), desk("status", "--json"), desk("status"),
        desk("reconcile", "--dry-run", "--json"), desk("reconcile"), desk("cleanup-phantoms", "--dry-run"),
        desk("sync"), desk("check", env={"PMCTL_A_SECRET_KEY": "wrong-" + KEYS["a"][1]}),
        desk("check", env={"PMCTL_A_BASE_URL": "http://127.0.0.1:1"}),
        desk("close", CALL, "-a", "a", "--dry-run"),
        desk("check", env={"PMCTL_A_PAPER": "maybe"}),
    ]
    seen = "\n".join(r.stdout + r.stderr for r in runs) + database_text(database_url)
    for key, secret in KEYS.values():
        assert key not in seen
        assert secret not in seen
    assert "closed" in seen and "broker refused the API keys" in seen


def test_live_accounts_say_so_first(desk):
    result = desk("check", "--dry-run", env={"PMCTL_A_PAPER": "false"})
    assert result.stderr.splitlines()[0] == "LIVE trading (not paper): account(s) a"
    assert not desk("check", "--dry-run").stderr.startswith("LIVE")


@pytest.mark.slow
def test_the_embedded_database_listens_only_on_a_unix_socket(tmp_path):
    url = embedded.start(tmp_path / "home")
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""
        assert conn.info.host.startswith("/")
