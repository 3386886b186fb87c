// Real Redis Cluster and Sentinel set-ups on loopback for the runtime tests: started and stopped by the tests, built
// from the same RedisServer as the single-server tests (random ports, no persistence, temp --dir, stopped by pid).
// Optionally on TLS (TopologyCerts): the data nodes then listen on TLS only, and speak TLS to each other.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RedisServer, freePort, makeCerts, sleep } from './helpers.js';

export interface TopologyAuth {
  /** ACL user for the data nodes (created on every node with full rights); default user keeps `password`. */
  username?: string;
  password?: string;
}

/** How the helpers reach a node: its credentials, and the CA to trust when the nodes speak TLS. */
export interface NodeAccess extends TopologyAuth {
  /** the CA file: redis-cli speaks TLS (--tls --cacert) */
  tlsCa?: string;
}

/**
 * TLS material made with openssl in a temp folder: a CA, a server certificate it signs for the nodes (SAN `san`,
 * default localhost and 127.0.0.1), a second one naming localhost only (the address 127.0.0.1 is then the wrong
 * name) and another CA that signed none of them (a client trusting it must be refused). remove() deletes it all.
 */
export class TopologyCerts {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-tls-'));

  constructor() {
    makeCerts(
      this.dir,
      ['ca', 'otherca'],
      [
        { name: 'server', ca: 'ca', san: 'DNS:localhost,IP:127.0.0.1' },
        { name: 'localhost', ca: 'ca', san: 'DNS:localhost' },
      ],
    );
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  get ca(): string {
    return this.file('ca.crt');
  }

  get otherCa(): string {
    return this.file('otherca.crt');
  }

  /** redis-server arguments: TLS only on `port` (plaintext port 0), TLS between the nodes, no client certificate asked. */
  serverArgs(port: number): string[] {
    return [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--tls-cert-file',
      this.file('server.crt'),
      '--tls-key-file',
      this.file('server.key'),
      '--tls-ca-cert-file',
      this.ca,
      '--tls-auth-clients',
      'no',
      '--tls-replication',
      'yes',
    ];
  }

  /**
   * Makes the running nodes on `ports` present the certificate `name` (`server` or `localhost`) to new connections
   * (CONFIG SET tls-cert-file/tls-key-file: Redis reloads its TLS context without a restart).
   */
  serve(name: 'server' | 'localhost', ports: number[], access: NodeAccess): void {
    for (const port of ports) {
      cli(port, ['config', 'set', 'tls-cert-file', this.file(`${name}.crt`), 'tls-key-file', this.file(`${name}.key`)], access);
    }
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A free port below 55000 whose cluster bus port (port + 10000) is free too. */
export async function clusterPort(taken: Set<number> = new Set()): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 34000);
    if (taken.has(port) || taken.has(port + 10000) || taken.has(port - 10000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port pair below 55000');
}

/** redis-cli's connection arguments: credentials, and --tls trusting the CA when given. */
function cliArgs(access: NodeAccess): string[] {
  const a: string[] = [];
  if (access.username) a.push('--user', access.username);
  if (access.password) a.push('--pass', access.password, '--no-auth-warning');
  if (access.tlsCa) a.push('--tls', '--cacert', access.tlsCa);
  return a;
}

/** redis-cli against one loopback port; returns stdout (throws on a non-zero exit). */
export function cli(port: number, args: string[], access: NodeAccess = {}): string {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...cliArgs(access), ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  });
}

function authArgs(auth: TopologyAuth): string[] {
  if (!auth.password) return [];
  const out = ['--requirepass', auth.password, '--masterauth', auth.password];
  if (auth.username) out.push('--masteruser', auth.username, '--user', auth.username, 'on', `>${auth.password}`, '~*', '&*', '+@all');
  return out;
}

/**
 * Waits until every replica of the master on `port` has caught up with everything written to it so far (its offset
 * in INFO replication reaches the master's): a test that kills a master must not race its replication.
 */
export async function replicated(port: number, access: NodeAccess = {}): Promise<void> {
  const info = () => cli(port, ['info', 'replication'], access);
  const target = Number(/master_repl_offset:(\d+)/.exec(info())?.[1] ?? NaN);
  await until(`the replicas of 127.0.0.1:${port} at offset ${target}`, 10_000, () => {
    const offsets = [...info().matchAll(/^slave\d+:.*,offset=(\d+)/gm)].map((m) => Number(m[1]));
    return offsets.length > 0 && offsets.every((o) => o >= target);
  });
}

async function until<T>(what: string, ms: number, probe: () => T | null | undefined | false): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`${what} within ${ms} ms${last instanceof Error ? `: ${last.message}` : ''}`);
}

/**
 * A Redis Cluster of `masters` masters with one replica each (default 3 + 3), created with `redis-cli --cluster
 * create`, `cluster-node-timeout` 2000 ms unless given.
 */
export class RedisCluster {
  nodes: RedisServer[] = [];
  private readonly taken = new Set<number>();

  constructor(
    private readonly opts: {
      masters?: number;
      nodeTimeout?: number;
      auth?: TopologyAuth;
      extra?: string[];
      /** every node on TLS only (client port, cluster bus and replication) with these certificates */
      tls?: TopologyCerts;
    } = {},
  ) {}

  get auth(): TopologyAuth {
    return this.opts.auth ?? {};
  }

  /** What the helpers use to reach a node (credentials, and the CA in TLS mode). */
  get access(): NodeAccess {
    return { ...this.auth, ...(this.opts.tls ? { tlsCa: this.opts.tls.ca } : {}) };
  }

  async start(): Promise<this> {
    const count = (this.opts.masters ?? 3) * 2;
    for (let i = 0; i < count; i++) {
      const port = await clusterPort(this.taken);
      const node = new RedisServer(
        [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(this.opts.nodeTimeout ?? 2000),
          ...authArgs(this.auth),
          ...(this.opts.tls ? [...this.opts.tls.serverArgs(port), '--tls-cluster', 'yes'] : []),
          ...(this.opts.extra ?? []),
        ],
        port,
      );
      this.nodes.push(node);
    }
    await Promise.all(this.nodes.map((n) => n.start()));
    execFileSync(
      'redis-cli',
      [
        ...cliArgs(this.access),
        '--cluster',
        'create',
        ...this.nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { stdio: 'ignore', timeout: 30_000 },
    );
    await this.waitOk();
    // a replica that never synced with its master cannot be promoted: wait for every replication link
    await until('every replica in sync with its master', 20_000, () =>
      this.nodes.every((n) => {
        const info = cli(n.port, ['info', 'replication'], this.access);
        return /role:master/.test(info) || /master_link_status:up/.test(info);
      }),
    );
    return this;
  }

  /** `host:port,...` of every node: the REDIS_CLUSTER_NODES value. */
  get seeds(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  /** Nodes still running. */
  get alive(): RedisServer[] {
    return this.nodes.filter((n) => n.pid !== null);
  }

  /** Waits until every running node reports cluster_state:ok and all 16384 slots are served by running masters. */
  async waitOk(ms = 20_000): Promise<void> {
    await until('cluster_state:ok on every node', ms, () =>
      this.alive.every((n) => /cluster_state:ok/.test(cli(n.port, ['cluster', 'info'], this.access))),
    );
    await until('every slot served by a running master', ms, () => {
      const live = new Set(this.alive.map((n) => n.port));
      return this.slotOwners().every((o) => live.has(o.port)) && this.slotOwners().reduce((s, o) => s + o.slots, 0) === 16384;
    });
  }

  /** Slot ranges per master, as a running node sees them. */
  slotOwners(): { port: number; slots: number; ranges: [number, number][] }[] {
    const any = this.alive[0]!;
    const out: { port: number; slots: number; ranges: [number, number][] }[] = [];
    for (const line of cli(any.port, ['cluster', 'nodes'], this.access).trim().split('\n')) {
      const f = line.split(' ');
      if (!f[2]!.includes('master') || f[2]!.includes('fail')) continue;
      const port = Number(/:(\d+)@/.exec(f[1]!)![1]);
      const ranges = f.slice(8).flatMap((r): [number, number][] => {
        if (r.startsWith('[')) return [];
        const [lo, hi] = r.split('-').map(Number);
        return [[lo!, hi ?? lo!]];
      });
      if (ranges.length > 0) out.push({ port, ranges, slots: ranges.reduce((s, [lo, hi]) => s + hi - lo + 1, 0) });
    }
    return out;
  }

  /** The master currently owning the slot of `key`. */
  masterFor(key: string): RedisServer {
    const any = this.alive[0]!;
    const slot = Number(cli(any.port, ['cluster', 'keyslot', key], this.access).trim());
    const owner = this.slotOwners().find((o) => o.ranges.some(([lo, hi]) => slot >= lo && slot <= hi));
    const node = owner && this.nodes.find((n) => n.port === owner.port);
    if (!node) throw new Error(`no master for slot ${slot}`);
    return node;
  }

  /** SIGKILL one node (a crashed master, not a clean shutdown). */
  kill(node: RedisServer): void {
    if (node.pid !== null) process.kill(node.pid, 'SIGKILL');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.cleanup()));
  }
}

/** One master, one replica and `count` sentinels (default 3) watching it as `masterName`. */
export class RedisSentinels {
  master!: RedisServer;
  replica!: RedisServer;
  sentinels: { port: number; proc: ChildProcess; dir: string }[] = [];

  constructor(
    readonly opts: {
      masterName?: string;
      count?: number;
      downAfterMs?: number;
      auth?: TopologyAuth;
      /** requirepass on the sentinels themselves (REDIS_SENTINEL_PASSWORD). */
      sentinelPassword?: string;
      /**
       * master and replica on TLS only (replication too) with these certificates; the sentinels reach them over TLS
       * (tls-replication in sentinel.conf) and listen in plaintext themselves, as both runtimes speak to them.
       */
      tls?: TopologyCerts;
    } = {},
  ) {}

  /** What the helpers use to reach a data node (credentials, and the CA in TLS mode). */
  get access(): NodeAccess {
    return { ...this.auth, ...(this.opts.tls ? { tlsCa: this.opts.tls.ca } : {}) };
  }

  get masterName(): string {
    return this.opts.masterName ?? 'mymaster';
  }

  get auth(): TopologyAuth {
    return this.opts.auth ?? {};
  }

  async start(): Promise<this> {
    const tls = this.opts.tls;
    const dataNode = async (extra: string[]) => {
      const port = await freePort();
      return new RedisServer([...authArgs(this.auth), ...(tls ? tls.serverArgs(port) : ['--port', String(port)]), ...extra], port).start();
    };
    this.master = await dataNode([]);
    this.replica = await dataNode(['--replicaof', '127.0.0.1', String(this.master.port)]);
    await until('the replica in sync', 15_000, () =>
      /master_link_status:up/.test(cli(this.replica.port, ['info', 'replication'], this.access)),
    );
    const taken = new Set<number>();
    for (let i = 0; i < (this.opts.count ?? 3); i++) {
      const port = await clusterPort(taken);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-sentinel-'));
      const conf = [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${this.masterName} 127.0.0.1 ${this.master.port} 2`,
        `sentinel down-after-milliseconds ${this.masterName} ${this.opts.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${this.masterName} 10000`,
        `sentinel parallel-syncs ${this.masterName} 1`,
        ...(this.auth.password ? [`sentinel auth-pass ${this.masterName} ${this.auth.password}`] : []),
        ...(this.auth.username ? [`sentinel auth-user ${this.masterName} ${this.auth.username}`] : []),
        ...(this.opts.sentinelPassword
          ? [`requirepass ${this.opts.sentinelPassword}`, `sentinel sentinel-pass ${this.opts.sentinelPassword}`]
          : []),
        ...(tls
          ? [
              'tls-replication yes',
              `tls-cert-file ${tls.file('server.crt')}`,
              `tls-key-file ${tls.file('server.key')}`,
              `tls-ca-cert-file ${tls.ca}`,
            ]
          : []),
      ];
      fs.writeFileSync(path.join(dir, 'sentinel.conf'), conf.join('\n') + '\n');
      const proc = spawn('redis-server', [path.join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore' });
      this.sentinels.push({ port, proc, dir });
    }
    const sauth = { password: this.opts.sentinelPassword };
    await until('every sentinel sees the master, the replica and the other sentinels', 20_000, () =>
      this.sentinels.every((s) => {
        const info = cli(s.port, ['sentinel', 'master', this.masterName], sauth);
        const n = (k: string) => Number(new RegExp(`${k}\\n(\\d+)`).exec(info)?.[1] ?? -1);
        return n('num-slaves') >= 1 && n('num-other-sentinels') >= (this.opts.count ?? 3) - 1;
      }),
    );
    return this;
  }

  /** `host:port,...` of the sentinels: the REDIS_SENTINELS value. */
  get seeds(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  /** The master's port as the sentinels report it now. */
  currentMasterPort(): number {
    const out = cli(this.sentinels[0]!.port, ['sentinel', 'get-master-addr-by-name', this.masterName], {
      password: this.opts.sentinelPassword,
    });
    return Number(out.trim().split('\n')[1]);
  }

  /** SIGKILL the current master and wait until the sentinels have promoted the replica. */
  async failover(ms = 20_000): Promise<number> {
    const old = this.currentMasterPort();
    const victim = [this.master, this.replica].find((s) => s.port === old)!;
    if (victim.pid !== null) process.kill(victim.pid, 'SIGKILL');
    return until('the sentinels to promote a new master', ms, () => {
      const now = this.currentMasterPort();
      return now !== old ? now : null;
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sentinels) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) {
        await new Promise<void>((resolve) => {
          s.proc.once('exit', () => resolve());
          s.proc.kill('SIGTERM');
          setTimeout(() => s.proc.kill('SIGKILL'), 5000).unref();
        });
      }
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
    await Promise.all([this.master?.cleanup(), this.replica?.cleanup()]);
  }
}
