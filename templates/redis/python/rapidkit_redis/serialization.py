"""The stored value format shared with the Node runtime (docs/cache-contract.md): compact UTF-8 JSON."""
from __future__ import annotations

import json
import math
from datetime import timedelta
from typing import Any, Dict, Optional, Union

TTL = Union[int, float, timedelta, None]


def dumps(value: Any) -> str:
    """JSON text; strings are encoded too, so "123" stays a string. Unencodable values raise TypeError."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def loads(raw: Optional[str]) -> Any:
    """Parses JSON; a value another tool stored as plain text comes back unchanged."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def ttl_arguments(ttl: TTL, default: int) -> Dict[str, Any]:
    """SET arguments for a TTL: None = default, 0 = no expiry, fractions in milliseconds, negative = error."""
    value = default if ttl is None else ttl
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"ttl must be seconds (int/float) or a timedelta, got {type(value).__name__}")
    else:
        seconds = float(value)
    if seconds < 0 or seconds != seconds:
        raise ValueError(f"ttl must be >= 0 seconds, got {ttl!r}")
    if seconds == 0:
        return {}
    if seconds.is_integer():
        return {"ex": int(seconds)}
    return {"px": max(1, math.ceil(seconds * 1000))}


def pick_ttl(ttl: TTL, ex: TTL, px: Optional[int]) -> TTL:
    """One TTL from set()'s ttl= or redis-py's spellings ex= (seconds) and px= (milliseconds); at most one."""
    if (ttl is not None) + (ex is not None) + (px is not None) > 1:
        raise TypeError("set() takes one of ttl=, ex= or px=")
    if px is not None:
        if isinstance(px, bool) or not isinstance(px, int):
            raise TypeError(f"px must be an integer number of milliseconds, got {px!r}")
        return px / 1000.0
    return ex if ex is not None else ttl


def escape_glob(text: str) -> str:
    """Escapes Redis glob characters so a key prefix matches literally."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
