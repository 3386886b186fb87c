"""Server-side sessions on the cache client: create / get / touch / update / destroy, each one atomic Redis command.

The same keys and value format as the Node runtime's SessionStore (docs/cache-contract.md, "Sessions"):
`<key prefix><namespace><id>` holding the session data as compact JSON, with the session TTL on the key. Ids are
`secrets.token_urlsafe(32)` (256 bits). An id that is not one of ours (wrong characters or length, e.g. a forged
cookie) reads as a missing session and is never sent to Redis. Fail-open like the cache: while Redis is
unreachable create() returns None (no session could be stored), get() None, touch/update/destroy False.
"""
from __future__ import annotations

import re
import secrets
from typing import Any, Dict, Optional, Union

from .client import AsyncRedisClient, SyncRedisClient
from .serialization import TTL, dumps, loads, ttl_arguments

__all__ = ["SessionStore", "SyncSessionStore", "SESSION_ID"]

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
DEFAULT_TTL = 86400
DEFAULT_NAMESPACE = "session:"


class _Sessions:
    def __init__(
        self, client: Union[AsyncRedisClient, SyncRedisClient], ttl: TTL = DEFAULT_TTL, namespace: str = DEFAULT_NAMESPACE
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.ttl_args = ttl_arguments(ttl, DEFAULT_TTL)
        if not self.ttl_args:
            raise ValueError("sessions need a ttl > 0")

    def _full(self, session_id: Any) -> Optional[str]:
        if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
            return None
        return self.client._key(self.namespace + session_id)

    def _args(self, ttl: TTL) -> Dict[str, Any]:
        args = ttl_arguments(ttl, 0) if ttl is not None else self.ttl_args
        if not args:
            raise ValueError("sessions need a ttl > 0")
        return args


class SessionStore(_Sessions):
    """Async sessions on an AsyncRedisClient (FastAPI)."""

    client: AsyncRedisClient

    async def create(self, data: Any, ttl: TTL = None) -> Optional[str]:
        """A new session id (SET NX with the TTL: never overwrites another session); None when Redis is unreachable."""
        payload, args = dumps(data), self._args(ttl)
        for _ in range(3):
            session_id = secrets.token_urlsafe(32)
            full = self.client._key(self.namespace + session_id)

            def put(c: Any, full: str = full) -> Any:  # bound now: the loop may take another id
                return c.set(full, payload, nx=True, **args)

            ok, res = await self.client._call(put)
            if not ok:
                return None
            if res:
                return session_id
        raise RuntimeError("could not allocate a unique session id")  # pragma: no cover - 2^256 ids

    async def get(self, session_id: str, *, touch: bool = False) -> Any:
        """The session data, or None (missing, expired, foreign id, Redis down). touch=True also resets the TTL in
        the same command (GETEX: sliding expiry)."""
        full = self._full(session_id)
        if full is None:
            return None
        if touch:
            ok, raw = await self.client._call(lambda c: c.getex(full, **self.ttl_args))
        else:
            ok, raw = await self.client._call(lambda c: c.get(full))
        return loads(raw) if ok and raw is not None else None

    async def touch(self, session_id: str, ttl: TTL = None) -> bool:
        """Resets the TTL (EXPIRE/PEXPIRE); False for a missing session."""
        full, args = self._full(session_id), self._args(ttl)
        if full is None:
            return False
        if "ex" in args:
            ok, res = await self.client._call(lambda c: c.expire(full, args["ex"]))
        else:
            ok, res = await self.client._call(lambda c: c.pexpire(full, args["px"]))
        return bool(ok and res)

    async def update(self, session_id: str, data: Any) -> bool:
        """Replaces the data of an existing session, keeping its TTL (SET XX KEEPTTL); False when it is gone."""
        full, payload = self._full(session_id), dumps(data)
        if full is None:
            return False
        ok, res = await self.client._call(lambda c: c.set(full, payload, xx=True, keepttl=True))
        return bool(ok and res)

    async def destroy(self, session_id: str) -> bool:
        """Deletes the session; True when it existed."""
        full = self._full(session_id)
        if full is None:
            return False
        ok, res = await self.client._call(lambda c: c.delete(full))
        return bool(ok and res)


class SyncSessionStore(_Sessions):
    """The same sessions on a SyncRedisClient (Celery, scripts, sync views)."""

    client: SyncRedisClient

    def create(self, data: Any, ttl: TTL = None) -> Optional[str]:
        payload, args = dumps(data), self._args(ttl)
        for _ in range(3):
            session_id = secrets.token_urlsafe(32)
            full = self.client._key(self.namespace + session_id)

            def put(c: Any, full: str = full) -> Any:  # bound now: the loop may take another id
                return c.set(full, payload, nx=True, **args)

            ok, res = self.client._call(put)
            if not ok:
                return None
            if res:
                return session_id
        raise RuntimeError("could not allocate a unique session id")  # pragma: no cover

    def get(self, session_id: str, *, touch: bool = False) -> Any:
        full = self._full(session_id)
        if full is None:
            return None
        if touch:
            ok, raw = self.client._call(lambda c: c.getex(full, **self.ttl_args))
        else:
            ok, raw = self.client._call(lambda c: c.get(full))
        return loads(raw) if ok and raw is not None else None

    def touch(self, session_id: str, ttl: TTL = None) -> bool:
        full, args = self._full(session_id), self._args(ttl)
        if full is None:
            return False
        if "ex" in args:
            ok, res = self.client._call(lambda c: c.expire(full, args["ex"]))
        else:
            ok, res = self.client._call(lambda c: c.pexpire(full, args["px"]))
        return bool(ok and res)

    def update(self, session_id: str, data: Any) -> bool:
        full, payload = self._full(session_id), dumps(data)
        if full is None:
            return False
        ok, res = self.client._call(lambda c: c.set(full, payload, xx=True, keepttl=True))
        return bool(ok and res)

    def destroy(self, session_id: str) -> bool:
        full = self._full(session_id)
        if full is None:
            return False
        ok, res = self.client._call(lambda c: c.delete(full))
        return bool(ok and res)
