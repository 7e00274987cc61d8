// The whole test suite, as `npm test` runs it:
//   1. formatter + linter (Biome), type check (tsc), build (dist/ for the CLI tests);
//   2. a Kafka broker via scripts/kafka.mjs, unless YADTQ_KAFKA_BROKERS names one;
//   3. Redis on 127.0.0.1:6379 when it answers, else a redis-server of our own on a free port
//      (unless YADTQ_REDIS_URL names one);
//   4. node --test over test/unit and test/integration, with both addresses in the environment;
//   5. stops whatever it started.
// If Kafka or Redis cannot be had, it fails with a clear message: integration tests are never skipped.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = [];
const log = (msg) => process.stderr.write(`[test] ${msg}\n`);

function run(cmd, args, env = process.env) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  return result.status ?? 1;
}

function ping(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function startRedis() {
  if (process.env.YADTQ_REDIS_URL) return process.env.YADTQ_REDIS_URL;
  if (await ping(6379)) {
    log('using the Redis on 127.0.0.1:6379 (tests use unique key prefixes)');
    return 'redis://127.0.0.1:6379';
  }
  const port = await freePort();
  log(`no Redis on 127.0.0.1:6379: starting redis-server on port ${port}`);
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  child.on('error', (error) => {
    log(
      `cannot start redis-server (${error.message}); install it (apt-get install redis-server) or set YADTQ_REDIS_URL`,
    );
    process.exit(1);
  });
  started.push(() => child.kill('SIGTERM'));
  for (let i = 0; i < 100; i++) {
    if (await ping(port)) return `redis://127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
}

function startKafka() {
  if (process.env.YADTQ_KAFKA_BROKERS) return process.env.YADTQ_KAFKA_BROKERS;
  const port = process.env.YADTQ_TEST_KAFKA_PORT ?? '19092';
  const env = { ...process.env, KAFKA_PORT: port };
  log(`starting a Kafka broker on port ${port} (node scripts/kafka.mjs start)`);
  const result = spawnSync(process.execPath, ['scripts/kafka.mjs', 'start'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0)
    throw new Error(
      'the Kafka broker could not be started (see above); the integration tests need it',
    );
  started.push(() =>
    spawnSync(process.execPath, ['scripts/kafka.mjs', 'stop'], {
      cwd: root,
      env,
      stdio: 'inherit',
    }),
  );
  return String(result.stdout).trim().split('\n').pop();
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
  const brokers = startKafka();
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
  for (const stop of started.reverse()) stop();
}
process.exit(code);
