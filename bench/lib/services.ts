import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  LocalKafka,
  LocalRedis,
  PRODUCTION_JVM_OPTS,
  useKafka,
} from '../../scripts/services/index.ts';

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

/** A redis-server of the benchmark's own on a free port, without persistence. */
export async function startRedis(): Promise<Service & { client: Redis }> {
  const server = await LocalRedis.start();
  const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await client.connect();
  log(`Redis ${server.url} (pid ${server.pid})`);
  return {
    url: server.url,
    pid: server.pid,
    client,
    async stop() {
      client.disconnect();
      await server.stop();
    },
  };
}

/**
 * Kafka of the benchmark's own on BENCH_KAFKA_PORT (default 49092) with Kafka's production
 * JVM settings (KAFKA_JVM_OPTS to change), or the brokers YADTQ_KAFKA_BROKERS names.
 * A broker already running on that port is reused with its own JVM settings, and left
 * running; one this started is stopped by stop().
 */
export async function startKafka(): Promise<Service> {
  const given = process.env.YADTQ_KAFKA_BROKERS || undefined;
  const port = given
    ? Number(given.split(',')[0]?.split(':')[1])
    : Number(process.env.BENCH_KAFKA_PORT ?? 49092);
  const kafka = await useKafka({
    given,
    port,
    jvmOpts: process.env.KAFKA_JVM_OPTS || PRODUCTION_JVM_OPTS,
    log: (line) => log(`kafka: ${line}`),
  });
  const pid = (await (kafka.local ?? new LocalKafka(port)).pid(1).catch(() => null)) ?? undefined;
  const how = given ? 'reused' : kafka.started ? 'started' : 'already running: left running';
  log(`Kafka ${kafka.brokers} (${how}); JVM: ${jvmFlags(pid).join(' ') || 'unknown'}`);
  return { url: kafka.brokers, pid, stop: () => kafka.stop() };
}

/** The -X options (heap, GC) a JVM runs with, from its command line. */
export function jvmFlags(pid: number | undefined): string[] {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.filter((a) => a.startsWith('-X') || a === '-server');
  } catch {
    return [];
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
    kafkaJvm: jvmFlags(kafkaPid).join(' ') || 'unknown',
  };
}
