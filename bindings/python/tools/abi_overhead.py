"""Call overhead of the installed redisx extension, in ns per call.

Run it once with an abi3 (limited API) build and once with a
version-specific build on the same interpreter and compare: the figures
that chose the wheel's form are in bindings/python/README.md.

    python tools/abi_overhead.py [redis://127.0.0.1:PORT]

Without a URL only the calls without I/O are timed. Prints name=value lines
(the best of 7 runs).
"""

import os
import sys
import time

import redisx
from redisx import _rawc as c


def best_ns(fn, n):
    best = None
    for _ in range(7):
        t = time.perf_counter_ns()
        fn(n)
        dt = (time.perf_counter_ns() - t) / n
        best = dt if best is None or dt < best else best
    return best


def loop(call, *args):
    def run(n):
        for _ in range(n):
            call(*args)

    return run


def main():
    so = os.path.basename(c.__file__)
    print(f"module={so}")
    print(f"python={sys.version.split()[0]}")
    opts = c.redisx_options_new()
    n = 200_000
    print(f"empty_loop_ns={best_ns(lambda k: [None for _ in range(k)], n):.1f}")
    print(f"version_ns={best_ns(loop(c.redisx_version), n):.1f}")
    print(f"set_prefix_str_ns={best_ns(loop(c.redisx_options_set_prefix, opts, 'shop:orders'), n):.1f}")
    print(f"set_prefix_bytes_ns={best_ns(loop(c.redisx_options_set_prefix, opts, b'shop:orders'), n):.1f}")
    print(f"set_timeout_int_ns={best_ns(loop(c.redisx_options_set_command_timeout_ms, opts, 1500), n):.1f}")
    c.redisx_options_free(opts)
    if len(sys.argv) > 1:
        with redisx.Client.from_url(sys.argv[1], prefix="abi") as client:
            n = 5_000
            lim = client.limiter("abi", "gcra", limit=10**9, period=60)
            print(f"ratelimit_check_ns={best_ns(loop(lim.check, 'user:1'), n):.0f}")
            held = client.try_lock("held", ttl=60)

            def try_held():
                try:
                    client.try_lock("held", ttl=60)
                except redisx.LockHeld:
                    pass

            print(f"try_lock_held_ns={best_ns(loop(try_held), n):.0f}")
            held.release()
            value = b"x" * 1024
            print(f"execute_set_1k_ns={best_ns(loop(client.execute, 'SET', 'abi:k', value), n):.0f}")


if __name__ == "__main__":
    main()
