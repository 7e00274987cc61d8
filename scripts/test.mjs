// The whole test suite, as `npm test` runs it:
//   1. formatter + linter (Biome), type check (tsc), build (dist/ for the CLI tests);
//   2. a Kafka broker on port 19092 (YADTQ_TEST_KAFKA_PORT) through scripts/services/, the
//      starter the bench and the chaos run share, unless YADTQ_KAFKA_BROKERS names one;
//   3. Redis on 127.0.0.1:6379 when it answers, else a redis-server of our own on a free port
//      (unless YADTQ_REDIS_URL names one);
//   4. node --test over test/unit and test/integration, with both addresses in the environment;
//   5. stops whatever it started.
// If Kafka or Redis cannot be had, it fails with a clear message: integration tests are never skipped.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useKafka, useRedis } from './services/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = [];
const log = (msg) => process.stderr.write(`[test] ${msg}\n`);

function run(cmd, args, env = process.env) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  return result.status ?? 1;
}

async function startRedis() {
  const redis = await useRedis({ given: process.env.YADTQ_REDIS_URL, shared: 6379 }).catch(
    (error) => {
      throw new Error(`${error.message}; or set YADTQ_REDIS_URL`);
    },
  );
  if (redis.local)
    log(`no Redis on 127.0.0.1:6379: started redis-server on port ${redis.local.port}`);
  else if (!process.env.YADTQ_REDIS_URL)
    log('using the Redis on 127.0.0.1:6379 (tests use unique key prefixes)');
  started.push(() => redis.stop());
  return redis.url;
}

async function startKafka() {
  if (process.env.YADTQ_KAFKA_BROKERS) return process.env.YADTQ_KAFKA_BROKERS;
  const port = Number(process.env.YADTQ_TEST_KAFKA_PORT ?? '19092');
  log(`starting a Kafka broker on port ${port} (scripts/kafka.mjs's start)`);
  const kafka = await useKafka({
    port,
    stopAfter: 'always',
    log: (line) => process.stderr.write(`[kafka] ${line}\n`),
  }).catch((error) => {
    log(error.message);
    throw new Error(
      'the Kafka broker could not be started (see above); the integration tests need it',
    );
  });
  started.push(() => kafka.stop());
  return kafka.brokers;
}

/**
 * The dashboard test drives Debian's Chromium (playwright-core with executablePath). It is
 * installed with apt-get when missing and we are root; otherwise the run fails and says how.
 */
function ensureChromium() {
  const chromium = process.env.YADTQ_CHROMIUM ?? '/usr/bin/chromium';
  if (existsSync(chromium)) return;
  if (process.getuid?.() !== 0 || process.env.YADTQ_CHROMIUM) {
    throw new Error(
      `${chromium} is missing: install it (sudo apt-get install -y chromium) for the dashboard browser test`,
    );
  }
  log(`${chromium} is missing: installing Debian's chromium package`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (
    run('apt-get', ['update'], env) !== 0 ||
    run('apt-get', ['install', '-y', 'chromium'], env) !== 0 ||
    !existsSync(chromium)
  ) {
    throw new Error('apt-get could not install chromium; the dashboard browser test needs it');
  }
}

let code = 1;
try {
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  if (run(npx, ['--no-install', 'biome', 'check', '.']) !== 0)
    throw new Error('lint/format check failed (fix with `npm run format`)');
  if (run(npx, ['--no-install', 'tsc', '--noEmit', '-p', '.']) !== 0)
    throw new Error('type check failed');
  if (run('npm', ['run', '--silent', 'build']) !== 0) throw new Error('build failed');
  ensureChromium();
  const redisUrl = await startRedis();
  const brokers = await startKafka();
  log(`Kafka at ${brokers}, Redis at ${redisUrl}`);
  const env = { ...process.env, YADTQ_KAFKA_BROKERS: brokers, YADTQ_REDIS_URL: redisUrl };
  const files = process.argv.slice(2);
  code = run(
    process.execPath,
    [
      '--test',
      '--test-reporter=spec',
      ...(files.length ? files : ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts']),
    ],
    env,
  );
} catch (error) {
  log(`FAILED: ${error.message}`);
  code = 1;
} finally {
  for (const stop of started.reverse()) await stop().catch((error) => log(error.message));
}
process.exit(code);
