// The cross-language check shared by the single-server suite (node.test.ts) and the Cluster/Sentinel suite
// (node-topology.test.ts): what the Python runtime writes the Node runtime reads, and back, byte for byte.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { REPO, VECTORS } from '../helpers.js';

/**
 * Python (the generated FastAPI project's wrapper, Debian's python3) writes every contract vector, a no-TTL key and
 * three rate-limit hits; Node reads them, writes its own; Python reads those back; Node deletes Python's by pattern.
 * `env` is the connection (REDIS_URL, or REDIS_CLUSTER_NODES / REDIS_SENTINELS with credentials).
 */
export async function crossLanguage(runtime: any, pyProject: string, env: Record<string, string>, prefix: string): Promise<void> {
  const all = { ...env, REDIS_KEY_PREFIX: prefix, CACHE_TTL: '120' };
  const script = `
import json, sys
from app.redis_cache import SyncRedisClient, RedisSettings
v = json.load(open(${JSON.stringify(path.join(REPO, 'test/vectors/cache-contract.json'))}))
c = SyncRedisClient(RedisSettings.from_env())
if sys.argv[1] == "write":
    for x in v["vectors"]:
        assert c.set("py:" + x["key"], x["value"]) is True
    assert c.set("py:ttl0", 1, 0) is True
    print(json.dumps([c.rate_limit("shared", 5, 30).count for _ in range(3)]))
elif sys.argv[1] == "health":
    print(json.dumps({"health": c.health_check(), "metadata": c.metadata()}))
else:
    out = {x["name"]: c.get("node:" + x["key"]) for x in v["vectors"]}
    out.update({"raw:" + x["name"]: c.get(x["key"]) for x in v["raw"]})
    out["ttl"] = c.ttl("node:vec:string")
    out["rate"] = c.rate_limit("shared", 5, 30).count
    print(json.dumps(out, ensure_ascii=False))
c.close()
`;
  const python = (mode: string) => {
    const r = spawnSync('/usr/bin/python3', ['-c', script, mode], {
      cwd: pyProject,
      env: { ...process.env, ...all, PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
    });
    // nothing on stderr either: a fallback the runtime handles must not reach the app's log as a traceback
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    return r.stdout;
  };
  expect(JSON.parse(python('write'))).toEqual([1, 2, 3]);

  const cache = new runtime.RedisCache(runtime.settingsFromEnv(all), { logger: { warn: () => undefined } });
  try {
    for (const x of VECTORS.vectors) {
      expect(await cache.get(`py:${x.key}`), x.name).toEqual(x.value);
      expect(await cache.client.get(`${prefix}py:${x.key}`), x.name).toBe(x.stored);
      expect(await cache.ttl(`py:${x.key}`)).toBeGreaterThan(100);
      expect(await cache.set(`node:${x.key}`, x.value)).toBe(true);
    }
    expect(await cache.ttl('py:ttl0')).toBe(-1);
    for (const x of VECTORS.raw) await cache.client.set(prefix + x.key, x.stored);
    expect((await cache.rateLimit('shared', 5, 30)).count).toBe(4); // the same counter as Python's

    const readBack = JSON.parse(python('read'));
    for (const x of VECTORS.vectors) expect(readBack[x.name], x.name).toEqual(x.value);
    for (const x of VECTORS.raw) expect(readBack[`raw:${x.name}`], x.name).toEqual(x.value);
    expect(readBack.ttl).toBeGreaterThan(100);
    expect(readBack.rate).toBe(5);

    expect(await cache.deletePattern('py:*')).toBe(VECTORS.vectors.length + 1); // Node invalidates what Python wrote

    // one health payload and one metadata shape in both languages (the same keys, down to the nested ones)
    const py = JSON.parse(python('health'));
    expect(shape(await cache.healthCheck())).toEqual(shape(py.health));
    expect(shape(runtime.getRedisMetadata(cache.settings))).toEqual(shape(py.metadata));
  } finally {
    await cache.close();
  }
}

/** The keys of a JSON value, recursively: values left out (a count one client cannot tell is null), a list described by its first element. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, shape(x)]),
    );
  return 'value';
}
