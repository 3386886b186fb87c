"""Settings from the environment first, then the defaults baked at install time.

No pydantic: the runtime works in projects on pydantic v1 or v2 alike. Invalid values raise ConfigError
naming the variable, at start-up (when the settings are first read), never half-way through a request.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import quote, unquote, urlsplit

from ._defaults import DEFAULTS

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the variable."""


def _get(env: Mapping[str, str], *names: str) -> Optional[str]:
    for name in names:
        value = env.get(name)
        if value is not None and value.strip() != "":
            return value.strip()
    return None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name)
    if raw is None:
        return default
    low = raw.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ConfigError(f"{name}: expected a boolean (1/true/yes/on or 0/false/no/off), got {raw!r}")


def _int(env: Mapping[str, str], names: Tuple[str, ...], default: int, minimum: int = 0, maximum: Optional[int] = None) -> int:
    raw = _get(env, *names)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{names[0]}: expected an integer, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise ConfigError(f"{names[0]}: expected an integer {bound}, got {raw!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = _get(env, name)
    if raw is None:
        return float(default)
    text, scale = raw.lower(), 1.0
    if text.endswith("ms"):
        text, scale = text[:-2], 0.001
    elif text.endswith("s"):
        text = text[:-1]
    try:
        value = float(text) * scale
    except ValueError:
        raise ConfigError(f"{name}: expected a number of seconds (e.g. 0.5, 500ms), got {raw!r}") from None
    if value < minimum or value != value:
        raise ConfigError(f"{name}: expected a number of seconds >= {minimum}, got {raw!r}")
    return value


def _file(env: Mapping[str, str], name: str) -> Optional[str]:
    path = _get(env, name)
    if path is not None and not os.path.isfile(path):
        raise ConfigError(f"{name}: file {path!r} does not exist")
    return path


@dataclass(frozen=True)
class RedisSettings:
    host: str = "localhost"
    port: int = 6379
    db: int = 0
    username: Optional[str] = None
    password: Optional[str] = field(default=None, repr=False)
    use_tls: bool = False
    tls_ca_file: Optional[str] = None
    tls_cert_file: Optional[str] = None
    tls_key_file: Optional[str] = None
    tls_check_hostname: bool = True
    max_connections: int = 50
    socket_timeout: float = 1.0
    connect_timeout: float = 1.0
    retries: int = 2
    backoff: float = 0.05
    preconnect: bool = False
    key_prefix: str = ""
    cache_ttl: int = 3600
    client_name: Optional[str] = None
    breaker_threshold: int = 5
    breaker_reset_timeout: float = 2.0

    @property
    def url(self) -> str:
        """The connection URL with the password masked: safe to log and to show."""
        return _compose(self, mask=True)

    @property
    def deadline(self) -> float:
        """Upper bound of one cache call: the pool wait (connect timeout), then at most retries + 1 attempts,
        each bounded by the connect and socket timeouts, with backoff (capped at 8 x base) between them.
        Typical outages end far sooner: a timeout is not retried, a refused connection fails at once."""
        return self.connect_timeout + (self.retries + 1) * (self.connect_timeout + self.socket_timeout) + self.backoff * 8 * self.retries

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "RedisSettings":
        env = os.environ if env is None else env
        url = _get(env, "REDIS_URL")
        parts = _parse_url(url, "REDIS_URL") if url else _parse_url(DEFAULTS["url"], "default url")
        if not url:
            # REDIS_URL absent: compose from the individual variables over the baked default URL
            if _get(env, "REDIS_HOST"):
                parts["host"] = _get(env, "REDIS_HOST")
            parts["port"] = _int(env, ("REDIS_PORT",), parts["port"], 1, 65535)
            parts["db"] = _int(env, ("REDIS_DB",), parts["db"], 0)
            parts["username"] = _get(env, "REDIS_USERNAME") or parts["username"]
        parts["password"] = parts["password"] or _get(env, "REDIS_PASSWORD")
        use_tls = parts.pop("tls") or _bool(env, "REDIS_TLS", False)  # a rediss:// URL (env or baked) also means TLS
        return cls(
            **parts,
            use_tls=use_tls,
            tls_ca_file=_file(env, "REDIS_TLS_CA_FILE"),
            tls_cert_file=_file(env, "REDIS_TLS_CERT_FILE"),
            tls_key_file=_file(env, "REDIS_TLS_KEY_FILE"),
            tls_check_hostname=_bool(env, "REDIS_TLS_CHECK_HOSTNAME", True),
            max_connections=_int(env, ("REDIS_MAX_CONNECTIONS",), DEFAULTS["max_connections"], 1),
            socket_timeout=_seconds(env, "REDIS_SOCKET_TIMEOUT", DEFAULTS["socket_timeout"], 0.001),
            connect_timeout=_seconds(env, "REDIS_CONNECT_TIMEOUT", DEFAULTS["connect_timeout"], 0.001),
            retries=_int(env, ("REDIS_RETRIES",), DEFAULTS["retries"], 0, 10),
            backoff=_seconds(env, "REDIS_BACKOFF", DEFAULTS["backoff"]),
            preconnect=_bool(env, "REDIS_PRECONNECT", DEFAULTS["preconnect"]),
            key_prefix=env["REDIS_KEY_PREFIX"] if "REDIS_KEY_PREFIX" in env else DEFAULTS["key_prefix"],
            cache_ttl=_int(env, ("CACHE_TTL", "REDIS_CACHE_TTL"), DEFAULTS["cache_ttl"], 0),
            client_name=_get(env, "REDIS_CLIENT_NAME") or DEFAULTS["client_name"],
            breaker_threshold=_int(env, ("REDIS_BREAKER_THRESHOLD",), DEFAULTS["breaker_threshold"], 1),
            breaker_reset_timeout=_seconds(env, "REDIS_BREAKER_RESET_TIMEOUT", DEFAULTS["breaker_reset_timeout"], 0.01),
        )


def _parse_url(url: str, name: str) -> Dict[str, Any]:
    try:
        u = urlsplit(url)
        port = u.port or 6379
    except ValueError:
        raise ConfigError(f"{name}: expected a URL like redis://host:6379/0") from None
    if u.scheme not in ("redis", "rediss") or not u.hostname:
        raise ConfigError(f"{name}: expected a redis:// or rediss:// URL with a host")
    path = u.path.lstrip("/")
    if path and not path.isdigit():
        raise ConfigError(f"{name}: expected a numeric database in the path, got '/{path}'")
    return {
        "host": u.hostname,
        "port": port,
        "db": int(path) if path else 0,
        "username": unquote(u.username) if u.username else None,
        "password": unquote(u.password) if u.password else None,
        "tls": u.scheme == "rediss",
    }


def _compose(s: RedisSettings, mask: bool) -> str:
    scheme = "rediss" if s.use_tls else "redis"
    user = quote(s.username, safe="") if s.username else ""
    secret = ("***" if mask else quote(s.password, safe="")) if s.password else ""
    auth = f"{user}:{secret}@" if secret else (f"{user}@" if user else "")
    host = f"[{s.host}]" if ":" in s.host else s.host
    return f"{scheme}://{auth}{host}:{s.port}/{s.db}"
