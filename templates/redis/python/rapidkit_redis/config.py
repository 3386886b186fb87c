"""Settings from the environment first, then the defaults baked at install time.

No pydantic: the runtime works in projects on pydantic v1 or v2 alike. Invalid values raise ConfigError
naming the variable, at start-up (when the settings are first read), never half-way through a request.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ._defaults import DEFAULTS

_TRUE = {"1", "true", "yes", "on"}
_INT = re.compile(r"-?[0-9]+")
_SECONDS = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(ms|s)?", re.IGNORECASE)
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
    name = next((n for n in names if _get(env, n) is not None), None)  # the first one set is read (and named)
    if name is None:
        return default
    raw = _get(env, name) or ""
    if not _INT.fullmatch(raw):  # the same grammar as the Node runtime (no "+5", "5_000", "6379.0" or "1e3")
        raise ConfigError(f"{name}: expected an integer, got {raw!r}")
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise ConfigError(f"{name}: expected an integer {bound}, got {raw!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = _get(env, name)
    if raw is None:
        return float(default)
    match = _SECONDS.fullmatch(raw)  # the same grammar as the Node runtime (no "1e3", "inf", "nan")
    if match is None:
        raise ConfigError(f"{name}: expected a number of seconds (e.g. 0.5, 500ms), got {raw!r}")
    value = float(match.group(1)) * (0.001 if (match.group(2) or "").lower() == "ms" else 1.0)
    if value < minimum:
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
    breaker_reset_timeout: float = 1.0
    unix_socket_path: Optional[str] = None
    # topology (docs/modules/redis/topologies.md): "standalone", "cluster" (REDIS_CLUSTER_NODES) or "sentinel"
    # (REDIS_SENTINELS + REDIS_SENTINEL_MASTER). The data-node settings above (auth, TLS, timeouts) apply to every node.
    mode: str = "standalone"
    cluster_nodes: Tuple[Tuple[str, int], ...] = ()
    sentinels: Tuple[Tuple[str, int], ...] = ()
    sentinel_master: Optional[str] = None
    sentinel_username: Optional[str] = None
    sentinel_password: Optional[str] = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The connection URL with the password masked: safe to log and to show."""
        return _compose(self, mask=True)

    @property
    def endpoint(self) -> str:
        """Where the data lives, for messages: host:port, the cluster's seed nodes or the Sentinel master name."""
        if self.mode == "cluster":
            return "cluster " + ",".join(_address(h, p) for h, p in self.cluster_nodes)
        if self.mode == "sentinel":
            return f"Sentinel master {self.sentinel_master!r}"
        return f"{self.host}:{self.port}"

    @property
    def deadline(self) -> float:
        """Upper bound of one cache call: the pool wait (connect timeout), then at most retries + 1 attempts,
        each bounded by the connect and socket timeouts, with backoff (capped at 8 x base) between them.
        Typical outages end far sooner: a timeout is not retried, a refused connection fails at once."""
        return self.connect_timeout + (self.retries + 1) * (self.connect_timeout + self.socket_timeout) + self.backoff * 8 * self.retries

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "RedisSettings":
        """From `env`; by default the process environment over the project's `.env` file (see read_env_file)."""
        compat = str(DEFAULTS.get("compat") or "none")
        if env is None:
            env = process_env()
        elif compat in COMPAT_ENV:  # installed as a drop-in for another system: its variable names too
            env = with_aliases(env, COMPAT_ENV[compat])
        if compat in COMPAT_ENV and "REDIS_KEY_PREFIX" not in env:  # that system's keys were unprefixed
            env = {**env, "REDIS_KEY_PREFIX": ""}
        url = _get(env, "REDIS_URL")
        parts = _parse_url(url, "REDIS_URL") if url else _parse_url(DEFAULTS["url"], "default url")
        query: Dict[str, str] = parts.pop("query")
        unix_socket_path = parts.pop("unix_socket_path")
        if not url:
            # REDIS_URL absent: compose from the individual variables over the baked default URL
            if _get(env, "REDIS_HOST"):
                parts["host"] = _get(env, "REDIS_HOST")
            parts["port"] = _int(env, ("REDIS_PORT",), parts["port"], 1, 65535)
            parts["db"] = _int(env, ("REDIS_DB",), parts["db"], 0)
            parts["username"] = _get(env, "REDIS_USERNAME") or parts["username"]
        parts["password"] = parts["password"] or _get(env, "REDIS_PASSWORD")
        use_tls = parts.pop("tls") or _bool(env, "REDIS_TLS", False)  # a rediss:// URL (env or baked) also means TLS
        topology = _topology(env)
        if topology:
            unix_socket_path = None  # the nodes are host:port entries
        if topology.get("mode") == "cluster":
            parts["db"] = 0  # the URL's db is ignored in cluster mode (Redis Cluster has only db 0; REDIS_DB checked)
        return cls(
            **parts,
            **topology,
            use_tls=use_tls,
            tls_ca_file=_file(env, "REDIS_TLS_CA_FILE"),
            tls_cert_file=_file(env, "REDIS_TLS_CERT_FILE"),
            tls_key_file=_file(env, "REDIS_TLS_KEY_FILE"),
            tls_check_hostname=_bool(env, "REDIS_TLS_CHECK_HOSTNAME", True),
            max_connections=_int(env, ("REDIS_MAX_CONNECTIONS",), _int(query, ("max_connections",), DEFAULTS["max_connections"], 1), 1),
            socket_timeout=_seconds(
                env, "REDIS_SOCKET_TIMEOUT", _seconds(query, "socket_timeout", DEFAULTS["socket_timeout"], 0.001), 0.001
            ),
            connect_timeout=_seconds(
                env, "REDIS_CONNECT_TIMEOUT", _seconds(query, "socket_connect_timeout", DEFAULTS["connect_timeout"], 0.001), 0.001
            ),
            retries=_int(env, ("REDIS_RETRIES",), DEFAULTS["retries"], 0, 10),
            backoff=_seconds(env, "REDIS_BACKOFF", DEFAULTS["backoff"]),
            preconnect=_bool(env, "REDIS_PRECONNECT", DEFAULTS["preconnect"]),
            key_prefix=env["REDIS_KEY_PREFIX"] if "REDIS_KEY_PREFIX" in env else DEFAULTS["key_prefix"],
            cache_ttl=_int(env, ("CACHE_TTL", "REDIS_CACHE_TTL", "REDIS_TTL"), DEFAULTS["cache_ttl"], 0),
            client_name=_get(env, "REDIS_CLIENT_NAME") or _get(query, "client_name") or DEFAULTS["client_name"],
            breaker_threshold=_int(env, ("REDIS_BREAKER_THRESHOLD",), DEFAULTS["breaker_threshold"], 1),
            breaker_reset_timeout=_seconds(env, "REDIS_BREAKER_RESET_TIMEOUT", DEFAULTS["breaker_reset_timeout"], 0.01),
            unix_socket_path=unix_socket_path,
        )


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _addresses(env: Mapping[str, str], name: str) -> Tuple[Tuple[str, int], ...]:
    """host:port,host:port (IPv6 as [::1]:port); every entry needs an explicit port."""
    out = []
    for entry in (_get(env, name) or "").split(","):
        entry = entry.strip()
        match = re.fullmatch(r"(?:\[([0-9A-Fa-f:.]+)\]|([^\s:\[\]/,@]+)):([0-9]{1,5})", entry)
        if match is None or not 1 <= int(match.group(3)) <= 65535:
            raise ConfigError(f"{name}: expected host:port entries separated by commas (e.g. 10.0.0.1:6379,10.0.0.2:6379), got {entry!r}")
        out.append((match.group(1) or match.group(2), int(match.group(3))))
    return tuple(out)


def _topology(env: Mapping[str, str]) -> Dict[str, Any]:
    """REDIS_CLUSTER_NODES -> cluster, REDIS_SENTINELS + REDIS_SENTINEL_MASTER -> sentinel, neither -> standalone."""
    cluster, sentinels, master = _get(env, "REDIS_CLUSTER_NODES"), _get(env, "REDIS_SENTINELS"), _get(env, "REDIS_SENTINEL_MASTER")
    if cluster and sentinels:
        raise ConfigError(
            "REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set: a deployment is either a cluster or a Sentinel set-up; unset one"
        )
    if cluster:
        if master:
            raise ConfigError("REDIS_SENTINEL_MASTER is set in cluster mode (REDIS_CLUSTER_NODES): unset it, or use REDIS_SENTINELS")
        db = _int(env, ("REDIS_DB",), 0, 0)
        if db != 0:
            raise ConfigError(f"REDIS_DB: Redis Cluster has only database 0, got {db}; unset REDIS_DB or set it to 0")
        return {"mode": "cluster", "cluster_nodes": _addresses(env, "REDIS_CLUSTER_NODES")}
    if sentinels and not master:
        raise ConfigError("REDIS_SENTINELS is set without REDIS_SENTINEL_MASTER: set it to the master name the sentinels monitor")
    if master and not sentinels:
        raise ConfigError("REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS: set it to the sentinels' host:port,host:port")
    if sentinels:
        return {
            "mode": "sentinel",
            "sentinels": _addresses(env, "REDIS_SENTINELS"),
            "sentinel_master": master,
            "sentinel_username": _get(env, "REDIS_SENTINEL_USERNAME"),
            "sentinel_password": _get(env, "REDIS_SENTINEL_PASSWORD"),
        }
    return {}


# URL query parameters the runtime honours (redis-py's names); any other one is refused, never ignored.
URL_QUERY_PARAMETERS = ("db", "socket_timeout", "socket_connect_timeout", "max_connections", "client_name")


def _parse_url(url: str, name: str) -> Dict[str, Any]:
    """redis://[user[:password]@]host[:port][/db][?query], rediss://... (TLS) or unix://[user[:password]@]/path[?db=N]."""
    try:
        u = urlsplit(url)
        port = u.port or 6379
    except ValueError:
        raise ConfigError(f"{name}: expected a URL like redis://host:6379/0") from None
    unix = u.scheme == "unix"
    if unix and (not url[:7].lower() == "unix://" or u.hostname or not u.path.startswith("/")):
        raise ConfigError(f"{name}: expected unix:///absolute/path/to/redis.sock")
    if not unix and (u.scheme not in ("redis", "rediss") or not u.hostname):
        raise ConfigError(f"{name}: expected a redis://, rediss:// or unix:// URL with a host")
    query: Dict[str, str] = {}
    for key, values in parse_qs(u.query, keep_blank_values=True).items():
        if key not in URL_QUERY_PARAMETERS:
            raise ConfigError(f"{name}: query parameter {key!r} is not supported (supported: {', '.join(URL_QUERY_PARAMETERS)})")
        if len(values) != 1:
            raise ConfigError(f"{name}: query parameter {key!r} is given {len(values)} times")
        query[key] = values[0]
    path = "" if unix else u.path.lstrip("/")
    if path and not path.isdigit():
        raise ConfigError(f"{name}: expected a numeric database in the path, got '/{path}'")
    db = int(path) if path else 0
    try:  # checked here so the message names the URL variable
        db = _int(query, ("db",), db, 0)
        _int(query, ("max_connections",), 1, 1)
        _seconds(query, "socket_timeout", 1.0, 0.001)
        _seconds(query, "socket_connect_timeout", 1.0, 0.001)
    except ConfigError as exc:
        raise ConfigError(f"{name} query parameter {exc}") from None
    if path and "db" in query and int(path) != db:
        raise ConfigError(f"{name}: database {path} in the path and db={query['db']} in the query disagree")
    return {
        "host": u.path if unix else u.hostname,
        "port": 0 if unix else port,
        "db": db,
        "username": unquote(u.username) if u.username else None,
        "password": unquote(u.password) if u.password else None,
        "tls": u.scheme == "rediss",
        "query": query,
        "unix_socket_path": u.path if unix else None,
    }


# `--set compat=<system>`: that system's variable names -> ours (ours win when both are set). docs/migration/
COMPAT_ENV: Dict[str, Dict[str, str]] = {
    "forge": {"REDIS_CONNECTION_URL": "REDIS_URL", "REDIS_POOL_SIZE": "REDIS_MAX_CONNECTIONS", "REDIS_DEFAULT_TTL": "CACHE_TTL"},
    "waardhaven": {"CACHE_TTL_SECONDS": "CACHE_TTL"},
    "rapidkit": {},
}


def with_aliases(env: Mapping[str, str], aliases: Mapping[str, str]) -> Dict[str, str]:
    """A copy of env where each alias (another system's variable name) fills our variable when ours is unset."""
    out = dict(env)
    for theirs, ours in aliases.items():
        if _get(out, ours) is None and _get(out, theirs) is not None:
            out[ours] = out[theirs]
    return out


def process_env() -> Dict[str, str]:
    """What the runtime reads by default: the process environment over the project's `.env` file, with the
    replaced system's variable names applied layer by layer (`compat`), so Forge's REDIS_CONNECTION_URL set in the
    process wins over a REDIS_URL in the file."""
    aliases = COMPAT_ENV.get(str(DEFAULTS.get("compat") or "none"), {})
    env_file = project_env_file()
    merged: Dict[str, str] = {}
    for layer in (read_env_file(env_file) if env_file else {}, os.environ):
        merged.update(with_aliases(layer, aliases))
    return merged


def project_env_file() -> Optional[Path]:
    """REDIS_ENV_FILE when set ("" turns the file off), else the `.env` of the project this runtime is vendored
    in (the folder holding `.rapidkit/`). None when there is none."""
    explicit = os.environ.get("REDIS_ENV_FILE")
    if explicit is not None:
        return Path(explicit) if explicit.strip() else None
    for folder in Path(__file__).resolve().parents:
        if (folder / ".rapidkit").is_dir():
            candidate = folder / ".env"
            return candidate if candidate.is_file() else None
    return None


def read_env_file(path: Path) -> Dict[str, str]:
    """KEY=VALUE lines of a dotenv file (`export`, quotes, # comments), as python-dotenv reads them; variables of
    the process environment win over it. A missing or unreadable file reads as empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    out: Dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.replace("_", "").isalnum():
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quoted, value = value[0], value[1:-1]
            if quoted == '"':
                value = value.replace("\\n", "\n").replace('\\"', '"')
        else:
            value = value.split(" #", 1)[0].rstrip()
        out[key] = value
    return out


def _compose(s: RedisSettings, mask: bool) -> str:
    scheme = "rediss" if s.use_tls else "redis"
    user = quote(s.username, safe="") if s.username else ""
    secret = ("***" if mask else quote(s.password, safe="")) if s.password else ""
    auth = f"{user}:{secret}@" if secret else (f"{user}@" if user else "")
    if s.mode == "cluster":  # not a URL redis-py reads: a masked description of the configured seed nodes
        return f"{scheme}+cluster://{auth}{','.join(_address(h, p) for h, p in s.cluster_nodes)}"
    if s.mode == "sentinel":
        return f"{scheme}+sentinel://{auth}{','.join(_address(h, p) for h, p in s.sentinels)}/{s.sentinel_master}/{s.db}"
    if s.unix_socket_path:
        return f"unix://{auth}{s.unix_socket_path}?db={s.db}"
    host = f"[{s.host}]" if ":" in s.host else s.host
    return f"{scheme}://{auth}{host}:{s.port}/{s.db}"
