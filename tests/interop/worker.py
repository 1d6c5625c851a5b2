"""Interop worker, Python side. Same command line in every language:

  count URL PREFIX N   N times: take lock "counter", GET/SET +1 the plain
                       counter, RPUSH "<lang>:<fencing>" to the fences list,
                       release, pause 2 ms (locks are not fair: without the
                       pause one process could run all its rounds in a row)
  hold URL PREFIX      take lock "hold", print "HELD <fencing>", wait for a
                       line on stdin, release, print "RELEASED"
  probe URL PREFIX     try lock "hold": print "HELD-BY <fencing>" when
                       refused (LockHeld), else "FREE"
"""
import sys
import time

import redisx


def main() -> int:
    mode, url, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    with redisx.Client.from_url(url, prefix=prefix, command_timeout=10.0) as client:
        if mode == "count":
            for _ in range(int(sys.argv[4])):
                with client.acquire("counter", ttl=30.0, wait=120.0) as lk:
                    raw = client.execute("GET", prefix + ":counter")
                    value = int(raw) if raw is not None else 0
                    client.execute("SET", prefix + ":counter", str(value + 1))
                    client.execute("RPUSH", prefix + ":fences", "python:%d" % lk.fencing_token)
                time.sleep(0.002)  # outside the lock: let the other languages in
        elif mode == "hold":
            with client.acquire("hold", ttl=30.0, wait=30.0) as lk:
                print("HELD %d" % lk.fencing_token, flush=True)
                sys.stdin.readline()
            print("RELEASED", flush=True)
        elif mode == "probe":
            try:
                lk = client.try_lock("hold", ttl=30.0)
            except redisx.LockHeld:
                print("HELD-BY %d" % client.lock_info("hold").fencing_token, flush=True)
            else:
                lk.release()
                print("FREE", flush=True)
        else:
            print("unknown mode " + mode, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
