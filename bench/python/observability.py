"""What observability costs the Python package, in ONE run against ONE
server: lock try_lock+release cycles/s and rate-limit checks/s of a plain
client, and of a client with redisx.prometheus's collector (scraped every
second) and redisx.opentelemetry's instrument() attached (the SDK's
TracerProvider with a BatchSpanProcessor into an exporter that drops the
spans; a MeterProvider exporting every second into a dropping exporter).
The Python counterpart of bench/node/observability.js.

    python bench/python/observability.py [URL]    # bench/python/run.sh runs it

Needs redisx-client with prometheus_client, opentelemetry-api and
opentelemetry-sdk in the interpreter. URL (or $REDISX_URL): the server;
without one a throwaway redis-server on a free loopback port (stopped at
exit). BENCH_SEQ (3000 sequential operations), BENCH_REPEATS (5): the
median of the repeats, alternating plain and instrumented. BENCH_TRACER:
sdk (default), noop (the API's no-op tracer: the hook's own cost) or off
(metrics only).

Prints `name=value` lines; observability_lock_ratio and
observability_check_ratio are instrumented / plain. It reports figures
only; it never judges them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable, List, Optional, Sequence

import redisx
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import NoOpTracerProvider
from prometheus_client import CollectorRegistry, generate_latest
from redisx.opentelemetry import instrument
from redisx.prometheus import RedisxCollector

SEQ = int(os.environ.get("BENCH_SEQ", "3000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
MODE = os.environ.get("BENCH_TRACER", "sdk")


class DropSpans(SpanExporter):
    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class DropMetrics(MetricExporter):
    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server() -> "tuple[str, Callable[[], None]]":
    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit("observability.py: redis-server not found")
    d = tempfile.mkdtemp(prefix="redisx-obs-")
    port = free_port()
    pidfile = os.path.join(d, "redis.pid")
    subprocess.run([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--daemonize", "yes", "--pidfile", pidfile, "--dir", d], check=True,
                   stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not os.path.exists(pidfile) and time.monotonic() < deadline:
        time.sleep(0.02)

    def stop() -> None:
        try:
            with open(pidfile) as f:
                os.kill(int(f.read().strip()), signal.SIGTERM)
        except (OSError, ValueError):
            pass
        shutil.rmtree(d, ignore_errors=True)

    url = f"redis://127.0.0.1:{port}/0"
    probe = redisx.Client(url, command_timeout=1.0)
    while time.monotonic() < deadline:
        try:
            probe.execute("PING")
            break
        except redisx.RedisxError:
            time.sleep(0.05)
    probe.close()
    return url, stop


def rate(n: int, fn: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def median(xs: List[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2]


def lock_cycles(c: redisx.Client) -> Callable[[], None]:
    def run() -> None:
        for i in range(SEQ):
            c.try_lock("job", ttl=10).release()
    return run


def checks(c: redisx.Client) -> Callable[[], None]:
    lim = c.limiter("bench", "gcra", limit=1_000_000_000, period=60)

    def run() -> None:
        for i in range(SEQ):
            lim.check("user")
    return run


def main(argv: List[str]) -> None:
    url: Optional[str] = argv[1] if len(argv) > 1 else os.environ.get("REDISX_URL")
    stop: Callable[[], None] = lambda: None  # noqa: E731
    if not url:
        url, stop = start_server()
    try:
        plain = redisx.Client(url, prefix="bench-obs-plain")
        obs = redisx.Client(url, prefix="bench-obs-otel")
        registry = CollectorRegistry()
        registry.register(RedisxCollector(obs))
        scraping = threading.Event()

        def scrape() -> None:
            while not scraping.wait(1.0):
                generate_latest(registry)

        scraper = threading.Thread(target=scrape, daemon=True)
        scraper.start()
        tp = TracerProvider()
        tp.add_span_processor(BatchSpanProcessor(DropSpans()))
        mp = MeterProvider(metric_readers=[PeriodicExportingMetricReader(DropMetrics(), export_interval_millis=1000)])
        tracer: Any = False if MODE == "off" else NoOpTracerProvider() if MODE == "noop" else tp
        inst = instrument(obs, tracer_provider=tracer, meter_provider=mp)

        # warm both (connections, scripts loaded)
        for c in (plain, obs):
            c.execute("PING")
            lock_cycles(c)()
            checks(c)()
        results = {"plain_lock": [], "otel_lock": [], "plain_check": [], "otel_check": []}  # type: ignore[var-annotated]
        for _ in range(REPEATS):
            results["plain_lock"].append(rate(SEQ, lock_cycles(plain)))
            results["otel_lock"].append(rate(SEQ, lock_cycles(obs)))
            results["plain_check"].append(rate(SEQ, checks(plain)))
            results["otel_check"].append(rate(SEQ, checks(obs)))
        m = {k: median(v) for k, v in results.items()}
        print(f"observability_python_version={sys.version.split()[0]}")
        print(f"observability_tracer={MODE}")
        print(f"observability_seq={SEQ}")
        print(f"observability_repeats={REPEATS}")
        print(f"observability_plain_lock_cycles_per_s={m['plain_lock']:.0f}")
        print(f"observability_otel_lock_cycles_per_s={m['otel_lock']:.0f}")
        print(f"observability_plain_checks_per_s={m['plain_check']:.0f}")
        print(f"observability_otel_checks_per_s={m['otel_check']:.0f}")
        print(f"observability_lock_ratio={m['otel_lock'] / m['plain_lock']:.2f}")
        print(f"observability_check_ratio={m['otel_check'] / m['plain_check']:.2f}")
        scraping.set()
        inst.uninstrument()
        mp.shutdown()
        tp.shutdown()
        plain.close()
        obs.close()
    finally:
        stop()


if __name__ == "__main__":
    main(sys.argv)
