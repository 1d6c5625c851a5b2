"""The core's log lines through Python's logging (Client(logger=...)), with
no secret in them."""

from __future__ import annotations

import logging

import pytest

import redisx


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_core_lines_reach_a_logger_at_its_levels(redis_url: str, until) -> None:
    log = logging.getLogger("redisx.test.info")
    log.setLevel(logging.INFO)
    cap = Capture()
    log.addHandler(cap)
    seen = []
    c = redisx.Client.from_url(redis_url, logger=log, on_log=seen.append)
    try:
        c.execute("PING")
        assert until(lambda: any("ready" in r.getMessage() for r in cap.records), timeout=15)
    finally:
        c.close()
    assert all(r.levelno >= logging.INFO for r in cap.records), "INFO logger: no DEBUG lines asked for"
    assert any(r.levelno == logging.INFO for r in cap.records)
    assert [e.message for e in seen] == [r.getMessage() for r in cap.records], "on_log sees the same lines"


def test_no_password_in_any_line() -> None:
    log = logging.getLogger("redisx.test.secret")
    log.setLevel(logging.DEBUG)
    cap = Capture()
    log.addHandler(cap)
    secret = "s3cr3t-Pa55word"
    # Nothing listens on port 1: connect failures are logged, with the URL's host.
    c = redisx.Client.from_url(f"redis://user:{secret}@127.0.0.1:1/0", logger=log, connect_timeout=0.2,
                               command_timeout=0.5, reconnect_backoff=(0.01, 0.05))
    try:
        with pytest.raises(redisx.ConnectionError) as e:
            c.execute("PING")
        assert secret not in str(e.value)
    finally:
        c.close()
    assert cap.records, "connect failures are logged"
    for r in cap.records:
        assert secret not in r.getMessage()


def test_logger_must_be_a_logger(redis_url: str) -> None:
    with pytest.raises(redisx.InvalidArgument):
        redisx.Client.from_url(redis_url, logger="redisx")  # type: ignore[arg-type]
