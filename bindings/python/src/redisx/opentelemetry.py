"""OpenTelemetry spans and metrics of a redisx client.

``opentelemetry-api`` is an optional dependency (``pip install
'redisx-client[opentelemetry]'``); importing :mod:`redisx` never needs it::

    from redisx.opentelemetry import instrument

    otel = instrument(client, tracer_provider=tp, meter_provider=mp)  # None: the global providers
    ...
    otel.uninstrument()

Spans: one per public operation, started on the calling thread in the
caller's current context (contextvars: the thread's, or the asyncio task's
that awaits the call; never the I/O thread's), ended when the operation
completed; the names are the core's identifiers (``lock.acquire``, ...; a
raw command: its name). The trace context of each published message goes
into its ``traceparent``/``tracestate`` headers, and a consumer's
``stream.handle`` span is a new root span linked to it (the same headers as
Node and Go: a message links across languages).

Metrics: ``db.client.operation.duration`` recorded when each operation
completes, and the core's counters and gauges as observable instruments
that read ONE core snapshot (``redisx_metrics_collect``, as
:mod:`redisx.prometheus` does) per collection. docs/OPENTELEMETRY.md.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

from . import _instrument as _ins
from . import _rawc as _c
from ._cache import NotFound
from ._client import Client
from ._errors import ClientClosed, RedisxError, make_error

try:
    from opentelemetry import context as _otel_context
    from opentelemetry import metrics as _otel_metrics
    from opentelemetry import trace as _otel_trace
    from opentelemetry.metrics import CallbackOptions, Observation
    from opentelemetry.trace import Link, SpanKind, Status, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise ImportError("redisx.opentelemetry needs opentelemetry-api: "
                      "pip install 'redisx-client[opentelemetry]'") from e

__all__ = ["instrument", "uninstrument", "Instrumentation", "SCOPE", "DURATION"]

#: The instrumentation scope of every span and metric.
SCOPE = "redisx"
#: The duration histogram (OpenTelemetry's database client convention).
DURATION = "db.client.operation.duration"
#: Its advisory bounds, in seconds (docs/METRICS.md).
DURATION_BOUNDS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)

_VERSION = str(_c.redisx_version_string())

# ---- where the client connects ------------------------------------------------------


def _host_port(s: str, default_port: int) -> Tuple[str, Optional[int]]:
    m = re.match(r"^(\[[^\]]*\]|[^:]*)(?::(\d+))?$", s.strip())
    if not m:
        return s, default_port
    host = m.group(1)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "127.0.0.1", int(m.group(2)) if m.group(2) else default_port


def _seeds(v: Any) -> Optional[str]:
    if v is None:
        return None
    if isinstance(v, str):
        return v.split(",")[0].strip() or None
    return str(v[0]) if len(v) else None


def server_attributes(url: str, cluster_seeds: Any = None, sentinels: Any = None) -> Dict[str, Any]:
    """``db.system.name``, ``db.namespace``, ``server.address`` and
    ``server.port`` of a client's URL: a cluster's first seed, the first
    sentinel, a unix socket's path (no port)."""
    out: Dict[str, Any] = {"db.system.name": "redis"}
    db = "0"
    address: Optional[str] = None
    port: Optional[int] = None
    u = url if isinstance(url, str) else ""
    m = re.match(r"^unix://([^?]*)(?:\?(.*))?$", u)
    if m:
        address = m.group(1)
        q = re.search(r"(?:^|&)db=(\d+)", m.group(2) or "")
        if q:
            db = q.group(1)
    else:
        m = re.match(r"^(?i:rediss?)\+sentinel://(?:[^@/]*@)?([^/]*)(?:/[^/]*)?(?:/(\d+))?", u)
        if m:
            address, port = _host_port(m.group(1).split(",")[0], 26379)
            db = m.group(2) or db
        else:
            m = re.match(r"^(?i:rediss?)(\+cluster)?://(?:[^@/]*@)?([^/?]*)(?:/(\d+))?", u)
            if m:
                address, port = _host_port(m.group(2).split(",")[0], 6379)
                if m.group(3) and not m.group(1):
                    db = m.group(3)
    seed = _seeds(cluster_seeds)
    if seed is not None:
        address, port = _host_port(seed, 6379)
    sentinel = _seeds(sentinels)
    if sentinel is not None:
        address, port = _host_port(sentinel, 26379)
    out["db.namespace"] = db
    if address is not None:
        out["server.address"] = address
    if port is not None:
        out["server.port"] = port
    return out


# ---- spans ----------------------------------------------------------------------------

_PROPAGATOR = TraceContextTextMapPropagator()
_RESPONSE_CODE = re.compile(r"^([A-Z][A-Z0-9_-]*)\b")


def _error_type(op: _ins.Op, err: BaseException) -> Optional[str]:
    """``error.type`` of an operation that raised ``err``; None when it is
    an answer, not a failure (a held lock on a try-acquire, a cache miss)."""
    if isinstance(err, RedisxError):
        return None if err.name == op.expected else err.name
    if isinstance(err, NotFound):
        return None
    return "_OTHER"  # a stream handler's own error (the contract's value)


def _headers_of(raw: Mapping[str, Any]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for k in ("traceparent", "tracestate"):
        v = raw.get(k)
        if isinstance(v, (bytes, bytearray)):
            v = bytes(v).decode("ascii", "replace")
        if isinstance(v, str):
            out[k] = v
    return out


class _Scope:
    """One operation in flight: what redisx._instrument calls a scope."""

    __slots__ = ("_hook", "_op", "_span", "_t0", "_ended", "_name")

    def __init__(self, hook: "_Hook", op: _ins.Op, name: str, span: Any) -> None:
        self._hook = hook
        self._op = op
        self._name = name
        self._span = span
        self._ended = False
        self._t0 = time.perf_counter()

    def use(self) -> Any:
        if self._span is None:
            return _NullContext()
        return _otel_trace.use_span(self._span, end_on_exit=False, record_exception=False,
                                    set_status_on_exception=False)

    def outcome(self, outcome: str) -> None:
        if self._span is not None:
            self._span.set_attribute("redisx.cache.outcome", outcome)

    def headers(self) -> Optional[Dict[str, str]]:
        if self._span is None:
            return None
        carrier: Dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=_otel_trace.set_span_in_context(self._span))
        return carrier or None

    def end(self, err: Optional[BaseException], result: Any) -> None:
        if self._ended:
            return
        self._ended = True
        hook = self._hook
        etype = None if err is None else _error_type(self._op, err)
        if hook.duration is not None:
            hook.duration.record(time.perf_counter() - self._t0, hook.point_attributes(self._name, etype))
        span = self._span
        if span is None:
            return
        if span.is_recording():
            op = self._op
            if err is not None:
                if etype is not None:
                    attrs: Dict[str, Any] = {"error.type": etype}
                    if etype == "ERR_SERVER" and isinstance(err, RedisxError):
                        m = _RESPONSE_CODE.match(err.detail or "")
                        if m:
                            attrs["db.response.status_code"] = m.group(1)
                    span.set_attributes(attrs)
                    span.set_status(Status(StatusCode.ERROR, str(err)))
            elif result is not None:
                if op is _ins.LOCK_ACQUIRE or op is _ins.LOCK_TRY_ACQUIRE:
                    span.set_attribute("redisx.lock.fencing_token", int(result.fencing_token))
                elif op is _ins.RL_CHECK:
                    span.set_attributes({"redisx.ratelimit.allowed": bool(result.allowed),
                                         "redisx.ratelimit.remaining": int(result.remaining)})
                elif op is _ins.STREAM_PUBLISH and isinstance(result, list) and len(result) == 1:
                    span.set_attribute("messaging.message.id", result[0])
        span.end()


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


_KINDS = {"publish": SpanKind.PRODUCER, "handle": SpanKind.CONSUMER}


class _Hook:
    """The hook redisx._instrument describes, for one client."""

    def __init__(self, tracer: Any, duration: Any, base: Dict[str, Any], observer: Optional["_Observer"]) -> None:
        self.tracer = tracer
        self.duration = duration
        self._base = base
        self.observer = observer
        self._points: Dict[Tuple[str, Optional[str]], Dict[str, str]] = {}

    def point_attributes(self, name: str, etype: Optional[str]) -> Dict[str, str]:
        """The histogram's attributes of an operation and outcome (made once
        each: the set of operation names and status names is bounded)."""
        key = (name, etype)
        attrs = self._points.get(key)
        if attrs is None:
            attrs = {"db.system.name": "redis", "db.operation.name": name}
            if etype is not None:
                attrs["error.type"] = etype
            if len(self._points) < 4096:  # raw command names come from callers
                self._points[key] = attrs
        return attrs

    def detach(self, client: Client) -> None:
        if client._instr is self:
            client._instr = None
        if self.observer is not None:
            self.observer.active = False

    def start(self, op: _ins.Op, name: Optional[str] = None, extra: Optional[Mapping[str, Any]] = None) -> _Scope:
        span_name = name if op is _ins.COMMAND and name else op.name
        tracer = self.tracer
        if tracer is None:
            return _Scope(self, op, span_name, None)
        attributes = dict(self._base)
        attributes["db.operation.name"] = span_name
        kind = SpanKind.CLIENT
        links = None
        parent = None  # the caller's current context
        if op.primitive == "stream":
            attributes["messaging.system"] = "redis"
            attributes["messaging.destination.name"] = name or ""
            attributes["redisx.name"] = name or ""
            kind = _KINDS.get(op.operation, SpanKind.CLIENT)
            if op is _ins.STREAM_PUBLISH:
                count = (extra or {}).get("count", 1)
                if count > 1:
                    attributes["messaging.batch.message_count"] = count
            elif op is _ins.STREAM_HANDLE and extra is not None:
                attributes["messaging.message.id"] = extra.get("id", "")
                attributes["messaging.consumer.group.name"] = extra.get("group", "")
                # A new root span linked to the producer's: a message is
                # handled apart from, and often long after, its publish.
                parent = _otel_context.Context()
                sc = _otel_trace.get_current_span(
                    _PROPAGATOR.extract(_headers_of(extra.get("headers") or {}))).get_span_context()
                if sc.is_valid:
                    links = [Link(sc)]
        elif name is not None and op is not _ins.COMMAND:
            attributes["redisx.name"] = name
        span = tracer.start_span(span_name, context=parent, kind=kind, attributes=attributes, links=links)
        return _Scope(self, op, span_name, span)


# ---- observable counters and gauges ----------------------------------------------------


#: (core name, help, type, labels, [(label values, value)], OpenTelemetry name, unit)
Family = Tuple[str, str, int, List[str], List[Tuple[List[str], float]], str, str]


def _snapshot(client: Client) -> List[Family]:
    """The core's counter and gauge families, with the instrument name and
    unit the core gives each (redisx_metrics_otel_name / _unit: one table
    for every package); [] for a closed client."""
    ctx = client._ctx
    if ctx is None:
        return []
    try:
        m = _c.pyx_metrics(ctx)
    except ClientClosed:
        return []
    try:
        out: List[Family] = []
        for f in range(_c.redisx_metrics_families(m)):
            kind = _c.redisx_metrics_type(m, f)
            if kind == _c.REDISX_METRIC_HISTOGRAM:
                continue
            nl = _c.redisx_metrics_label_count(m, f)
            labels = [_c.redisx_metrics_label_name(m, f, i) for i in range(nl)]
            samples = [([_c.redisx_metrics_label_value(m, f, s, i) for i in range(nl)], _c.redisx_metrics_value(m, f, s))
                       for s in range(_c.redisx_metrics_samples(m, f))]
            out.append((_c.redisx_metrics_name(m, f), _c.redisx_metrics_help(m, f), kind, labels, samples,
                        _c.redisx_metrics_otel_name(m, f), _c.redisx_metrics_unit(m, f)))
        return out
    finally:
        _c.redisx_metrics_free(m)


class _Observer:
    """The observable instruments of one client. The Python API has no batch
    callback (Node's addBatchObservableCallback, Go's RegisterCallback): each
    instrument has a callback, and they share one snapshot per collection.
    The SDK calls an instrument's callbacks in the order the instruments
    were made, so the first instrument's takes the snapshot and the last
    one's drops it; a callback that finds none (another SDK) takes its own."""

    def __init__(self, client: Client, meter: Any) -> None:
        self._client = weakref.ref(client)
        self._lock = threading.Lock()
        self._snap: Optional[Dict[str, Family]] = None
        self.active = True
        self.snapshots = 0  # how many the callbacks took (tests)
        families = _snapshot(client)
        for i, (fam, doc, kind, _labels, _samples, name, unit) in enumerate(families):
            cb = self._callback(fam, i == 0, i == len(families) - 1)
            if kind == _c.REDISX_METRIC_COUNTER:
                meter.create_observable_counter(name, callbacks=[cb], unit=unit, description=doc)
            else:
                meter.create_observable_gauge(name, callbacks=[cb], unit=unit, description=doc)

    def _take(self) -> Dict[str, Family]:
        client = self._client()
        self.snapshots += 1
        return {f[0]: f for f in (_snapshot(client) if client is not None else [])}

    def _callback(self, family: str, first: bool, last: bool) -> Callable[[CallbackOptions], Iterator[Observation]]:
        def observe(options: CallbackOptions) -> Iterator[Observation]:
            if not self.active:
                return iter(())
            with self._lock:
                snap = self._snap
                if first or snap is None:
                    snap = self._snap = self._take()
                if last:
                    self._snap = None
            f = snap.get(family)
            if f is None:
                return iter(())
            labels = f[3]
            return iter([Observation(v, dict(zip(labels, values))) for values, v in f[4]])
        return observe


# ---- instrument / uninstrument -----------------------------------------------------------


class Instrumentation:
    """What ``instrument()`` returns: ``uninstrument()`` (or ``close()``, or
    the end of a ``with`` block) stops the spans, the duration histogram and
    the observations of the client."""

    def __init__(self, client: Client, hook: _Hook) -> None:
        self._client = weakref.ref(client)  # never keeps the client alive
        self._hook = hook
        self._done = False

    def uninstrument(self) -> None:
        """Later operations report nothing (those in flight end their spans);
        the observable callbacks observe nothing (the Python SDK cannot
        remove an instrument, so it may go on exporting its last point).
        Idempotent."""
        if self._done:
            return
        self._done = True
        client = self._client()
        if client is not None:
            self._hook.detach(client)

    close = uninstrument

    def __enter__(self) -> "Instrumentation":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.uninstrument()


_instrumenting = threading.Lock()


def instrument(client: Client, tracer_provider: Any = None, meter_provider: Any = None) -> Instrumentation:
    """Instruments ``client``: spans through ``tracer_provider`` and the
    duration histogram and observable counters and gauges through
    ``meter_provider`` (None: the global providers; False leaves either out).
    A client is instrumented once (again after ``uninstrument()``); a closed
    client or a provider without ``get_tracer``/``get_meter`` is
    InvalidArgument."""
    if not isinstance(client, Client):
        raise make_error("ERR_INVALID", "instrument: client must be a redisx.Client")
    if client.closed:
        raise make_error("ERR_INVALID", "instrument: the client is closed")
    if tracer_provider is None:
        tracer_provider = _otel_trace.get_tracer_provider()
    if meter_provider is None:
        meter_provider = _otel_metrics.get_meter_provider()
    if tracer_provider is not False and not callable(getattr(tracer_provider, "get_tracer", None)):
        raise make_error("ERR_INVALID", "instrument: tracer_provider must be a TracerProvider, None or False")
    if meter_provider is not False and not callable(getattr(meter_provider, "get_meter", None)):
        raise make_error("ERR_INVALID", "instrument: meter_provider must be a MeterProvider, None or False")
    with _instrumenting:
        if client._instr is not None:
            raise make_error("ERR_INVALID", "instrument: the client is instrumented already")
        tracer = None if tracer_provider is False else tracer_provider.get_tracer(SCOPE, _VERSION)
        duration = None
        observer = None
        if meter_provider is not False:
            meter = meter_provider.get_meter(SCOPE, _VERSION)
            duration = meter.create_histogram(
                DURATION, unit="s", description="Duration of redisx operations (a lock or idempotency wait included)",
                explicit_bucket_boundaries_advisory=list(DURATION_BOUNDS))
            observer = _Observer(client, meter)
        url, seeds, sentinels = client._server_hint
        hook = _Hook(tracer, duration, server_attributes(url, seeds, sentinels), observer)
        client._instr = hook
    return Instrumentation(client, hook)


def uninstrument(client: Client) -> None:
    """What ``Instrumentation.uninstrument()`` does, given the client."""
    hook = getattr(client, "_instr", None)
    if isinstance(hook, _Hook):
        hook.detach(client)
