"""Redis Streams: publishing with a codec and headers, consumer groups whose
handlers run in threads or as asyncio tasks, retries by delivery count and a
dead-letter stream, a graceful stop. The semantics are the C core's
(docs/STREAMS.md); the split of a message into payload, codec, headers and
plain fields too (docs/KEYS.md, contract v4), so a message published here
decodes the same in Node and Go.

    client.create_group("orders", "billing", start="0")
    client.publish("orders", {"id": 42}, headers={"type": "order.created"})

    consumer = client.consumer("orders", "billing", max_deliveries=5)

    @consumer.handler(workers=4)
    def handle(msg):            # return: ack; raise: retry, then dead-letter
        bill(msg.payload)

    consumer.run()              # until consumer.stop() (another thread, a signal)

    async def ahandle(msg): ...
    await consumer.run_async(ahandle, concurrency=16)
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import queue
import socket
import threading
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple, Union

from . import _instrument as _ins
from . import _rawc as _c
from ._errors import ClientClosed, ConnectionError, Empty, RedisxError, Timeout, make_error

if TYPE_CHECKING:  # pragma: no cover
    from ._client import Client

Bytes = Union[bytes, str]


class _JSON:
    """Compact JSON as UTF-8, codec name "json" (the default of every binding)."""

    name = "json"

    @staticmethod
    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @staticmethod
    def loads(data: bytes) -> Any:
        return json.loads(data)


class _Bytes:
    """Raw bytes (a str is sent as UTF-8), codec name "bytes"."""

    name = "bytes"

    @staticmethod
    def dumps(value: Any) -> bytes:
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise make_error("ERR_INVALID", f"the bytes codec takes bytes or str, got {type(value).__name__}")

    @staticmethod
    def loads(data: bytes) -> Any:
        return data


CODECS: Dict[str, Any] = {"json": _JSON, "bytes": _Bytes}


def _codec_of(codec: Any) -> Any:
    if codec is None:
        return _JSON
    if isinstance(codec, str):
        if codec not in CODECS:
            raise make_error("ERR_INVALID", f"unknown codec {codec!r} (known: {', '.join(sorted(CODECS))})")
        return CODECS[codec]
    if not (isinstance(getattr(codec, "name", None), str) and callable(getattr(codec, "dumps", None))
            and callable(getattr(codec, "loads", None))):
        raise make_error("ERR_INVALID", "a codec needs .name (str), .dumps(value) -> bytes and .loads(bytes)")
    return codec


def _trim(maxlen: Optional[int], maxage: Optional[float]) -> Tuple[int, int]:
    if maxlen is not None and maxage is not None:
        raise make_error("ERR_INVALID", "give maxlen or maxage, not both")
    if maxlen is not None:
        return _c.REDISX_STREAM_TRIM_MAXLEN, maxlen
    if maxage is not None:
        if isinstance(maxage, bool) or not isinstance(maxage, (int, float)) or maxage < 0:
            raise make_error("ERR_INVALID", f"maxage must be a number of seconds >= 0, got {maxage!r}")
        return _c.REDISX_STREAM_TRIM_MAXAGE, int(maxage * 1000)
    return _c.REDISX_STREAM_TRIM_NONE, 0


_NO_PAYLOAD = object()


def _add(batch: Any, payload: Any, fields: Optional[Mapping[Bytes, Bytes]], headers: Optional[Mapping[str, Bytes]],
         codec: Any, extra: Optional[Mapping[str, str]] = None) -> None:
    _c.redisx_stream_batch_add_message(batch)
    if payload is not _NO_PAYLOAD:
        k = _codec_of(codec)
        try:
            data = k.dumps(payload)
        except RedisxError:
            raise
        except Exception as e:  # noqa: BLE001 - any codec failure is bad input
            raise make_error("ERR_INVALID", f"payload cannot be encoded by codec {k.name!r}: {e}") from e
        _c.redisx_stream_batch_add_payload(batch, data, k.name)
    elif not fields:
        raise make_error("ERR_INVALID", "a message needs a payload or fields")
    if headers is not None:
        if not isinstance(headers, Mapping):
            raise make_error("ERR_INVALID", "headers must be a mapping")
        for name, value in headers.items():
            _c.redisx_stream_batch_add_header(batch, name, value)
    if extra:
        # the instrumentation's headers (traceparent); the caller's own win
        for name, value in extra.items():
            if headers is None or name not in headers:
                _c.redisx_stream_batch_add_header(batch, name, value)
    if fields is not None:
        if not isinstance(fields, Mapping):
            raise make_error("ERR_INVALID", "fields must be a mapping")
        for name, value in fields.items():
            _c.redisx_stream_batch_add_field(batch, name, value)


def publish_batch(client: "Client", stream: str, messages: Iterable[Any], maxlen: Optional[int],
                  maxage: Optional[float], codec: Any) -> List[str]:
    """See ``Client.publish_batch``."""
    trim, threshold = _trim(maxlen, maxage)
    instr = client._instr
    if instr is not None:
        messages = list(messages)
        scope = instr.start(_ins.STREAM_PUBLISH, stream, {"count": len(messages)})
        try:
            ids = _publish(client, stream, messages, trim, threshold, codec, scope.headers())
        except BaseException as e:
            scope.end(e, None)
            raise
        scope.end(None, ids)
        return ids
    return _publish(client, stream, messages, trim, threshold, codec, None)


def _publish(client: "Client", stream: str, messages: Iterable[Any], trim: int, threshold: int, codec: Any,
             extra: Optional[Mapping[str, str]]) -> List[str]:
    batch = _c.redisx_stream_batch_new()
    try:
        n = 0
        for m in messages:
            if isinstance(m, Mapping) and ("payload" in m or "fields" in m):
                unknown = set(m) - {"payload", "fields", "headers", "codec"}
                if unknown:
                    raise make_error("ERR_INVALID", f"unknown message keys {sorted(unknown)}")
                _add(batch, m.get("payload", _NO_PAYLOAD), m.get("fields"), m.get("headers"), m.get("codec", codec),
                     extra)
            else:
                _add(batch, m, None, None, codec, extra)
            n += 1
        if n == 0:
            raise make_error("ERR_INVALID", "no messages to publish")
        _c.redisx_stream_publish_batch(_c.pyx_ctx_client(client._ctx_or_raise()), stream, batch, trim, threshold)
        return [_c.redisx_stream_batch_id(batch, i) for i in range(n)]
    finally:
        _c.redisx_stream_batch_free(batch)


def publish(client: "Client", stream: str, payload: Any, fields: Optional[Mapping[Bytes, Bytes]],
            headers: Optional[Mapping[str, Bytes]], codec: Any, maxlen: Optional[int], maxage: Optional[float]) -> str:
    """See ``Client.publish``."""
    msg: Dict[str, Any] = {"fields": fields, "headers": headers, "codec": codec}
    if payload is not _NO_PAYLOAD:
        msg["payload"] = payload
    return publish_batch(client, stream, [msg], maxlen, maxage, codec)[0]


# ---- consumer -------------------------------------------------------------------


class _Delivery:
    """One next() result: freed once every message of it is settled or dropped."""

    __slots__ = ("_h", "_left", "_mu")

    def __init__(self, handle: Any, n: int) -> None:
        self._h = handle
        self._left = n
        self._mu = threading.Lock()

    def done(self) -> None:
        with self._mu:
            self._left -= 1
            h = self._h if self._left == 0 else None
            if h is not None:
                self._h = None
        if h is not None:
            _c.redisx_delivery_free(h)


class DeadLetter(Exception):
    """Raise from a handler to move the message to the dead-letter stream at
    once (no retry)."""


class Message:
    """A message handed to a handler.

    ``payload`` is the decoded payload (None when the message has none: plain
    fields only), ``raw_payload`` its bytes, ``codec`` the codec's name,
    ``fields`` the plain fields (bytes to bytes), ``headers`` (str to bytes),
    ``delivery_count`` Redis' counter (1 the first time), ``taken_over``
    (idempotent consumers: the record was taken over from a consumer that
    began it and never finished; part of the work may be done). Settle with
    ``ack()``, ``retry(delay=None, reason="")`` or ``dead_letter(reason)``;
    a handler that returns without settling acks, one that raises retries."""

    __slots__ = ("_h", "_d", "_settled", "_mu", "_codecs", "_scope", "id", "delivery_count", "stream", "fields",
                 "raw_payload", "codec", "headers", "taken_over", "__weakref__")

    def __init__(self, t: tuple, d: _Delivery, codecs: Mapping[str, Any]) -> None:
        (self._h, self.id, self.delivery_count, self.stream, fields, self.raw_payload, self.codec, headers,
         self.taken_over) = t
        self.fields: Dict[bytes, bytes] = dict(fields)
        self.headers: Dict[str, bytes] = dict(headers)
        self._d = d
        self._settled = False
        self._mu = threading.Lock()
        self._codecs = codecs
        self._scope: Any = None  # fetch()'s stream.handle scope (redisx._instrument), hand-out to settle

    def __repr__(self) -> str:
        return f"<redisx.Message {self.stream!r} {self.id} delivery={self.delivery_count}>"

    @property
    def payload(self) -> Any:
        if self.raw_payload is None:
            return None
        name = self.codec or "json"
        codec = self._codecs.get(name)
        if codec is None:
            raise make_error("ERR_INVALID", f"message {self.id}: unknown codec {name!r} (pass codecs= to the consumer)")
        return codec.loads(self.raw_payload)

    @property
    def settled(self) -> bool:
        return self._settled

    def _settle(self, fn: Callable[..., Any], *args: Any) -> Any:
        with self._mu:
            if self._settled:
                raise make_error("ERR_INVALID", f"message {self.id} is settled already")
            try:
                res = fn(self._h, *args)
            except RedisxError as e:
                if e.name == "ERR_INVALID":
                    raise
                self._settled = True
                self._d.done()
                self._end_scope(e)
                raise
            self._settled = True
        self._d.done()
        self._end_scope(None)
        return res

    def _end_scope(self, err: Optional[BaseException]) -> None:
        scope, self._scope = self._scope, None
        if scope is not None:
            scope.end(err, None)

    def ack(self) -> None:
        """Done: acknowledged, never delivered again."""
        self._settle(_c.redisx_message_ack)

    def retry(self, delay: Optional[float] = None, reason: str = "") -> bool:
        """Redelivered after ``delay`` seconds (None: the consumer's jittered
        backoff), staying pending (never re-added); after max deliveries it
        goes to the dead-letter stream instead: returns True then."""
        ms = -1 if delay is None else _seconds_ms(delay, "delay")
        return bool(self._settle(_c.redisx_message_retry, ms, _reason(reason)))

    def dead_letter(self, reason: str = "") -> None:
        """Moves the message to the dead-letter stream and acks it, atomically."""
        self._settle(_c.redisx_message_dead_letter, _reason(reason))

    def __del__(self) -> None:
        # Dropped unsettled: it stays pending and is redelivered after min idle.
        try:
            if not self._settled:
                self._settled = True
                self._d.done()
                self._end_scope(None)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def _reason(reason: Any) -> str:
    s = reason if isinstance(reason, str) else str(reason)
    return s.replace("\0", "")


def _seconds_ms(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise make_error("ERR_INVALID", f"{what} must be a number of seconds >= 0, got {v!r}")
    return int(round(v * 1000))


_seq_lock = threading.Lock()
_seq = 0


def _default_name() -> str:
    global _seq
    with _seq_lock:
        _seq += 1
        n = _seq
    return f"{socket.gethostname()}-{os.getpid()}-py{n}"


Handler = Callable[[Message], Any]


class Consumer:
    """A consumer of ``group`` on ``stream`` (``Client.consumer``). It reads
    on a connection of its own; ``run(handler)`` runs handlers in threads,
    ``run_async(handler)`` as asyncio tasks, until ``stop()``."""

    def __init__(self, client: "Client", stream: str, group: str, name: Optional[str], *,
                 max_in_flight: Optional[int], max_deliveries: Optional[int],
                 retry_backoff: Optional[Tuple[float, float]], min_idle: Optional[float],
                 reclaim_interval: Optional[float], block: Optional[float], delete_idle: Optional[float],
                 codecs: Optional[Iterable[Any]], idempotent: Any = None) -> None:
        self._client = client
        self.stream = stream
        self.group = group
        self.name = name if name is not None else _default_name()
        self._codecs: Dict[str, Any] = dict(CODECS)
        for k in codecs or ():
            k = _codec_of(k)
            self._codecs[k.name] = k
        self._handler: Optional[Handler] = None
        self._workers = 4
        self._stopping = threading.Event()
        self._running = False
        self._h: Any = None
        opts = _c.redisx_consumer_options_new()
        try:
            if max_in_flight is not None:
                _c.redisx_consumer_options_set_max_in_flight(opts, max_in_flight)
            if max_deliveries is not None:
                _c.redisx_consumer_options_set_max_deliveries(opts, max_deliveries)
            if retry_backoff is not None:
                lo, hi = retry_backoff
                _c.redisx_consumer_options_set_retry_backoff_ms(opts, _seconds_ms(lo, "retry_backoff"),
                                                                _seconds_ms(hi, "retry_backoff"))
            if min_idle is not None or reclaim_interval is not None:
                mi = _seconds_ms(30.0 if min_idle is None else min_idle, "min_idle")
                ri = 0 if reclaim_interval is None else _seconds_ms(reclaim_interval, "reclaim_interval")
                _c.redisx_consumer_options_set_reclaim(opts, mi, ri)
            if block is not None:
                _c.redisx_consumer_options_set_block_ms(opts, _seconds_ms(block, "block"))
            if delete_idle is not None:
                _c.redisx_consumer_options_set_delete_idle_ms(opts, _seconds_ms(delete_idle, "delete_idle"))
            if idempotent is not None and idempotent is not False:
                # Exactly-once in effect: each message in an idempotency record
                # (lease: the longest handler time; ttl: how long a redelivery
                # is recognised).
                if idempotent is True:
                    lease, ttl = 30.0, 86400.0
                elif isinstance(idempotent, (tuple, list)) and len(idempotent) == 2:
                    lease, ttl = idempotent
                else:
                    raise make_error("ERR_INVALID", "idempotent must be True or (lease_seconds, ttl_seconds)")
                _c.redisx_consumer_options_set_idempotent(opts, _seconds_ms(lease, "idempotent lease"),
                                                          _seconds_ms(ttl, "idempotent ttl"))
            self._h = _c.redisx_consumer_new(_c.pyx_ctx_client(client._ctx_or_raise()), stream, group, self.name,
                                             opts)
        finally:
            _c.redisx_consumer_options_free(opts)

    def __repr__(self) -> str:
        return f"<redisx.Consumer {self.stream!r} group={self.group!r} name={self.name!r}>"

    # -- the decorator form ----------------------------------------------------------

    def handler(self, fn: Optional[Handler] = None, *, workers: int = 4) -> Any:
        """``@consumer.handler`` (or ``@consumer.handler(workers=8)``)
        registers the handler that ``run()`` / ``run_async()`` use; an
        ``async def`` handler runs as asyncio tasks under ``run_async``."""
        def register(f: Handler) -> Handler:
            if not callable(f):
                raise make_error("ERR_INVALID", "handler must be callable")
            self._handler = f
            self._workers = workers
            return f
        return register(fn) if fn is not None else register

    # -- pulling ---------------------------------------------------------------------

    def _next(self, max_messages: int, timeout_ms: int) -> List[Message]:
        h = self._h
        if h is None:
            raise make_error("ERR_CLOSED", "consumer is closed")
        if self._client.closed:  # its settles would fail: stop reading
            self.stop(0)
            raise make_error("ERR_CLOSED", "client is closed")
        try:
            d = _c.redisx_consumer_next(h, max_messages, timeout_ms)
        except Empty:
            return []
        try:
            ts = _c.pyx_stream_messages(d)
        except BaseException:
            _c.redisx_delivery_free(d)
            raise
        if not ts:
            _c.redisx_delivery_free(d)
            return []
        dl = _Delivery(d, len(ts))
        return [Message(t, dl, self._codecs) for t in ts]

    def fetch(self, max_messages: int = 16, timeout: float = 1.0) -> List[Message]:
        """Up to ``max_messages`` messages, waiting up to ``timeout`` seconds
        ([] when none came); settle each. Raises ClientClosed after stop().
        Instrumented, each message's ``stream.handle`` span runs from here to
        its settle and is not made current (start your own with a link)."""
        msgs = self._next(max_messages, _seconds_ms(timeout, "timeout"))
        instr = self._client._instr
        if instr is not None:
            for m in msgs:
                m._scope = instr.start(_ins.STREAM_HANDLE, self.stream, self._handle_extra(m))
        return msgs

    def _settle_by_outcome(self, msg: Message, exc: Optional[BaseException]) -> None:
        if msg.settled:
            return
        try:
            if exc is None:
                msg.ack()
            elif isinstance(exc, DeadLetter):
                msg.dead_letter(str(exc))
            else:
                msg.retry(None, f"{type(exc).__name__}: {exc}")
        except RedisxError:
            pass  # stays pending: redelivered after min idle

    def _reader_errors(self, e: RedisxError) -> bool:
        """True to keep reading after a read error, False to stop (closed)."""
        if isinstance(e, ClientClosed):
            return False
        if isinstance(e, (ConnectionError, Timeout)):
            self._stopping.wait(0.2)  # the next call reconnects
            return True
        raise e

    def run(self, handler: Optional[Handler] = None, *, workers: Optional[int] = None) -> None:
        """Runs ``handler`` (or the registered one) in ``workers`` threads
        until ``stop()``; returns once the consumer has stopped. A read error
        other than a lost connection (NOGROUP: the group or stream is gone)
        stops it and is raised."""
        fn = handler or self._handler
        if fn is None or not callable(fn):
            raise make_error("ERR_INVALID", "no handler: pass one or register it with @consumer.handler")
        if inspect.iscoroutinefunction(fn):
            raise make_error("ERR_INVALID", "an async handler runs with run_async()")
        n = workers if workers is not None else self._workers
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise make_error("ERR_INVALID", f"workers must be an int >= 1, got {n!r}")
        jobs: "queue.Queue[Optional[Message]]" = queue.Queue(maxsize=n)

        def work() -> None:
            while True:
                m = jobs.get()
                if m is None:
                    return
                exc: Optional[BaseException] = None
                instr = self._client._instr
                if instr is None:
                    try:
                        fn(m)
                    except BaseException as e:  # noqa: BLE001 - any failure retries
                        exc = e
                    self._settle_by_outcome(m, exc)
                    del m
                    continue
                # stream.handle: the handler and the settle, the handler inside it
                scope = instr.start(_ins.STREAM_HANDLE, self.stream, self._handle_extra(m))
                try:
                    with scope.use():
                        fn(m)
                except BaseException as e:  # noqa: BLE001 - any failure retries
                    exc = e
                self._settle_by_outcome(m, exc)
                scope.end(exc, None)
                del m, scope

        threads = [threading.Thread(target=work, name=f"redisx-stream-{i}", daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        self._running = True
        try:
            while True:
                try:
                    msgs = self._next(n, 1000)
                except RedisxError as e:
                    if self._reader_errors(e):
                        continue
                    break
                for m in msgs:
                    jobs.put(m)
                del msgs
        finally:
            for _ in threads:
                jobs.put(None)
            for t in threads:
                t.join()
            self._running = False

    async def run_async(self, handler: Optional[Callable[[Message], Awaitable[Any]]] = None, *,
                        concurrency: Optional[int] = None) -> None:
        """Runs ``async def handler(msg)`` as asyncio tasks, at most
        ``concurrency`` at a time, until ``stop()`` (or ``await
        stop_async()``); reads and settles run in threads, never blocking
        the event loop. Cancelling the task stops the consumer gracefully."""
        fn = handler or self._handler
        if fn is None or not callable(fn):
            raise make_error("ERR_INVALID", "no handler: pass one or register it with @consumer.handler")
        n = concurrency if concurrency is not None else self._workers
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise make_error("ERR_INVALID", f"concurrency must be an int >= 1, got {n!r}")
        loop = asyncio.get_running_loop()
        active = 0
        slot = asyncio.Event()
        tasks: set = set()

        async def one(m: Message) -> None:
            nonlocal active
            exc: Optional[BaseException] = None
            instr = self._client._instr
            scope = None if instr is None else instr.start(_ins.STREAM_HANDLE, self.stream, self._handle_extra(m))
            try:
                if scope is None:
                    res = fn(m)
                    if inspect.isawaitable(res):
                        await res
                else:
                    with scope.use():  # this task's context: the handler's spans are children
                        res = fn(m)
                        if inspect.isawaitable(res):
                            await res
            except Exception as e:  # noqa: BLE001 - any failure retries
                exc = e
            try:
                await loop.run_in_executor(None, self._settle_by_outcome, m, exc)
            finally:
                active -= 1
                slot.set()
                if scope is not None:
                    scope.end(exc, None)

        self._running = True
        try:
            while True:
                while active >= n:
                    slot.clear()
                    await slot.wait()
                try:
                    msgs = await loop.run_in_executor(None, self._next, n - active, 1000)
                except RedisxError as e:
                    if await loop.run_in_executor(None, self._reader_errors, e):
                        continue
                    break
                active += len(msgs)
                for m in msgs:
                    t = loop.create_task(one(m))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
                del msgs
        except asyncio.CancelledError:
            await self.stop_async()
            raise
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            self._running = False

    def _handle_extra(self, m: Message) -> Dict[str, Any]:
        return {"group": self.group, "id": m.id, "headers": m.headers}

    # -- stopping ----------------------------------------------------------------------

    def stop(self, timeout: float = 10.0) -> bool:
        """Graceful stop: no more reads (a blocked read ends at once), then
        waits up to ``timeout`` seconds for the messages handed out to be
        settled; what is left stays pending for other consumers. True when
        everything was settled in time. Safe from any thread; idempotent."""
        self._stopping.set()
        h = self._h
        if h is None:
            return True
        try:
            _c.redisx_consumer_stop(h, _seconds_ms(timeout, "timeout"))
            return True
        except Timeout:
            return False

    async def stop_async(self, timeout: float = 10.0) -> bool:
        """``stop()`` without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, self.stop, timeout)

    def close(self) -> None:
        """Hard close: stop without waiting, then free the consumer."""
        h, self._h = self._h, None
        if h is not None:
            self._stopping.set()
            _c.redisx_consumer_free(h)

    def __enter__(self) -> "Consumer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        self.close()

    @property
    def in_flight(self) -> int:
        """Messages handed out and not settled."""
        return 0 if self._h is None else int(_c.redisx_consumer_in_flight(self._h))

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


_OPTIONS = ("max_in_flight", "max_deliveries", "retry_backoff", "min_idle", "reclaim_interval", "block", "delete_idle",
            "codecs", "idempotent")


def make_consumer(client: "Client", stream: str, group: str, name: Optional[str], options: Dict[str, Any]) -> Consumer:
    unknown = set(options) - set(_OPTIONS)
    if unknown:
        raise make_error("ERR_INVALID", f"unknown consumer options {sorted(unknown)}")
    return Consumer(client, stream, group, name, **{k: options.get(k) for k in _OPTIONS})


# ---- dead-letter tools (the core's redisx_dlq_*) -----------------------------------


class DeadLetterEntry(NamedTuple):
    """One entry of a dead-letter stream: its own id there, the original
    entry's id, stream, group and consumer, delivery count, the error text,
    whether the original was deleted (then no fields; it cannot be
    requeued) and the original fields (payload, codec and headers included)."""

    id: str
    original_id: str
    stream: str
    group: str
    consumer: str
    deliveries: int
    error: str
    deleted: bool
    fields: List[Tuple[bytes, bytes]]


def dead_letters(client: "Client", stream: str, count: int, newest_first: bool, after: Optional[str]) -> List[DeadLetterEntry]:
    c = _c.pyx_ctx_client(client._ctx_or_raise())
    return [DeadLetterEntry(*t) for t in _c.pyx_dlq_list(c, stream, int(bool(newest_first)), after, count)]


def requeue_dead_letter(client: "Client", stream: str, dlq_id: str) -> str:
    return _c.pyx_dlq_requeue(_c.pyx_ctx_client(client._ctx_or_raise()), stream, dlq_id)


def dead_letter(client: "Client", stream: str, dlq_id: str) -> DeadLetterEntry:
    return DeadLetterEntry(*_c.pyx_dlq_inspect(_c.pyx_ctx_client(client._ctx_or_raise()), stream, dlq_id))


class GroupInfo(NamedTuple):
    """The state of a consumer group (XINFO GROUPS)."""

    consumers: int
    pending: int  #: delivered, not yet acknowledged
    lag: Optional[int]  #: not yet delivered to the group; None when Redis cannot tell
    entries_read: Optional[int]
    last_delivered_id: str


def group_info(client: "Client", stream: str, group: str) -> GroupInfo:
    return GroupInfo(*_c.pyx_group_inspect(_c.pyx_ctx_client(client._ctx_or_raise()), stream, group))


def purge_dead_letters(client: "Client", stream: str, up_to: Optional[str]) -> int:
    return int(_c.pyx_dlq_purge(_c.pyx_ctx_client(client._ctx_or_raise()), stream, up_to))
