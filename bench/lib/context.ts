import type { Redis } from 'ioredis';
import type { QueueName, RunSpec, WorkerSpec } from '../queues/types.ts';
import { type RedisTraffic, trafficSnapshot } from './redis-traffic.ts';
import { commandCalls, cpuSeconds, redisInfo } from './services.ts';

/** What every scenario gets from the orchestrator. */
export interface BenchContext {
  redisUrl: string;
  redis: Redis;
  redisPid: number | undefined;
  kafkaBrokers: string;
  kafkaPid: number | undefined;
  partitions: number;
  queues: readonly QueueName[];
  /** Kafka requests sent by this (client) process, by API name. */
  kafkaRequests: Record<string, number>;
  /** Redis requests sent by this (client) process; the harness's own connection excluded. */
  redisTraffic: RedisTraffic;
  log(message: string): void;
}

let runs = 0;

/** A fresh run: empty Redis, unique queue/topic/prefix name. */
export async function freshRun(context: BenchContext, label: string): Promise<RunSpec> {
  await context.redis.flushall();
  runs++;
  const queue = `bench-${label}-${process.pid}-${Date.now().toString(36)}-${runs}`;
  return {
    queue,
    redisUrl: context.redisUrl,
    kafkaBrokers: context.kafkaBrokers,
    partitions: context.partitions,
  };
}

export function workerSpecs(
  spec: RunSpec,
  adapter: QueueName,
  count: number,
  concurrency: number,
): WorkerSpec[] {
  return Array.from({ length: count }, (_, index) => ({
    ...spec,
    adapter,
    concurrency,
    workerId: `${spec.queue}-w${index + 1}`,
  }));
}

/** Resource counters at one moment, so a run can report what it cost. */
export interface Snapshot {
  at: number;
  clientCpu: number;
  workerCpu: number;
  /** CPU seconds of each worker process, in the order of the pids given. */
  workerCpuEach: number[];
  redisCpu: number;
  kafkaCpu: number;
  redisMemory: number;
  redisCalls: Record<string, number>;
  redisNetIn: number;
  redisNetOut: number;
  kafkaRequests: Record<string, number>;
  /** Redis requests of this (client) process so far. */
  clientRedis: RedisTraffic;
}

export async function snapshot(context: BenchContext, workerPids: number[]): Promise<Snapshot> {
  const [memory, stats, cpu, calls] = await Promise.all([
    redisInfo(context.redis, 'memory'),
    redisInfo(context.redis, 'stats'),
    redisInfo(context.redis, 'cpu'),
    commandCalls(context.redis),
  ]);
  const own = process.cpuUsage();
  const each = workerPids.map((pid) => cpuSeconds(pid));
  return {
    at: Date.now(),
    clientCpu: (own.user + own.system) / 1e6,
    workerCpu: each.reduce((sum, cpu) => sum + cpu, 0),
    workerCpuEach: each,
    redisCpu: Number(cpu.used_cpu_user) + Number(cpu.used_cpu_sys),
    kafkaCpu: cpuSeconds(context.kafkaPid),
    redisMemory: Number(memory.used_memory),
    redisCalls: calls,
    redisNetIn: Number(stats.total_net_input_bytes),
    redisNetOut: Number(stats.total_net_output_bytes),
    kafkaRequests: { ...context.kafkaRequests },
    clientRedis: trafficSnapshot(),
  };
}

/** What a run cost, between two snapshots. */
export interface Cost {
  /** CPU seconds used during the run, by process kind. */
  cpuSeconds: { client: number; workers: number; redis: number; kafka: number };
  /** CPU seconds of each worker process during the run. */
  workerCpuEach: number[];
  redisMemoryDelta: number;
  /** Redis commands per task (calls inside Lua scripts included), by command. */
  redisCallsPerTask: Record<string, number>;
  redisBytesPerTask: { in: number; out: number };
}

export function cost(before: Snapshot, after: Snapshot, tasks: number): Cost {
  const round = (n: number, digits = 3): number => Number(n.toFixed(digits));
  const redisCallsPerTask: Record<string, number> = {};
  for (const [command, calls] of Object.entries(after.redisCalls)) {
    const perTask = (calls - (before.redisCalls[command] ?? 0)) / tasks;
    if (perTask >= 0.001) redisCallsPerTask[command] = round(perTask);
  }
  return {
    cpuSeconds: {
      client: round(after.clientCpu - before.clientCpu, 2),
      workers: round(after.workerCpu - before.workerCpu, 2),
      redis: round(after.redisCpu - before.redisCpu, 2),
      kafka: round(after.kafkaCpu - before.kafkaCpu, 2),
    },
    workerCpuEach: after.workerCpuEach.map((cpu, i) =>
      round(cpu - (before.workerCpuEach[i] ?? 0), 2),
    ),
    redisMemoryDelta: after.redisMemory - before.redisMemory,
    redisCallsPerTask,
    redisBytesPerTask: {
      in: round((after.redisNetIn - before.redisNetIn) / tasks, 1),
      out: round((after.redisNetOut - before.redisNetOut) / tasks, 1),
    },
  };
}

export function diffCounts(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta > 0) out[key] = delta;
  }
  return out;
}

export function sumCounts(...counts: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const count of counts) {
    for (const [key, value] of Object.entries(count)) out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}
