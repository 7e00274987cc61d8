// The chaos test (`npm run chaos`): worker processes started through the CLI, thousands of
// short tasks submitted through the library at a steady rate, a random busy worker
// SIGKILLed every few seconds and restarted under a new id until every task has ended, and
// one Kafka broker restart. At the end it
// counts, from the task records and from what the handlers recorded in Redis:
//   - lost: accepted tasks that did not end `success` (must be 0);
//   - wrong: successes whose result is not the expected one, or that no handler run
//     produced (must be 0);
//   - executed more than once: tasks whose handler completed more than one run;
//   - recovery: for each kill, the time from the SIGKILL to the moment the last task the
//     killed worker held was finished elsewhere (p50 and max);
//   - with --brokers 3: the broker restart is a SIGKILL of the broker leading most task
//     partitions, restarted with its data after --broker-down ms, and the time to resume
//     is from that SIGKILL to the first finish of a task accepted after it.
// The figures are printed and written to chaos/results/<timestamp>.json and latest.json.
//
//   npm run chaos -- [--tasks N] [--workers N] [--kill-every ms] [--duration ms]
//                    [--submit-over ms] [--restart-at ms] [--no-broker-restart] [--quick]
//                    [--kafka-port P] [--brokers N] [--broker-down ms]
// Defaults: 5000 tasks submitted over 40 s, 3 workers, a kill every 2 s, the broker
// restart at +15 s, the chaos phase capped at 120 s. --quick: 400 tasks over 8 s, the
// restart at +4 s.
//
// Kafka: a broker (or with --brokers N a cluster on ports P … P+N-1) of its own via
// scripts/kafka.mjs on port 19192 (KAFKA_PORT-style `--kafka-port`), or the one
// YADTQ_KAFKA_BROKERS names (then it is not restarted: it may be shared). Redis: always a
// redis-server of its own on a free port.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { Redis } from 'ioredis';
import {
  type Backend,
  createKafkaRedisBackend,
  resolveConfig,
  TaskClient,
  type TaskRecord,
} from '../src/index.ts';
import { OwnKafka, OwnRedis, ROOT } from './services.ts';
import { chaos, chaosKeys, expectedResult } from './tasks.ts';

/** What to run; every field has a default (the issue's full-size run). */
export interface ChaosOptions {
  /** Tasks submitted. Default 5000. */
  tasks?: number;
  /** Worker processes kept running. Default 3. */
  workers?: number;
  /** A random worker is SIGKILLed this often (ms). Default 2000. */
  killEveryMs?: number;
  /**
   * Longest chaos phase (ms): workers are killed until every task has ended or this much
   * time has passed. Default 120 000.
   */
  durationMs?: number;
  /** Spread the submits evenly over this many ms; 0 submits everything at once. Default 40 000. */
  submitOverMs?: number;
  /** Restart the Kafka broker once (own broker only). Default true. */
  brokerRestart?: boolean;
  /** When the broker restart begins, in ms after the chaos phase began. Default 15 000. */
  brokerRestartAtMs?: number;
  /** Tasks each worker runs at once. Default: the worker's default. */
  concurrency?: number;
  /** Task run time range (ms). Default 1 to 50. */
  minTaskMs?: number;
  maxTaskMs?: number;
  /** After the chaos phase, how long to wait for every task to end (ms). Default 180 000. */
  settleLimitMs?: number;
  /** Use this Kafka (never restarted) instead of a broker of our own. */
  kafkaBrokers?: string;
  /** Port of our own broker (the first one of a cluster). Default 19192. */
  kafkaPort?: number;
  /**
   * Brokers of our own cluster. With more than one the broker restart is a SIGKILL of the
   * broker leading most task partitions, brought back after `brokerDownMs`. Default 1.
   */
  kafkaBrokerCount?: number;
  /** How long the SIGKILLed broker of a cluster stays down (ms). Default 5000. */
  brokerDownMs?: number;
  /** Where the JSON report goes; null for nowhere. Default chaos/results. */
  resultsDir?: string | null;
  /** Progress lines. Default: stderr. */
  log?: (line: string) => void;
}

/** One SIGKILL and how long its tasks took to be finished elsewhere. */
export interface KillRecord {
  workerId: string;
  /** ms since the chaos phase began. */
  atMs: number;
  /** Tasks the worker held (claimed, unfinished) when it died. */
  held: number;
  /** From the kill to the last held task's finish elsewhere; null if none held or unfinished. */
  recoveryMs: number | null;
  /** Held tasks that did not end success. */
  unrecovered: number;
}

export interface ChaosReport {
  ok: boolean;
  startedAt: string;
  command: string;
  settings: Required<Omit<ChaosOptions, 'kafkaBrokers' | 'resultsDir' | 'log' | 'concurrency'>> & {
    concurrency: number | null;
    kafkaBrokers: string;
    ownBroker: boolean;
  };
  elapsedMs: { chaosPhase: number; settle: number; total: number };
  tasks: {
    submitted: number;
    success: number;
    lost: number;
    lostByStatus: Record<string, number>;
    wrong: number;
    /** Successes no completed handler run produced (counted in `wrong`). */
    unexecuted: number;
    executedMoreThanOnce: number;
    executedMoreThanOncePercent: number;
    maxExecutions: number;
    /** Handler starts above one, runs cut short by a kill included. */
    startedMoreThanOnce: number;
    /** Tasks the reaper took back from a dead worker at least once (`losses` > 0). */
    recoveredFromDeadWorkers: number;
  };
  submitErrors: Record<string, number>;
  kills: {
    count: number;
    withTasks: number;
    recoveryMs: { p50: number | null; p90: number | null; max: number | null };
    unrecovered: number;
    list: KillRecord[];
  };
  brokerRestart: null | {
    stoppedAtMs: number;
    backAtMs: number;
    downMs: number;
    /** The broker SIGKILLed (a cluster), or null for the stop of a single broker. */
    killedBroker: number | null;
    /** From the stop/SIGKILL to the first finish of a task accepted after it; null if none. */
    firstFinishMs: number | null;
    /**
     * From the stop/SIGKILL to the start of the first second from which tasks finish again,
     * over 3 seconds, at half the rate of the 10 s before it or more; null if never.
     */
    resumeMs: number | null;
    /** Tasks finished in each second from 10 s before the stop/SIGKILL to 50 s after it. */
    finishesPerSecond: number[];
  };
  workers: {
    started: number;
    unexpectedExits: Array<{ workerId: string; atMs: number; code: number | null }>;
  };
  logFile: string;
  examples: { lost: unknown[]; wrong: unknown[]; duplicates: unknown[] };
}

/** The broker restart as it happened, before the time to resume is known. */
type BrokerRestart = Omit<
  NonNullable<ChaosReport['brokerRestart']>,
  'firstFinishMs' | 'resumeMs' | 'finishesPerSecond'
>;

interface Slot {
  index: number;
  restarts: number;
  id: string;
  child: ChildProcess;
  killing: boolean;
}

const TERMINAL = new Set(['success', 'failed', 'cancelled']);

/** Runs the chaos test; resolves with its report (report.ok: 0 lost and 0 wrong). */
export async function runChaos(options: ChaosOptions = {}): Promise<ChaosReport> {
  const settings = {
    tasks: options.tasks ?? 5000,
    workers: options.workers ?? 3,
    killEveryMs: options.killEveryMs ?? 2000,
    durationMs: options.durationMs ?? 120_000,
    submitOverMs: options.submitOverMs ?? 40_000,
    brokerRestart: options.brokerRestart ?? true,
    brokerRestartAtMs: options.brokerRestartAtMs ?? 15_000,
    minTaskMs: options.minTaskMs ?? 1,
    maxTaskMs: options.maxTaskMs ?? 50,
    settleLimitMs: options.settleLimitMs ?? 180_000,
    kafkaPort: options.kafkaPort ?? 19192,
    kafkaBrokerCount: options.kafkaBrokerCount ?? 1,
    brokerDownMs: options.brokerDownMs ?? 5000,
  };
  const log = options.log ?? ((line: string) => process.stderr.write(`[chaos] ${line}\n`));
  const startedAt = new Date();
  const stamp = `${startedAt.getTime().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const names = {
    topic: `yadtq-chaos-${stamp}`,
    groupId: `yadtq-chaos-${stamp}`,
    prefix: `yadtq-chaos:${stamp}:`,
  };
  const cleanup: Array<() => Promise<unknown>> = [];
  const runDir = mkdtempSync(join(tmpdir(), 'yadtq-chaos-'));
  const logFile = join(runDir, 'workers.log');
  const workerLog = createWriteStream(logFile);
  cleanup.push(() => new Promise((resolve) => workerLog.end(resolve)));

  try {
    // --- servers ---
    const redisServer = await OwnRedis.start();
    cleanup.push(() => redisServer.stop());
    log(`redis-server on ${redisServer.url}`);
    let kafka: OwnKafka | undefined;
    let brokers = options.kafkaBrokers;
    if (brokers === undefined) {
      kafka = new OwnKafka(settings.kafkaPort, settings.kafkaBrokerCount);
      const wasRunning = await kafka.running();
      log(`${wasRunning ? 'reusing' : 'starting'} a Kafka broker on ${kafka.brokers}`);
      brokers = await kafka.start(false);
      if (!wasRunning) cleanup.push(() => kafka!.stop());
    } else if (settings.brokerRestart) {
      log(`Kafka ${brokers} is given (maybe shared): it is not restarted`);
      settings.brokerRestart = false;
    }
    const config = resolveConfig({ kafkaBrokers: brokers, redisUrl: redisServer.url, ...names });
    const backend: Backend = await createKafkaRedisBackend(config, { clientId: 'yadtq-chaos' });
    cleanup.push(() => backend.close());
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const redis = new Redis(redisServer.url, { enableAutoPipelining: true });
    redis.on('error', () => {});
    cleanup.push(() => redis.quit().catch(() => redis.disconnect()));

    // --- workers ---
    const workerEnv: NodeJS.ProcessEnv = {
      ...process.env,
      YADTQ_KAFKA_BROKERS: brokers,
      YADTQ_REDIS_URL: redisServer.url,
      YADTQ_TOPIC: names.topic,
      YADTQ_GROUP: names.groupId,
      YADTQ_PREFIX: names.prefix,
    };
    let t0 = Date.now();
    let stopping = false;
    let started = 0;
    const unexpectedExits: ChaosReport['workers']['unexpectedExits'] = [];
    const slots: Slot[] = [];
    const spawnWorker = (index: number, restarts: number): Slot => {
      const id = restarts === 0 ? `w${index + 1}` : `w${index + 1}-r${restarts}`;
      const args = [join(ROOT, 'chaos', 'cli.ts'), 'worker', id];
      args.push('--tasks', join(ROOT, 'chaos', 'tasks.ts'));
      if (options.concurrency !== undefined)
        args.push('--concurrency', String(options.concurrency));
      const child = spawn(process.execPath, args, {
        cwd: ROOT,
        env: workerEnv,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      started++;
      child.stderr?.on('data', (chunk: Buffer) => {
        const text = chunk.toString().replace(/\n(?=.)/g, `\n${id} `);
        workerLog.write(`${id} ${text}`);
      });
      const slot: Slot = { index, restarts, id, child, killing: false };
      slots[index] = slot;
      child.once('exit', (code) => {
        if (slot.killing || stopping) return;
        // A worker that could not start (Kafka down) or crashed: a supervisor restarts it.
        unexpectedExits.push({ workerId: id, atMs: Date.now() - t0, code });
        log(`worker ${id} exited by itself (code ${code}); restarting it`);
        setTimeout(() => {
          if (!stopping && slots[index] === slot) spawnWorker(index, restarts + 1);
        }, 1000);
      });
      return slot;
    };
    cleanup.push(async () => {
      stopping = true;
      await Promise.all(slots.map((slot) => stopWorker(slot.child)));
    });
    for (let i = 0; i < settings.workers; i++) spawnWorker(i, 0);
    log(`${settings.workers} workers starting; waiting until they own partitions`);
    await until(async () => {
      const infos = await backend.registry.list();
      return slots.every((slot) =>
        infos.some((i) => i.id === slot.id && i.alive && i.partitions.length > 0),
      );
    }, 90_000);

    // --- the chaos phase: submit, kill, restart the broker ---
    t0 = Date.now();
    log(
      `chaos: ${settings.tasks} tasks, a SIGKILL every ${settings.killEveryMs} ms until all have ended (at most ${settings.durationMs} ms)${settings.brokerRestart ? `, a broker restart at +${settings.brokerRestartAtMs} ms` : ''}`,
    );
    const indexOf = new Map<string, number>();
    const acceptedAt = new Map<string, number>();
    const submitErrors: Record<string, number> = {};
    const sleepMs = Array.from(
      { length: settings.tasks },
      () =>
        settings.minTaskMs +
        Math.floor(Math.random() * (settings.maxTaskMs - settings.minTaskMs + 1)),
    );
    const pending = new Set<string>();
    let submitted = false;
    const submitting = (async () => {
      let next = 0;
      while (next < settings.tasks) {
        const due =
          settings.submitOverMs === 0
            ? settings.tasks
            : Math.min(
                settings.tasks,
                Math.ceil((settings.tasks * (Date.now() - t0 + 100)) / settings.submitOverMs),
              );
        if (due <= next) {
          await sleep(100);
          continue;
        }
        const batch: number[] = [];
        for (let i = next; i < Math.min(due, next + 250); i++) batch.push(i);
        try {
          const handles = await client.submitMany(
            chaos,
            batch.map((i) => [i, sleepMs[i]!] as [number, number]),
          );
          const at = Date.now();
          handles.forEach((handle, k) => {
            indexOf.set(handle.id, batch[k]!);
            acceptedAt.set(handle.id, at);
            pending.add(handle.id);
          });
          next = batch[batch.length - 1]! + 1;
        } catch (error) {
          // Not accepted (the records were discarded): submit the same work again.
          const code = (error as { code?: string }).code ?? String(error);
          submitErrors[code] = (submitErrors[code] ?? 0) + 1;
          log(`submit of ${batch.length} tasks failed (${code}); trying again`);
          await sleep(500);
        }
      }
      submitted = true;
      log(`all ${settings.tasks} tasks accepted at +${Date.now() - t0} ms`);
    })();
    const busy = () =>
      (!submitted || pending.size > 0) &&
      Date.now() - t0 + settings.killEveryMs <= settings.durationMs;
    // Follows the tasks while the chaos lasts (and says how far they are).
    const following = (async () => {
      let lastLog = 0;
      while (busy()) {
        await refresh(backend, pending);
        if (Date.now() - lastLog >= 5000) {
          lastLog = Date.now();
          log(
            `+${Date.now() - t0} ms: ${indexOf.size - pending.size} of ${settings.tasks} tasks ended`,
          );
        }
        await sleep(500);
      }
    })();

    const kills: Array<{ workerId: string; at: number; held: string[] }> = [];
    const killing = (async () => {
      for (;;) {
        await sleep(settings.killEveryMs);
        if (!busy()) break;
        const alive = slots.filter((slot) => slot.child.exitCode === null && !slot.killing);
        // A random worker among those holding tasks (a kill of an idle one tests little),
        // or among all when none holds any.
        const holding = await Promise.all(
          alive.map((slot) => redis.scard(`${names.prefix}held:${slot.id}`).catch(() => 0)),
        );
        const busyOnes = alive.filter((_, k) => holding[k]! > 0);
        const pool = busyOnes.length > 0 ? busyOnes : alive;
        const slot = pool[Math.floor(Math.random() * pool.length)];
        if (slot === undefined) continue;
        slot.killing = true;
        const exited = new Promise((resolve) => slot.child.once('exit', resolve));
        const at = Date.now();
        slot.child.kill('SIGKILL');
        await exited;
        // The process is gone, so its held set cannot change any more; nothing else touches
        // it until the worker's heartbeat key expires (seconds later), when the reaper moves
        // these tasks back to the queue. So this is exactly what it held at death.
        const held = await redis.smembers(`${names.prefix}held:${slot.id}`);
        kills.push({ workerId: slot.id, at, held });
        log(`+${at - t0} ms: SIGKILL ${slot.id} (held ${held.length} tasks)`);
        spawnWorker(slot.index, slot.restarts + 1);
      }
    })();

    let brokerRestart: BrokerRestart | null = null;
    const restarting = (async () => {
      if (!settings.brokerRestart || kafka === undefined) return;
      await sleep(settings.brokerRestartAtMs);
      if (!busy()) {
        log('every task ended before the broker restart was due: no restart');
        return;
      }
      let killedBroker: number | null = null;
      let stoppedAt: number;
      if (kafka.count > 1) {
        killedBroker = await leaderOfMost(brokers!, names.topic);
        stoppedAt = Date.now();
        log(`+${stoppedAt - t0} ms: SIGKILL Kafka broker ${killedBroker} of ${kafka.count}`);
        await kafka.kill(killedBroker);
        await sleep(settings.brokerDownMs);
      } else {
        stoppedAt = Date.now();
        log(`+${stoppedAt - t0} ms: stopping the Kafka broker`);
        await kafka.stop();
      }
      await kafka.start(true);
      const backAt = Date.now();
      log(`+${backAt - t0} ms: the Kafka broker is back (down ${backAt - stoppedAt} ms)`);
      brokerRestart = {
        stoppedAtMs: stoppedAt - t0,
        backAtMs: backAt - t0,
        downMs: backAt - stoppedAt,
        killedBroker,
      };
    })();
    await Promise.all([submitting, following, killing, restarting]);
    const chaosEnd = Date.now();
    log(`chaos phase over after ${chaosEnd - t0} ms; waiting for every task to end`);

    // --- settle: wait until every accepted task is terminal, or the limit ---
    const settleDeadline = chaosEnd + settings.settleLimitMs;
    let lastLog = 0;
    while (pending.size > 0 && Date.now() < settleDeadline) {
      await refresh(backend, pending);
      if (pending.size === 0) break;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`${pending.size} tasks not finished yet`);
      }
      await sleep(1000);
    }
    const settleEnd = Date.now();

    // --- the figures ---
    const ids = [...indexOf.keys()];
    const records = await getRecords(backend, ids);
    const byId = new Map(ids.map((id, k) => [id, records[k] ?? null]));
    const keyed = ids.map((id) => chaosKeys(names.prefix, id));
    const execs = await counters(
      redis,
      keyed.map((k) => k.exec),
    );
    const starts = await counters(
      redis,
      keyed.map((k) => k.start),
    );
    const lostByStatus: Record<string, number> = {};
    const examples: ChaosReport['examples'] = { lost: [], wrong: [], duplicates: [] };
    let success = 0;
    let wrong = 0;
    let unexecuted = 0;
    let duplicates = 0;
    let maxExecutions = 0;
    let startedTwice = 0;
    let recovered = 0;
    for (const [k, id] of ids.entries()) {
      const record = byId.get(id) ?? null;
      const index = indexOf.get(id)!;
      const executions = execs[k]!;
      maxExecutions = Math.max(maxExecutions, executions);
      if (starts[k]! > 1) startedTwice++;
      if ((record?.losses ?? 0) > 0) recovered++;
      if (executions > 1) {
        duplicates++;
        if (examples.duplicates.length < 10) {
          const by = await redis.lrange(keyed[k]!.by, 0, -1);
          examples.duplicates.push({ id, executions, by, losses: record?.losses });
        }
      }
      if (record?.status !== 'success') {
        const status = record?.status ?? 'missing';
        lostByStatus[status] = (lostByStatus[status] ?? 0) + 1;
        if (examples.lost.length < 10) examples.lost.push({ id, index, record });
        continue;
      }
      success++;
      if (record.result !== expectedResult(index) || executions === 0) {
        wrong++;
        if (executions === 0) unexecuted++;
        if (examples.wrong.length < 10)
          examples.wrong.push({ id, index, result: record.result, executions });
      }
    }
    const lost = ids.length - success + (settings.tasks - ids.length);
    if (settings.tasks > ids.length) lostByStatus['not-accepted'] = settings.tasks - ids.length;

    const killList: KillRecord[] = kills.map((kill) => {
      let last = kill.at;
      let unrecovered = 0;
      for (const id of kill.held) {
        const record = byId.get(id) ?? null;
        if (record?.status !== 'success' || record.finishedAt === null) unrecovered++;
        else last = Math.max(last, record.finishedAt);
      }
      return {
        workerId: kill.workerId,
        atMs: kill.at - t0,
        held: kill.held.length,
        recoveryMs: kill.held.length === 0 || unrecovered > 0 ? null : last - kill.at,
        unrecovered,
      };
    });
    const recoveries = killList.flatMap((k) => (k.recoveryMs === null ? [] : [k.recoveryMs]));
    // Set inside the restarting task, which TypeScript does not follow.
    const restart = brokerRestart as BrokerRestart | null;
    let firstFinishAt: number | null = null;
    const finishes: number[] = [];
    const downAt = t0 + (restart?.stoppedAtMs ?? 0);
    for (const [id, at] of acceptedAt) {
      const record = byId.get(id);
      if (record?.status !== 'success' || record.finishedAt === null) continue;
      finishes.push(record.finishedAt);
      if (at > downAt) firstFinishAt = Math.min(firstFinishAt ?? Infinity, record.finishedAt);
    }
    const perSecond = finishesPerSecond(finishes, downAt - 10_000, 60);
    const report: ChaosReport = {
      ok: lost === 0 && wrong === 0,
      startedAt: startedAt.toISOString(),
      command: commandLine(),
      settings: {
        ...settings,
        concurrency: options.concurrency ?? null,
        kafkaBrokers: brokers,
        ownBroker: kafka !== undefined,
      },
      elapsedMs: {
        chaosPhase: chaosEnd - t0,
        settle: settleEnd - chaosEnd,
        total: settleEnd - startedAt.getTime(),
      },
      tasks: {
        submitted: settings.tasks,
        success,
        lost,
        lostByStatus,
        wrong,
        unexecuted,
        executedMoreThanOnce: duplicates,
        executedMoreThanOncePercent: round((100 * duplicates) / Math.max(1, ids.length), 3),
        maxExecutions,
        startedMoreThanOnce: startedTwice,
        recoveredFromDeadWorkers: recovered,
      },
      submitErrors,
      kills: {
        count: killList.length,
        withTasks: killList.filter((k) => k.held > 0).length,
        recoveryMs: {
          p50: percentile(recoveries, 50),
          p90: percentile(recoveries, 90),
          max: recoveries.length === 0 ? null : Math.max(...recoveries),
        },
        unrecovered: killList.reduce((sum, k) => sum + k.unrecovered, 0),
        list: killList,
      },
      brokerRestart:
        restart === null
          ? null
          : {
              ...restart,
              firstFinishMs: firstFinishAt === null ? null : firstFinishAt - downAt,
              resumeMs: resumeMs(perSecond, 10),
              finishesPerSecond: perSecond,
            },
      workers: { started, unexpectedExits },
      logFile,
      examples,
    };
    if (options.resultsDir !== null) {
      const dir = options.resultsDir ?? join(ROOT, 'chaos', 'results');
      mkdirSync(dir, { recursive: true });
      const text = `${JSON.stringify(report, null, 2)}\n`;
      const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
      writeFileSync(file, text);
      writeFileSync(join(dir, 'latest.json'), text);
      log(`report written to ${file} (and latest.json)`);
    }
    return report;
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  }
}

/** Drops the ids of tasks that have ended from `pending`. */
async function refresh(backend: Backend, pending: Set<string>): Promise<void> {
  const ids = [...pending];
  const records = await getRecords(backend, ids).catch(() => []);
  ids.forEach((id, k) => {
    const record = records[k];
    if (record != null && TERMINAL.has(record.status)) pending.delete(id);
  });
}

/** The records of `ids`, fetched together (the store pipelines them). */
async function getRecords(backend: Backend, ids: string[]): Promise<Array<TaskRecord | null>> {
  const out: Array<TaskRecord | null> = [];
  for (let i = 0; i < ids.length; i += 1000) {
    out.push(...(await Promise.all(ids.slice(i, i + 1000).map((id) => backend.store.get(id)))));
  }
  return out;
}

async function counters(redis: Redis, keys: string[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const values = await redis.mget(...keys.slice(i, i + 1000));
    out.push(...values.map((v) => Number(v ?? 0)));
  }
  return out;
}

/** SIGTERM, then SIGKILL after 15 s. */
async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => true), sleep(15_000, false)])) === false) {
    child.kill('SIGKILL');
    await exited;
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(250);
  }
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function commandLine(): string {
  return `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim();
}

function brokerLine(restart: ChaosReport['brokerRestart']): string {
  if (restart === null) return 'none';
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  const what =
    restart.killedBroker === null ? 'stopped' : `broker ${restart.killedBroker} SIGKILLed`;
  return `${what} at +${restart.stoppedAtMs} ms, down ${restart.downMs} ms; first task accepted after it finished after ${ms(restart.firstFinishMs)}, finishes back to half rate after ${ms(restart.resumeMs)}`;
}

/** How many of `times` fall in each of `seconds` seconds from `from`. */
function finishesPerSecond(times: number[], from: number, seconds: number): number[] {
  const counts = Array.from({ length: seconds }, () => 0);
  for (const time of times) {
    const second = Math.floor((time - from) / 1000);
    if (second >= 0 && second < seconds) counts[second]! += 1;
  }
  return counts;
}

/**
 * Given finishes per second with the stop at second `at`: 0 when the rate never fell under
 * half the rate before the stop within 30 s of it, else ms from the stop to the first
 * second after that fall that starts 3 seconds with, in all, at least 3 × half that rate
 * (finishes come in bursts: a worker claims and finishes in batches).
 */
function resumeMs(perSecond: number[], at: number): number | null {
  const before = perSecond.slice(0, at);
  const target = before.reduce((a, b) => a + b, 0) / Math.max(1, before.length) / 2;
  const dip = perSecond.findIndex((n, s) => s >= at && s < at + 30 && n < target);
  if (dip < 0) return 0;
  for (let s = dip; s + 3 <= perSecond.length; s++) {
    const three = perSecond.slice(s, s + 3).reduce((a, b) => a + b, 0);
    if (three >= 3 * target) return (s - at) * 1000;
  }
  return null;
}

/** The broker that leads most partitions of `topic`. */
async function leaderOfMost(brokers: string, topic: string): Promise<number> {
  const admin = new Admin({ clientId: 'yadtq-chaos-admin', bootstrapBrokers: brokers.split(',') });
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const led = new Map<number, number>();
    for (const p of metadata.topics.get(topic)?.partitions ?? [])
      led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
    const [leader] = [...led].sort((a, b) => b[1] - a[1])[0] ?? [1];
    return leader;
  } finally {
    await admin.close().catch(() => {});
  }
}

function printSummary(report: ChaosReport): void {
  const { tasks, kills } = report;
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  const lines = [
    '',
    `chaos run ${report.startedAt}: ${report.ok ? 'PASSED' : 'FAILED'}`,
    `  tasks submitted          ${tasks.submitted}`,
    `  lost (not success)       ${tasks.lost}${tasks.lost > 0 ? ` ${JSON.stringify(tasks.lostByStatus)}` : ''}`,
    `  wrong results            ${tasks.wrong}${tasks.unexecuted > 0 ? ` (${tasks.unexecuted} never executed)` : ''}`,
    `  executed more than once  ${tasks.executedMoreThanOnce} (${tasks.executedMoreThanOncePercent} %, max ${tasks.maxExecutions} runs)`,
    `  started more than once   ${tasks.startedMoreThanOnce} (runs cut short by a kill included)`,
    `  taken from dead workers  ${tasks.recoveredFromDeadWorkers}`,
    `  kills                    ${kills.count} (${kills.withTasks} holding tasks)`,
    `  recovery after a kill    p50 ${ms(kills.recoveryMs.p50)}, p90 ${ms(kills.recoveryMs.p90)}, max ${ms(kills.recoveryMs.max)}`,
    `  broker restart           ${brokerLine(report.brokerRestart)}`,
    `  submit errors            ${JSON.stringify(report.submitErrors)}`,
    `  workers started          ${report.workers.started} (${report.workers.unexpectedExits.length} exited by themselves)`,
    `  time                     chaos ${report.elapsedMs.chaosPhase} ms, settle ${report.elapsedMs.settle} ms`,
    `  worker logs              ${report.logFile}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      tasks: { type: 'string' },
      workers: { type: 'string' },
      'kill-every': { type: 'string' },
      duration: { type: 'string' },
      'submit-over': { type: 'string' },
      'restart-at': { type: 'string' },
      'no-broker-restart': { type: 'boolean' },
      quick: { type: 'boolean' },
      'kafka-port': { type: 'string' },
      brokers: { type: 'string' },
      'broker-down': { type: 'string' },
    },
  });
  const number = (name: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!(Number.isInteger(n) && n > 0)) {
      process.stderr.write(`--${name} must be a whole number > 0, got ${value}\n`);
      process.exit(2);
    }
    return n;
  };
  const quick = values.quick === true;
  const report = await runChaos({
    tasks: number('tasks', values.tasks) ?? (quick ? 400 : 5000),
    workers: number('workers', values.workers),
    killEveryMs: number('kill-every', values['kill-every']),
    durationMs: number('duration', values.duration),
    submitOverMs: number('submit-over', values['submit-over']) ?? (quick ? 8000 : undefined),
    brokerRestart: values['no-broker-restart'] !== true,
    brokerRestartAtMs: number('restart-at', values['restart-at']) ?? (quick ? 4000 : undefined),
    kafkaPort: number('kafka-port', values['kafka-port']),
    kafkaBrokerCount: number('brokers', values.brokers),
    brokerDownMs: number('broker-down', values['broker-down']),
    kafkaBrokers: process.env.YADTQ_KAFKA_BROKERS || undefined,
  });
  printSummary(report);
  process.exit(report.ok ? 0 : 1);
}
