import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChaos } from '../../chaos/run.ts';
import { KAFKA_BROKERS } from './services.ts';

// The chaos run of `npm run chaos`, small: worker processes through the CLI, a few hundred
// tasks, a worker SIGKILLed every 2 s and restarted under a new id. It uses the suite's
// Kafka (so no broker restart here: outage.test.ts restarts a broker of its own) and a
// redis-server of its own.
test('chaos: SIGKILLed workers lose no task and give no wrong result', {
  timeout: 240_000,
}, async () => {
  const lines: string[] = [];
  const report = await runChaos({
    tasks: 300,
    workers: 3,
    killEveryMs: 2000,
    submitOverMs: 4000,
    durationMs: 10_000,
    brokerRestart: false,
    kafkaBrokers: KAFKA_BROKERS,
    settleLimitMs: 120_000,
    resultsDir: null,
    log: (line) => lines.push(line),
  });
  const { tasks, kills } = report;
  console.log(
    `chaos: ${tasks.submitted} tasks, ${kills.count} kills (${kills.withTasks} holding tasks), ` +
      `${tasks.executedMoreThanOnce} executed twice, recovery p50 ${kills.recoveryMs.p50} ms, max ${kills.recoveryMs.max} ms`,
  );
  assert.equal(
    tasks.lost,
    0,
    `lost tasks: ${JSON.stringify(report.examples.lost, null, 1)}\n${lines.join('\n')}`,
  );
  assert.equal(tasks.wrong, 0, `wrong results: ${JSON.stringify(report.examples.wrong)}`);
  assert.ok(kills.count >= 2, `at least two kills happened (${kills.count})`);
  assert.equal(kills.unrecovered, 0);
});
