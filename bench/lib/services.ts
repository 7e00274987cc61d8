import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sleep } from './fleet.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

export interface Service {
  url: string;
  /** The server's process id, when known (for its CPU time). */
  pid: number | undefined;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
    server.on('error', reject);
  });
}

/** A redis-server of the benchmark's own on a free port, without persistence. */
export async function startRedis(): Promise<Service & { client: Redis }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch {
      client.disconnect();
      await sleep(100);
    }
  }
  if (client.status !== 'ready') throw new Error(`redis-server on port ${port} did not start`);
  log(`Redis ${url} (pid ${child.pid})`);
  return {
    url,
    pid: child.pid,
    client,
    async stop() {
      client.disconnect();
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/**
 * Kafka through scripts/kafka.mjs (port BENCH_KAFKA_PORT, default 49092), or the brokers
 * YADTQ_KAFKA_BROKERS names. Stops the broker at the end only if it started it.
 */
export function startKafka(): Service {
  const given = process.env.YADTQ_KAFKA_BROKERS;
  const port = given ? Number(given.split(',')[0]?.split(':')[1]) : 0;
  if (given) {
    log(`Kafka ${given} (reused)`);
    return { url: given, pid: brokerPid(port), stop: async () => {} };
  }
  const kafkaPort = process.env.BENCH_KAFKA_PORT ?? '49092';
  const env = { ...process.env, KAFKA_PORT: kafkaPort };
  const script = join(ROOT, 'scripts/kafka.mjs');
  const wasRunning = spawnSync(process.execPath, [script, 'status'], { env }).status === 0;
  const result = spawnSync(process.execPath, [script, 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error('the Kafka broker could not be started (see above)');
  const url = String(result.stdout).trim().split('\n').pop() ?? '';
  log(`Kafka ${url}${wasRunning ? ' (already running: left running)' : ''}`);
  return {
    url,
    pid: brokerPid(Number(kafkaPort)),
    async stop() {
      if (!wasRunning) spawnSync(process.execPath, [script, 'stop'], { env, stdio: 'inherit' });
    },
  };
}

function brokerPid(port: number): number | undefined {
  const cache = process.env.YADTQ_CACHE_DIR ?? join(homedir(), '.cache', 'yadtq');
  try {
    const pid = Number(readFileSync(join(cache, `broker-${port}`, 'broker.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far; 0 when unknown. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** `INFO <section>` as key → value. */
export async function redisInfo(client: Redis, section: string): Promise<Record<string, string>> {
  const text = await client.info(section);
  const info: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) info[line.slice(0, at)] = line.slice(at + 1);
  }
  return info;
}

/** Calls per command from `INFO commandstats`. */
export async function commandCalls(client: Redis): Promise<Record<string, number>> {
  const info = await redisInfo(client, 'commandstats');
  const calls: Record<string, number> = {};
  for (const [key, value] of Object.entries(info)) {
    const match = /calls=(\d+)/.exec(value);
    if (key.startsWith('cmdstat_') && match) calls[key.slice(8)] = Number(match[1]);
  }
  return calls;
}

/** The versions of everything measured. */
export function versions(kafkaPid: number | undefined): Record<string, string> {
  const pkg = (name: string): string => {
    try {
      const path = join(ROOT, 'node_modules', name, 'package.json');
      return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  const run = (cmd: string, args: string[]): string =>
    String(spawnSync(cmd, args, { cwd: ROOT }).stdout ?? '').trim();
  let kafka = process.env.KAFKA_VERSION ?? 'unknown';
  try {
    const cmdline = readFileSync(`/proc/${kafkaPid}/cmdline`, 'utf8');
    kafka = /kafka-(\d+\.\d+\.\d+)/.exec(cmdline)?.[1] ?? kafka;
  } catch {}
  const dirty = run('git', ['status', '--porcelain', '--', 'src']) === '' ? '' : ' (src modified)';
  return {
    node: process.version,
    kafka,
    redis: /v=(\S+)/.exec(run('redis-server', ['--version']))?.[1] ?? 'unknown',
    bullmq: pkg('bullmq'),
    'bee-queue': pkg('bee-queue'),
    '@platformatic/kafka': pkg('@platformatic/kafka'),
    ioredis: pkg('ioredis'),
    yadtq: `${run('git', ['rev-parse', '--short', 'HEAD'])}${dirty}`,
  };
}
