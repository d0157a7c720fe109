"""``/metrics`` is prometheus_client's exposition: parsed with its text parser, every metric the
code updates is there with the right type, and a running daemon's sales show up in it."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import aiohttp
import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

import bot
from bot.bootstrap import build_app
from bot.clock import SystemClock, VirtualClock, real_sleep
from bot.exchange.cached import CachedExchange
from bot.exchange.gate import GatedExchange
from bot.exchange.instrumented import InstrumentedExchange
from bot.metrics import Counter, Gauge, Histogram, Metrics
from bot.rand import make_rng
from bot.service.daemon import Daemon
from bot.service.leadership import Leadership
from bot.settings import Settings
from bot.sim.demo import DEMO_KEY, demo_markets
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange
from tests.e2e.helpers import free_port

BOT = Path(bot.__file__).parent
UPDATE = re.compile(r"metrics\.(\w+)\.(inc|advance_to|set|replace|observe)\(")
KIND_OF_CALL = {
    "inc": "counter",
    "advance_to": "counter",
    "set": "gauge",
    "replace": "gauge",
    "observe": "histogram",
}


def _families(text: str) -> dict[str, str]:
    """Family name → type, as the Prometheus text parser reads them."""
    return {f.name: f.type for f in text_string_to_metric_families(text)}


def _samples(text: str) -> list[Sample]:
    return [s for f in text_string_to_metric_families(text) for s in f.samples]


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def _family_name(metric: Counter | Gauge | Histogram) -> str:
    return metric.name.removesuffix("_total") if metric.kind == "counter" else metric.name


def _updates_in_code() -> dict[str, set[str]]:
    """Every ``metrics.<name>.<update>(`` in bot/: metric attribute → kinds its calls imply."""
    found: dict[str, set[str]] = {}
    for path in BOT.rglob("*.py"):
        for name, call in UPDATE.findall(path.read_text()):
            found.setdefault(name, set()).add(KIND_OF_CALL[call])
    return found


def test_every_metric_the_code_updates_is_exposed_with_its_type() -> None:
    metrics = Metrics()
    exposed = _families(metrics.render())
    updates = _updates_in_code()

    assert {"executions", "cache_requests", "request_latency", "paused"} <= set(updates)
    for name, kinds in sorted(updates.items()):
        metric = getattr(metrics, name, None)
        assert isinstance(metric, Counter | Gauge | Histogram), f"metrics.{name} is not a metric"
        assert kinds == {metric.kind}, f"metrics.{name} is a {metric.kind}, updated as {kinds}"
        assert exposed.get(_family_name(metric)) == metric.kind, name
    for metric in metrics.all():
        assert exposed[_family_name(metric)] == metric.kind
    assert exposed["process_resident_memory_bytes"] == "gauge"
    assert exposed["process_open_fds"] == "gauge"
    assert exposed["process_cpu_seconds"] == "counter"


def test_counts_are_counters_and_two_apps_do_not_share_a_series() -> None:
    one, two = Metrics(), Metrics()  # a shared registry would refuse the second
    one.cache_requests.advance_to(5, cache="tickers", outcome="hit")
    one.cache_requests.advance_to(8, cache="tickers", outcome="hit")
    one.cache_requests.advance_to(2, cache="tickers", outcome="hit")  # the cache started over
    one.order_states.replace({("open",): 3.0, ("filled",): 1.0})
    one.order_states.replace({("filled",): 4.0})  # no open order left

    samples = _samples(one.render())
    assert _value(samples, "sellbot_cache_requests_total", outcome="hit") == 10
    assert _value(_samples(two.render()), "sellbot_cache_requests_total") == 0
    assert [(s.labels, s.value) for s in samples if s.name == "sellbot_orders"] == [
        ({"state": "filled"}, 4.0)
    ]


def _settings(db_url: str, port: int) -> Settings:
    env: dict[str, object] = {
        "DATABASE_URL": db_url,
        "SELLBOT_FORCE_STRATEGY": "market",
        "SELLBOT_MAX_DAILY_VALUE": "100000000",
        "SELLBOT_LEASE_TTL_S": "30",
        "SELLBOT_WEBSOCKET": "false",
        "SELLBOT_HTTP_PORT": str(port),
        "SELLBOT_ORDER_POLL_INTERVAL_S": "1",
        "SELLBOT_SCHEDULE_INTERVAL_S": "3600",
    }
    return Settings(**env)  # type: ignore[arg-type]


async def _run_until(clock: VirtualClock, done: Callable[[], bool], max_s: float) -> None:
    for _ in range(int(max_s / 0.5)):
        if done():
            return
        await clock.advance(0.5)
        await real_sleep(0.01)
    raise AssertionError("the condition was not reached in time")


async def test_a_running_daemon_serves_its_sales_in_metrics(db_url: str) -> None:
    clock = VirtualClock(SystemClock().time(), real_idle_s=0.02)  # the scheduler is real-time
    engine = MatchingEngine(clock, make_rng(1, "sim.engine"))
    eth = next(d for d in demo_markets() if d.market.id == "ethusdt")
    engine.add_market(eth.market, eth.params, seed=1)
    engine.deposit(DEMO_KEY, "eth", Decimal("0.1"))  # one small sale
    settings = _settings(db_url, free_port())
    metrics = Metrics()
    instrumented = InstrumentedExchange(SimExchange(engine, DEMO_KEY, clock=clock), metrics, clock)
    gate = GatedExchange(CachedExchange(instrumented, clock))
    app = build_app(settings, clock=clock, rng=make_rng(1, "m"), exchange=gate, metrics=metrics)
    leadership = Leadership(app.sessions, clock, instance_id="m", ttl_s=30)
    daemon = Daemon(app, gate, leadership=leadership)
    running = asyncio.create_task(daemon.run())
    try:
        await _run_until(clock, lambda: metrics.executions.get(strategy="market") > 0, 120)
        await _run_until(clock, lambda: not app.supervisor.active_ids, 120)
        await real_sleep(1.2)  # the tracking job (every second, real time) refreshes the gauges
        assert daemon.ops is not None
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{daemon.ops.port}/metrics") as resp,
        ):
            content_type = resp.headers["Content-Type"]
            text = await resp.text()
    finally:
        daemon.request_stop()
        assert await running == 0

    assert content_type.startswith("text/plain; version=0.0.4")
    families, samples = _families(text), _samples(text)
    assert families["sellbot_executions"] == "counter"
    assert families["sellbot_execution_duration_seconds"] == "histogram"
    assert families["sellbot_cache_requests"] == "counter"
    assert _value(samples, "sellbot_executions_total", strategy="market") >= 1
    assert _value(samples, "sellbot_execution_duration_seconds_count", strategy="market") >= 1
    assert _value(samples, "sellbot_exchange_request_seconds_count", endpoint="place_order") >= 1
    assert _value(samples, "sellbot_cache_requests_total", outcome="miss") >= 1
    assert _value(samples, "sellbot_cycles_total", outcome="ok") >= 1
    assert _value(samples, "sellbot_orders") >= 1  # refreshed from the database
    assert _value(samples, "sellbot_leader") == 1
    assert _value(samples, "sellbot_lease_epoch") == 1
    assert _value(samples, "process_resident_memory_bytes") > 0
    assert _value(samples, "process_open_fds") > 0
    assert _value(samples, "sellbot_build_info", version=bot.__version__) == 1


ROOT = BOT.parent
METRIC_NAME = re.compile(r"\b((?:sellbot|process)_[a-z_]+)\b")


def _sample_names(metrics: Metrics) -> set[str]:
    """Every series name a query may use: histograms' _bucket/_count/_sum, counters' _total."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    return {
        name + suffix
        for name, kind in _families(metrics.render()).items()
        for suffix in suffixes.get(kind, ("",))
    }


def test_the_dashboard_queries_only_metrics_that_exist() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {name for e in exprs for name in METRIC_NAME.findall(e)}

    assert used <= _sample_names(Metrics())
    main = {
        "sellbot_executions_total",
        "sellbot_shortfall_bps_bucket",
        "sellbot_execution_duration_seconds_bucket",
        "sellbot_exchange_request_seconds_bucket",
        "sellbot_exchange_errors_total",
        "sellbot_cache_requests_total",
        "sellbot_leader",
        "sellbot_stream_connected",
        "sellbot_notify_queue_depth",
        "sellbot_notify_dropped_total",
        "process_resident_memory_bytes",
        "process_open_fds",
    }
    assert main <= used
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_prometheus_scrapes_the_bots_metrics_on_its_default_port() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]

    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == [
        f"bot:{Settings.model_fields['http_port'].default}"
    ]


def test_the_monitoring_profile_starts_prometheus_and_grafana_on_the_deploy_files() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]

    assert prometheus["image"].startswith("prom/prometheus:")
    assert grafana["image"].startswith("grafana/grafana:")
    assert prometheus["profiles"] == grafana["profiles"] == ["monitoring"]
    assert not services["bot"].get("profiles")  # a plain `up` still starts only db and bot
    mounts = [str(v).split(":")[0] for s in (prometheus, grafana) for v in s["volumes"]]
    files = [m for m in mounts if m.startswith("./")]
    assert "./deploy/prometheus.yml" in files
    assert "./deploy/grafana-dashboard.json" in files
    assert all((ROOT / f).is_file() for f in files)
    datasource = yaml.safe_load((ROOT / "deploy" / "grafana" / "datasource.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((ROOT / "deploy" / "grafana" / "dashboards.yml").read_text())
    (dashboard_mount,) = [v for v in grafana["volumes"] if "grafana-dashboard.json" in v]
    target = dashboard_mount.split(":")[1]
    assert target.rsplit("/", 1)[0] == provider["providers"][0]["options"]["path"]
