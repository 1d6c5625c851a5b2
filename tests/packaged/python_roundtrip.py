"""What a user of the installed redisx-client package does first: a lock, a
rate-limit check and an idempotency round trip against REDISX_URL (a
rediss:// one with REDISX_TLS_CA_FILE, the CA to trust). Run by
tests/packaged/python.sh with the interpreter of a fresh venv, from a folder
outside the repository. Also checks that the process loaded the package from
that venv and mapped no libredisx or libhiredis."""

import os
import sys
import uuid

import redisx

url = os.environ["REDISX_URL"]
prefix = "pkg" + uuid.uuid4().hex[:8]
here = os.path.dirname(os.path.abspath(redisx.__file__))
assert here.startswith(sys.prefix), f"redisx imported from {here}, not from the venv {sys.prefix}"

tls = {"tls_ca_file": os.environ["REDISX_TLS_CA_FILE"]} if os.environ.get("REDISX_TLS_CA_FILE") else {}

with redisx.Client.from_url(url, prefix=prefix, connect_timeout=15, command_timeout=15, **tls) as client:
    # lock: a second attempt is refused while the first holds it
    with client.lock("orders:42", ttl=5, wait=1) as lk:
        assert lk.fencing_token > 0, lk.fencing_token
        try:
            client.try_lock("orders:42", ttl=5)
        except redisx.LockHeld:
            pass
        else:
            raise AssertionError("a held lock was taken twice")
    again = client.try_lock("orders:42", ttl=5)
    assert again.fencing_token > lk.fencing_token
    again.release()

    # rate limit: 3 per minute, the fourth is denied
    api = client.limiter("api", "fixed_window", limit=3, period=60)
    results = [api.check("user:1") for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False], results
    assert results[-1].retry_after_ms > 0, results[-1]

    # idempotency: the first caller runs, a duplicate replays the response
    with client.idempotency("charge:7", fingerprint=b"amount=10") as rec:
        assert rec.state == "NEW", rec.state
        rec.complete(b"receipt-7", ttl=60)
    with client.idempotency("charge:7", fingerprint=b"amount=10") as rec:
        assert rec.state == "COMPLETED", rec.state
        assert rec.response == b"receipt-7", rec.response

with open("/proc/self/maps") as maps:
    mapped = {line.split()[-1] for line in maps if "/" in line}
# Not libssl/libcrypto: asyncio (which redisx imports) imports Python's ssl
# module, which maps the system's; python.sh checks the extension's NEEDED.
foreign = sorted(p for p in mapped if "libredisx" in p or "libhiredis" in p)
assert not foreign, f"the process mapped {foreign}"

print(f"ok: python {sys.version.split()[0]}, redisx {redisx.__version__} "
      f"from {here}: lock, rate limit, idempotency{' over TLS' if tls else ''}")
