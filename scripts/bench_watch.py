"""Benchmark of ``pmctl run`` against the emulator and a real PostgreSQL: latency to act, and memory over time.

One account holds N stocks (10 shares at 100 each; a 5 % stop, 95, from PMCTL_STOP_LOSS_PERCENT). A ``pmctl run``
process watches it, subscribed to the quotes and trades of all N through the emulator's streams.

- Memory: a fast-forwarded hour of market data is pushed through the streams: every simulated second a quote for
  each symbol and a trade for a tenth of them, none crossing a stop, the emulator's clock moved on a second each
  time. The watcher's resident memory is sampled every simulated five minutes after the first; it should stay flat.
- Latency: then, one symbol at a time while quotes for the others keep coming (``--background`` a second), a trade
  crosses the symbol's stop; the time from that price update to the close order (``DELETE /v2/positions/SYM``)
  arriving at the emulator is measured. Every symbol is crossed once: N crossings.

The emulator adds ``--latency`` to every broker request (20 ms by default, as ``bench_cycle.py``), though none of
these lies on the path from a price to an order: the watcher reads no REST between the two.

    python scripts/bench_watch.py             # the README's figures: 100 symbols, 100 crossings, an hour
    python scripts/bench_watch.py --smoke     # 10 symbols, a simulated minute (CI keeps the script working)

Uses ``PMCTL_DATABASE_URL`` as the server when set, else an embedded PostgreSQL in a temporary directory.
Bounded: every wait has a timeout, all traffic is on 127.0.0.1, and the watcher is stopped (SIGTERM) at the end.
"""

import argparse
import itertools
import os
import random
import signal
import statistics
import string
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal

import psutil
import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_cycle import NOON, fresh_database, pmctl_env, server_url  # noqa: E402

from pmctl.sim.clock import Calendar, SimClock  # noqa: E402
from pmctl.sim.server import SimServer  # noqa: E402
from pmctl.sim.state import SimState  # noqa: E402

ACCOUNT = "bench"
ENTRY, STOP_PERCENT, CROSSING = Decimal(100), "5", Decimal(94)
START_SECONDS = 60
ARRIVAL_SECONDS = 10
SAMPLE_EVERY = 300


def tickers(n: int) -> list[str]:
    return ["".join(letters) for letters in itertools.islice(itertools.product(string.ascii_uppercase, repeat=3), n)]


def build_state(symbols: list[str]) -> SimState:
    state = SimState(SimClock(Calendar(), NOON, is_open=True, frozen=True))
    state.add_account(ACCOUNT, f"PK{ACCOUNT.upper()}BENCH", f"{ACCOUNT}-bench-secret", account_number="PA-BENCH")
    for symbol in symbols:
        state.set_price(symbol, ENTRY)
        state.set_position(ACCOUNT, symbol, Decimal(10), ENTRY)
    return state


def start_watcher(env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pmctl", "-v", "run", "--account", ACCOUNT], env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def quotes(state: SimState, symbols: list[str], rng: random.Random) -> None:
    """One simulated second: a quote for every symbol, a trade for a tenth; all between 97 and 103."""
    for symbol in symbols:
        mid = Decimal(rng.randint(9800, 10200)) / 100
        state.set_quote(symbol, mid - Decimal("0.05"), mid + Decimal("0.05"))
    for symbol in rng.sample(symbols, max(1, len(symbols) // 10)):
        state.set_price(symbol, Decimal(rng.randint(9700, 10300)) / 100)


def stream_id(state: SimState) -> int | None:
    found = [c["id"] for c in state.stream_connections() if c["kind"] == "stocks" and c["account"] == ACCOUNT]
    return found[0] if found else None


def memory_run(state: SimState, symbols: list[str], watcher: psutil.Process, seconds: int, rate: float) -> dict:
    """Push ``seconds`` simulated seconds of quotes at about ``rate`` data points a second; RSS samples in MB."""
    rng = random.Random(15)
    connection = stream_id(state)
    samples: list[tuple[int, float]] = []
    per_second = len(symbols) * 1.1
    cpu = sum(watcher.cpu_times()[:2])
    started = time.perf_counter()
    for second in range(1, seconds + 1):
        quotes(state, symbols, rng)
        state.set_clock(timestamp=NOON + timedelta(seconds=second))
        ahead = second * per_second / rate - (time.perf_counter() - started)
        if ahead > 0:
            time.sleep(ahead)
        if second % SAMPLE_EVERY == 0 or second == seconds:
            samples.append((second, watcher.memory_info().rss / 2**20))
    return {"samples": samples, "wall": time.perf_counter() - started, "points": int(seconds * per_second),
            "cpu": sum(watcher.cpu_times()[:2]) - cpu, "same_connection": stream_id(state) == connection}


def crossings(state: SimState, symbols: list[str], background: float) -> list[float]:
    """Cross each symbol's stop in turn while the others keep quoting; seconds from the price to the order."""
    arrived: dict[str, float] = {}
    events = {symbol: threading.Event() for symbol in symbols}
    for symbol in symbols:
        def hit(symbol=symbol) -> None:
            arrived[symbol] = time.perf_counter()
            events[symbol].set()
        state.before_request(f"/v2/positions/{symbol}", hit, method="DELETE")
    held = list(symbols)
    stop = threading.Event()

    def noise() -> None:
        rng = random.Random(7)
        while not stop.wait(1 / background):
            live = list(held)
            if live:
                symbol = rng.choice(live)
                mid = Decimal(rng.randint(9800, 10200)) / 100
                state.set_quote(symbol, mid - Decimal("0.05"), mid + Decimal("0.05"))

    thread = threading.Thread(target=noise, daemon=True)
    thread.start()
    latencies = []
    try:
        for symbol in symbols:
            held.remove(symbol)
            crossed = time.perf_counter()
            state.set_price(symbol, CROSSING)
            if not events[symbol].wait(ARRIVAL_SECONDS):
                raise SystemExit(f"no close of {symbol} reached the broker within {ARRIVAL_SECONDS} s")
            latencies.append(arrived[symbol] - crossed)
    finally:
        stop.set()
        thread.join(5)
    return latencies


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=3600, help="simulated seconds of market data for memory")
    parser.add_argument("--rate", type=float, default=5000, help="data points a second while fast-forwarding")
    parser.add_argument("--background", type=float, default=200, help="quotes a second while crossing")
    parser.add_argument("--latency", type=float, default=0.02, help="added broker latency per request, seconds")
    parser.add_argument("--log", default=os.devnull, help="the watcher's log (pmctl -v run), for a failed run")
    parser.add_argument("--smoke", action="store_true", help="10 symbols, a simulated minute")
    options = parser.parse_args()
    if options.smoke:
        options.symbols, options.seconds = 10, 60
    symbols = tickers(options.symbols)
    state = build_state(symbols)

    with server_url() as admin_url, fresh_database(admin_url) as database_url, SimServer(state) as sim:
        env = {**pmctl_env([ACCOUNT], sim.url, database_url), "PMCTL_STOP_LOSS_PERCENT": STOP_PERCENT}
        subprocess.run([sys.executable, "-m", "pmctl", "migrate"], env=env, check=True, capture_output=True,
                       timeout=120)
        state.set_latency(options.latency)
        with open(options.log, "wb") as log:
            process = start_watcher(env, log)
            try:
                state.wait_for_streams("stocks", ACCOUNT, quotes=symbols, trades=symbols, timeout=START_SECONDS)
                watcher = psutil.Process(process.pid)
                memory = memory_run(state, symbols, watcher, options.seconds, options.rate)
                latencies = crossings(state, symbols, options.background)
                process.send_signal(signal.SIGTERM)
                code = process.wait(60)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(30)
        with psycopg.connect(database_url) as conn:
            closed = conn.execute("SELECT count(*) FROM active_positions WHERE status = 'closed' "
                                  "AND close_reason = 'stop_loss'").fetchone()[0]
    if code != 0 or closed != len(symbols):
        raise SystemExit(f"pmctl run exited {code}; {closed} of {len(symbols)} rows closed by their stop")

    ms = [value * 1000 for value in latencies]
    print(f"pmctl run, {len(symbols)} held symbols, broker latency {options.latency * 1000:g} ms per request\n")
    print("| crossings | background quotes / s | median ms | p90 ms | p99 ms | max ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {len(ms)} | {options.background:g} | {statistics.median(ms):.0f} | {percentile(ms, 90):.0f} | "
          f"{percentile(ms, 99):.0f} | {max(ms):.0f} |")
    samples = memory["samples"]
    first, last = samples[0][1], samples[-1][1]
    print(f"\n| simulated s | data points | wall s | watcher CPU s | RSS after {samples[0][0]} s MB | "
          "RSS at the end MB | max MB | growth MB | one stream connection throughout |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print(f"| {options.seconds} | {memory['points']} | {memory['wall']:.0f} | {memory['cpu']:.0f} | {first:.1f} | "
          f"{last:.1f} | {max(rss for _, rss in samples):.1f} | {last - first:+.1f} | "
          f"{'yes' if memory['same_connection'] else 'no'} |")
    print("\nRSS by simulated minute: " + ", ".join(f"{second // 60}: {rss:.1f}" for second, rss in samples))


if __name__ == "__main__":
    main()
