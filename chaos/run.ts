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
//   - with --ordering-keys N: task i runs in lane i mod N, and within each lane each run
//     must start after the one before it ended (runs out of turn: must be 0);
//   - with --brokers 3: the broker restart is a SIGKILL of the broker leading most task
//     partitions, restarted with its data after --broker-down ms, and the time to resume
//     is from that SIGKILL to the first finish of a task accepted after it.
// The figures are printed and written to chaos/results/<timestamp>.json and latest.json.
//
//   npm run chaos -- [--tasks N] [--workers N] [--kill-every ms] [--duration ms]
//                    [--submit-over ms] [--restart-at ms] [--no-broker-restart] [--quick]
//                    [--kafka-port P] [--brokers N] [--broker-down ms] [--ordering-keys N]
// Defaults: 5000 tasks submitted over 40 s, 3 workers, a kill every 2 s, the broker
// restart at +15 s, the chaos phase capped at 120 s. --quick: 400 tasks over 8 s, the
// restart at +4 s.
//
// Kafka: a broker (or with --brokers N a cluster on ports P … P+N-1) of its own via
// scripts/services/ (the starter the tests and the bench share) on port 19192 (KAFKA_PORT-style `--kafka-port`), or the one
// YADTQ_KAFKA_BROKERS names (then it is not restarted: it may be shared). Redis: always a
// redis-server of its own on a free port.
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { LocalRedis, REPO_ROOT, useKafka } from '../scripts/services/index.ts';
import { type Backend, createKafkaRedisBackend, resolveConfig, TaskClient } from '../src/index.ts';
import { restartBroker } from './broker-restart.ts';
import { afterRestart, getRecords, type Kill, refresh, tallyKills, tallyTasks } from './figures.ts';
import { WorkerFleet } from './fleet.ts';
import { laneFigures } from './lanes.ts';
import {
  type BrokerRestart,
  type ChaosOptions,
  type ChaosReport,
  chaosSettings,
  commandLine,
  printSummary,
} from './report.ts';
import { type Submissions, submitAll } from './submitter.ts';

export type { ChaosOptions, ChaosReport, KillRecord } from './report.ts';

/** Runs the chaos test; resolves with its report (report.ok: 0 lost and 0 wrong). */
export async function runChaos(options: ChaosOptions = {}): Promise<ChaosReport> {
  const settings = chaosSettings(options);
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
    const redisServer = await LocalRedis.start();
    cleanup.push(() => redisServer.stop());
    log(`redis-server on ${redisServer.url}`);
    if (options.kafkaBrokers === undefined) {
      log(`a Kafka broker of our own on port ${settings.kafkaPort} (reused if running)`);
    } else if (settings.brokerRestart) {
      log(`Kafka ${options.kafkaBrokers} is given (maybe shared): it is not restarted`);
      settings.brokerRestart = false;
    }
    const kafkaInUse = await useKafka({
      given: options.kafkaBrokers,
      port: settings.kafkaPort,
      count: settings.kafkaBrokerCount,
    });
    cleanup.push(() => kafkaInUse.stop());
    const kafka = kafkaInUse.local;
    const brokers = kafkaInUse.brokers;
    if (kafka) log(`${kafkaInUse.started ? 'started' : 'reusing'} Kafka on ${brokers}`);
    const config = resolveConfig({ kafkaBrokers: brokers, redisUrl: redisServer.url, ...names });
    const backend: Backend = await createKafkaRedisBackend(config, { clientId: 'yadtq-chaos' });
    cleanup.push(() => backend.close());
    const client = new TaskClient({ broker: backend.broker, store: backend.store });
    const redis = new Redis(redisServer.url, { enableAutoPipelining: true });
    redis.on('error', () => {});
    cleanup.push(() => redis.quit().catch(() => redis.disconnect()));

    // --- workers ---
    const fleet = new WorkerFleet({
      env: {
        ...process.env,
        YADTQ_KAFKA_BROKERS: brokers,
        YADTQ_REDIS_URL: redisServer.url,
        YADTQ_TOPIC: names.topic,
        YADTQ_GROUP: names.groupId,
        YADTQ_PREFIX: names.prefix,
      },
      workerLog,
      log,
      concurrency: options.concurrency,
    });
    cleanup.push(() => fleet.stop());
    for (let i = 0; i < settings.workers; i++) fleet.spawn(i, 0);
    log(`${settings.workers} workers starting; waiting until they own partitions`);
    await until(async () => {
      const infos = await backend.registry.list();
      return fleet.slots.every((slot) =>
        infos.some((i) => i.id === slot.id && i.alive && i.partitions.length > 0),
      );
    }, 90_000);

    // --- the chaos phase: submit, kill, restart the broker ---
    const t0 = Date.now();
    fleet.t0 = t0;
    log(
      `chaos: ${settings.tasks} tasks, a SIGKILL every ${settings.killEveryMs} ms until all have ended (at most ${settings.durationMs} ms)${settings.brokerRestart ? `, a broker restart at +${settings.brokerRestartAtMs} ms` : ''}`,
    );
    const sleepMs = Array.from(
      { length: settings.tasks },
      () =>
        settings.minTaskMs +
        Math.floor(Math.random() * (settings.maxTaskMs - settings.minTaskMs + 1)),
    );
    const sub: Submissions = {
      indexOf: new Map(),
      acceptedAt: new Map(),
      pending: new Set(),
      errors: {},
      done: false,
    };
    const submitting = submitAll(client, { ...settings, sleepMs, t0 }, sub, log);
    const busy = () =>
      (!sub.done || sub.pending.size > 0) &&
      Date.now() - t0 + settings.killEveryMs <= settings.durationMs;
    // Follows the tasks while the chaos lasts (and says how far they are).
    const following = (async () => {
      let lastLog = 0;
      while (busy()) {
        await refresh(backend, sub.pending);
        if (Date.now() - lastLog >= 5000) {
          lastLog = Date.now();
          const ended = sub.indexOf.size - sub.pending.size;
          log(`+${Date.now() - t0} ms: ${ended} of ${settings.tasks} tasks ended`);
        }
        await sleep(500);
      }
    })();

    const kills: Kill[] = [];
    const killing = (async () => {
      for (;;) {
        await sleep(settings.killEveryMs);
        if (!busy()) break;
        const alive = fleet.alive();
        // A random worker among those holding tasks (a kill of an idle one tests little),
        // or among all when none holds any.
        const holding = await Promise.all(
          alive.map((slot) => redis.scard(`${names.prefix}held:${slot.id}`).catch(() => 0)),
        );
        const busyOnes = alive.filter((_, k) => holding[k]! > 0);
        const pool = busyOnes.length > 0 ? busyOnes : alive;
        const slot = pool[Math.floor(Math.random() * pool.length)];
        if (slot === undefined) continue;
        const at = await fleet.kill(slot);
        // The process is gone, so its held set cannot change any more; nothing else touches
        // it until the worker's heartbeat key expires (seconds later), when the reaper moves
        // these tasks back to the queue. So this is exactly what it held at death.
        const held = await redis.smembers(`${names.prefix}held:${slot.id}`);
        kills.push({ workerId: slot.id, at, held });
        log(`+${at - t0} ms: SIGKILL ${slot.id} (held ${held.length} tasks)`);
        fleet.spawn(slot.index, slot.restarts + 1);
      }
    })();

    let restart: BrokerRestart | null = null;
    const restarting = (async () => {
      if (!settings.brokerRestart || kafka === undefined) return;
      await sleep(settings.brokerRestartAtMs);
      if (!busy()) {
        log('every task ended before the broker restart was due: no restart');
        return;
      }
      const { brokerDownMs } = settings;
      restart = await restartBroker({ kafka, brokers, topic: names.topic, brokerDownMs, t0, log });
    })();
    await Promise.all([submitting, following, killing, restarting]);
    const chaosEnd = Date.now();
    log(`chaos phase over after ${chaosEnd - t0} ms; waiting for every task to end`);

    // --- settle: wait until every accepted task is terminal, or the limit ---
    const settleDeadline = chaosEnd + settings.settleLimitMs;
    let lastLog = 0;
    while (sub.pending.size > 0 && Date.now() < settleDeadline) {
      await refresh(backend, sub.pending);
      if (sub.pending.size === 0) break;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`${sub.pending.size} tasks not finished yet`);
      }
      await sleep(1000);
    }
    const settleEnd = Date.now();

    // --- the figures ---
    const ids = [...sub.indexOf.keys()];
    const records = await getRecords(backend, ids);
    const byId = new Map(ids.map((id, k) => [id, records[k] ?? null]));
    const { tasks, examples } = await tallyTasks(
      redis,
      names.prefix,
      settings.tasks,
      sub.indexOf,
      byId,
    );
    // Set inside the restarting task, which TypeScript does not follow.
    const restarted = restart as BrokerRestart | null;
    const downAt = t0 + (restarted?.stoppedAtMs ?? 0);
    const report: ChaosReport = {
      ok: tasks.lost === 0 && tasks.wrong === 0,
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
      tasks,
      submitErrors: sub.errors,
      kills: tallyKills(kills, t0, byId),
      brokerRestart:
        restarted === null ? null : { ...restarted, ...afterRestart(downAt, sub.acceptedAt, byId) },
      workers: { started: fleet.started, unexpectedExits: fleet.unexpectedExits },
      logFile,
      examples,
      lanes:
        settings.orderingKeys === 0
          ? null
          : await laneFigures(redis, names.prefix, settings.orderingKeys, sub.indexOf),
    };
    if (report.lanes !== null && report.lanes.violations > 0) report.ok = false;
    if (options.resultsDir !== null) {
      const dir = options.resultsDir ?? join(REPO_ROOT, 'chaos', 'results');
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

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(250);
  }
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
      'ordering-keys': { type: 'string' },
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
    orderingKeys: number('ordering-keys', values['ordering-keys']),
    kafkaBrokers: process.env.YADTQ_KAFKA_BROKERS || undefined,
  });
  printSummary(report);
  process.exit(report.ok ? 0 : 1);
}
