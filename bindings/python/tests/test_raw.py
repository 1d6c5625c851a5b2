"""The generated layer on its own: out-params, tags, the queue."""

from __future__ import annotations

import select

import pytest

import redisx
from redisx import _raw


def test_out_params_are_return_values_and_tags_round_trip(redis_url, prefix):
    opts = _raw.redisx_options_new()
    q = _raw.redisx_queue_new()
    try:
        _raw.redisx_options_set_url(opts, redis_url)
        _raw.redisx_options_set_prefix(opts, prefix)
        _raw.redisx_options_set_queue(opts, q, 0)
        client = _raw.redisx_client_open(opts)
    finally:
        _raw.redisx_options_free(opts)
    try:
        lk = _raw.redisx_lock_acquire(client, "raw", 5000, 0)
        assert _raw.redisx_lock_fencing_token(lk) == 1
        assert _raw.redisx_lock_name(lk) == "raw"
        assert _raw.redisx_lock_inspect(client, "raw") == (True, 1, pytest.approx(5000, abs=1000), 1)
        with pytest.raises(redisx.LockHeld):
            _raw.redisx_lock_try_acquire(client, "raw", 5000)
        _raw.redisx_lock_release(lk)
        _raw.redisx_lock_free(lk)

        tag = 2**40 + 7
        _raw.redisx_lock_acquire_async(client, "raw", 5000, 0, tag)
        r, _, _ = select.select([_raw.redisx_queue_fd(q)], [], [], 30)
        assert r
        item = _raw.redisx_queue_pop(q, 0)
        assert _raw.redisx_item_user(item) == tag
        assert _raw.redisx_item_status(item) == 0
        lk2 = _raw.redisx_item_take_lock(item)
        _raw.redisx_item_free(item)
        assert _raw.redisx_lock_fencing_token(lk2) == 2
        _raw.redisx_lock_release(lk2)
        _raw.redisx_lock_free(lk2)

        key = f"{prefix}:rawkey"
        assert _raw.redisx_command(client, ["SET", key, b"\x00v"]) == "OK"
        assert _raw.redisx_command(client, ["GET", key]) == b"\x00v"
        with pytest.raises(redisx.Empty):
            _raw.redisx_queue_pop(q, 0)
    finally:
        _raw.redisx_client_close(client)
        _raw.redisx_queue_free(q)
