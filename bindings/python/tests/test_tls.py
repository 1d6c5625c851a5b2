"""TLS: rediss:// and the tls* keywords against redis-server --tls-port, with
certificates made by the openssl CLI (conftest.make_test_certs). The rules
(verification, hostname, SNI, client certificates) are the core's; these
tests check that each keyword reaches its setter and that failures arrive
as the package's exceptions with the core's reasons."""

from __future__ import annotations

import os
import pathlib
import shutil
import ssl
import tempfile
import uuid
from typing import Any, Iterator

import pytest

import redisx
from conftest import RedisServer, make_test_certs

# Generous: the machine running the suite may be loaded, and a TLS handshake
# is a few round trips and some public-key work.
TIMEOUTS = {"connect_timeout": 15.0, "command_timeout": 15.0}
# A command waits for a connection until its own deadline and then fails with
# the last attempt's reason: where every attempt fails, a shorter deadline
# (still far above one local handshake) keeps the suite quick.
FAILING = {"connect_timeout": 15.0, "command_timeout": 5.0}


@pytest.fixture(scope="module")
def certs() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="redisx-py-tls-")
    try:
        make_test_certs(folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_server(certs: str) -> Iterator[RedisServer]:
    """TLS only; a client certificate is checked when offered, not required."""
    server = RedisServer(tls_dir=certs, tls_auth_clients="optional")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def mtls_server(certs: str) -> Iterator[RedisServer]:
    """TLS only; every client must present a certificate of the test CA."""
    server = RedisServer(tls_dir=certs, tls_auth_clients="yes")
    try:
        yield server
    finally:
        server.stop()


def tls_client(url: str, *, failing: bool = False, **options: Any) -> redisx.Client:
    options.setdefault("prefix", "t" + uuid.uuid4().hex[:12])
    return redisx.Client.from_url(url, **(FAILING if failing else TIMEOUTS), **options)


def ca(certs: str, name: str = "ca.crt") -> str:
    return os.path.join(certs, name)


def lock_limit_idempotency(client: redisx.Client) -> None:
    with client.lock("orders:42", ttl=10, wait=5) as lk:
        assert lk.fencing_token > 0
        with pytest.raises(redisx.LockHeld):
            client.try_lock("orders:42", ttl=10)
    api = client.limiter("api", "fixed_window", limit=2, period=60)
    assert [api.check("user:1").allowed for _ in range(3)] == [True, True, False]
    with client.idempotency("charge:7", fingerprint=b"amount=10") as rec:
        assert rec.state == "NEW"
        rec.complete(b"receipt-7", ttl=60)
    with client.idempotency("charge:7", fingerprint=b"amount=10") as rec:
        assert rec.state == "COMPLETED" and rec.response == b"receipt-7"


def connection_error(client: redisx.Client) -> redisx.ConnectionError:
    with pytest.raises(redisx.ConnectionError) as ei:
        client.execute("PING")
    assert ei.value.name == "ERR_CONNECTION"
    return ei.value


# ---- it works -------------------------------------------------------------------


def test_rediss_with_the_ca_runs_a_lock_a_rate_limit_and_an_idempotency(tls_server, certs):
    with tls_client(tls_server.url, tls_ca_file=ca(certs)) as client:
        lock_limit_idempotency(client)


def test_tls_keyword_turns_tls_on_for_a_redis_url(tls_server, certs):
    url = tls_server.url.replace("rediss://", "redis://")
    with tls_client(url, tls=True, tls_ca_file=ca(certs)) as client:
        assert client.execute("PING") == "PONG"


def test_asynchronous_calls_go_over_tls_too(tls_server, certs):
    import asyncio

    async def main(client: redisx.Client) -> int:
        async with client.lock_async("orders:43", ttl=10) as lk:
            return lk.fencing_token

    with tls_client(tls_server.url, tls_ca_file=ca(certs)) as client:
        assert asyncio.run(main(client)) > 0


def test_paths_may_be_path_objects_or_bytes(tls_server, certs):
    with tls_client(tls_server.url, tls_ca_file=pathlib.Path(certs) / "ca.crt") as client:
        assert client.execute("PING") == "PONG"
    with tls_client(tls_server.url, tls_ca_file=os.fsencode(ca(certs))) as client:
        assert client.execute("PING") == "PONG"


def test_a_ca_directory_in_hashed_layout_is_trusted(tls_server, certs, tmp_path):
    shutil.copy(ca(certs), tmp_path / "ca.pem")
    # `openssl rehash` writes the <hash>.0 links OpenSSL looks up.
    assert os.system(f"openssl rehash {tmp_path} >/dev/null 2>&1") == 0
    with tls_client(tls_server.url, tls_ca_dir=tmp_path) as client:
        assert client.execute("PING") == "PONG"


def test_server_name_localhost_matches_the_certificate(tls_server, certs):
    with tls_client(tls_server.url, tls_ca_file=ca(certs), tls_server_name="localhost") as client:
        assert client.execute("PING") == "PONG"


def test_pythons_own_ssl_module_lives_beside_the_packages_openssl(tls_server, certs):
    # The module carries its own OpenSSL, all of it hidden: Python's _ssl
    # (the system's libssl.so.3) in the same process meets none of it.
    ctx = ssl.create_default_context(cafile=ca(certs))
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    with tls_client(tls_server.url, tls_ca_file=ca(certs)) as client:
        assert client.execute("PING") == "PONG"


# ---- verification -----------------------------------------------------------------


def test_a_wrong_ca_fails_with_connection_error_about_the_certificate(tls_server, certs):
    with tls_client(tls_server.url, failing=True, tls_ca_file=ca(certs, "other-ca.crt")) as client:
        err = connection_error(client)
    assert "certificate" in err.detail.lower(), err.detail


def test_a_wrong_server_name_fails_the_hostname_check(tls_server, certs):
    with tls_client(tls_server.url, failing=True, tls_ca_file=ca(certs),
                    tls_server_name="wrong.example") as client:
        err = connection_error(client)
    assert "certificate" in err.detail.lower() and "mismatch" in err.detail.lower(), err.detail


def test_verify_hostname_off_accepts_another_name_from_a_trusted_ca(tls_server, certs):
    with tls_client(tls_server.url, tls_ca_file=ca(certs), tls_server_name="wrong.example",
                    tls_verify_hostname=False) as client:
        assert client.execute("PING") == "PONG"


def test_verify_hostname_off_still_checks_the_ca(tls_server, certs):
    with tls_client(tls_server.url, failing=True, tls_ca_file=ca(certs, "other-ca.crt"),
                    tls_verify_hostname=False) as client:
        assert "certificate" in connection_error(client).detail.lower()


def test_insecure_skip_verify_connects_to_a_wrong_name_and_an_unknown_ca(tls_server, certs):
    with tls_client(tls_server.url, tls_ca_file=ca(certs, "other-ca.crt"), tls_server_name="wrong.example",
                    tls_insecure_skip_verify=True) as client:
        assert client.execute("PING") == "PONG"


def test_the_system_store_does_not_trust_the_test_ca(tls_server):
    with tls_client(tls_server.url, failing=True) as client:
        assert "certificate" in connection_error(client).detail.lower()


def test_ssl_cert_file_names_the_system_store(tls_server, certs, monkeypatch):
    # The README's advice for systems whose store is not where Debian's
    # OpenSSL (the one in the wheel) looks.
    monkeypatch.setenv("SSL_CERT_FILE", ca(certs))
    with tls_client(tls_server.url) as client:
        assert client.execute("PING") == "PONG"


def test_tls_false_over_a_rediss_url_speaks_plain_to_a_tls_port(tls_server, certs):
    with tls_client(tls_server.url, failing=True, tls=False) as client:
        assert "rediss://" in connection_error(client).detail


# ---- client certificates ----------------------------------------------------------


def test_a_server_that_requires_a_client_certificate_refuses_a_client_without_one(mtls_server, certs):
    with tls_client(mtls_server.url, failing=True, tls_ca_file=ca(certs)) as client:
        err = connection_error(client)
    assert "certificate" in err.detail.lower(), err.detail


def test_a_client_certificate_of_the_servers_ca_is_accepted(mtls_server, certs):
    with tls_client(mtls_server.url, tls_ca_file=ca(certs), tls_cert_file=ca(certs, "client.crt"),
                    tls_key_file=ca(certs, "client.key")) as client:
        lock_limit_idempotency(client)


def test_the_key_may_be_in_the_certificate_file(mtls_server, certs):
    with tls_client(mtls_server.url, tls_ca_file=ca(certs), tls_cert_file=ca(certs, "client-and-key.pem")) as client:
        assert client.execute("PING") == "PONG"


def test_a_client_certificate_of_another_ca_is_refused(mtls_server, certs):
    with tls_client(mtls_server.url, failing=True, tls_ca_file=ca(certs),
                    tls_cert_file=ca(certs, "other-client.crt"), tls_key_file=ca(certs, "other-client.key")) as client:
        connection_error(client)


# ---- bad values: InvalidArgument, with the core's message where it has one ------


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({"tls_ca_file": "/nonexistent/ca.pem"}, "/nonexistent/ca.pem"),
        ({"tls_ca_dir": "/nonexistent/cadir"}, "/nonexistent/cadir"),
        ({"tls_cert_file": "/nonexistent/c.crt", "tls_key_file": "/nonexistent/c.key"}, "/nonexistent/c.crt"),
        ({"tls_key_file": "KEY"}, ""),  # a key without a certificate
        ({"tls_ca_file": 5}, ""),
        ({"tls_ca_file": "a\x00b"}, ""),
        ({"tls_server_name": 5}, ""),
        ({"tls_server_name": b"x\x00y"}, ""),
        ({"tls": "yes"}, "tls"),
        ({"tls": 1}, "tls"),
        ({"tls_verify_hostname": "false"}, "tls_verify_hostname"),
        ({"tls_insecure_skip_verify": "false"}, "tls_insecure_skip_verify"),
        ({"tls_insecure_skip_verify": None}, "tls_insecure_skip_verify"),
    ],
)
def test_bad_tls_values_raise_invalid_argument(tls_server, certs, kwargs, says):
    with pytest.raises(redisx.InvalidArgument) as ei:
        redisx.Client(tls_server.url, **kwargs).close()
    assert ei.value.detail and says in ei.value.detail, ei.value.detail


def test_a_key_that_does_not_match_the_certificate_is_invalid(tls_server, certs):
    with pytest.raises(redisx.InvalidArgument) as ei:
        redisx.Client(tls_server.url, tls_ca_file=ca(certs), tls_cert_file=ca(certs, "client.crt"),
                      tls_key_file=ca(certs, "other-client.key")).close()
    assert ei.value.detail


def test_tls_over_a_unix_socket_is_invalid(tmp_path):
    with pytest.raises(redisx.InvalidArgument) as ei:
        redisx.Client(f"unix://{tmp_path}/redis.sock", tls=True).close()
    assert ei.value.detail
