"""A cluster master stalled (SIGSTOP, shorter than cluster-node-timeout: no failover) while get_many/set_many wait on
their pipelined replies. Those replies are read in one window of REDIS_SOCKET_TIMEOUT for the whole batch
(topology.batch_reads) instead of one timer per reply: the window must end the wait as a timed-out read would
(fail open, no exception, the caller's task not left cancelled), leave no reply unread on any connection (exact
values once the master resumes), and never swallow the caller's own cancellation; also when the batch is too large
for the socket buffers and its send is what waits.

GEN_TOPO_STALL_PID   the pid of one master (its keys are part of every 100-key batch)
"""
from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import replace

import pytest

from conftest import MODE

KEYS = [f"k{i}" for i in range(100)]
VALUES = {k: {"i": i, "text": f"value {i}"} for i, k in enumerate(KEYS)}


def test_a_stalled_master_ends_the_batch_in_one_window_and_leaves_the_connections_clean(runtime, settings, admin):
    assert MODE == "cluster", "run in cluster mode only (python-topology.test.ts)"
    pid = int(os.environ["GEN_TOPO_STALL_PID"])
    # one attempt: the call ends when the window does (with retries redis-py would refresh the slot map and retry,
    # each later read under its own timer, as before)
    s = replace(settings, retries=0)

    async def body():
        c = runtime.AsyncRedisClient(s)
        assert await c.set_many(VALUES) is True
        assert await c.get_many(KEYS) == VALUES  # warm: slot map known, a connection open to every master
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            got = await c.get_many(KEYS)
            took_get = time.monotonic() - started
            assert got == {}, "a batch that lost a master fails open as a whole"
            assert asyncio.current_task().cancelling() == 0  # the window's cancellation did not leak to the caller
            await asyncio.sleep(0.01)  # (a stray cancellation would land here)
            started = time.monotonic()
            assert await c.set_many({f"w{i}": i for i in range(100)}) is False
            took_set = time.monotonic() - started
            # a batch too large for the socket buffers: the send itself waits on the stalled master (~17 MB for it)
            started = time.monotonic()
            assert await c.set_many({f"big{i}": "x" * 262144 for i in range(200)}) is False
            took_send = time.monotonic() - started
            # the caller's own cancellation is not turned into a fail-open answer
            c2 = runtime.AsyncRedisClient(s)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(c2.get_many(KEYS), 0.1)
            await c2.close()
        finally:
            os.kill(pid, signal.SIGCONT)
        print(
            f"STALL: get_many {took_get * 1000:.0f} ms, set_many {took_set * 1000:.0f} ms, "
            f"set_many blocked in its send {took_send * 1000:.0f} ms (window {s.socket_timeout:g} s)"
        )
        # one window (plus a reconnect bounded by the connect timeout), not a timer per reply
        assert took_get < s.socket_timeout + s.connect_timeout + 0.3, took_get
        assert took_set < s.socket_timeout + s.connect_timeout + 0.3, took_set
        assert took_send < s.socket_timeout + s.connect_timeout + 0.3, took_send
        assert c.stats()["errors"] >= 2

        # the master is back: exact values, batch and key by key (an unread reply left on a pooled connection
        # would hand a key another key's value)
        deadline = time.monotonic() + 5
        got = {}
        while time.monotonic() < deadline:
            got = await c.get_many(KEYS)
            if got == VALUES:
                break
            await asyncio.sleep(0.1)
        assert got == VALUES
        for _ in range(3):
            assert await c.get_many(KEYS) == VALUES
        for k in KEYS:
            assert await c.get(k) == VALUES[k]
        assert await c.set_many(VALUES) is True
        await c.close()

    asyncio.run(body())
