// The package as a user gets it: `npm pack`, the tarball installed into a fresh project in
// a temporary folder, then used from strict TypeScript, plain JavaScript and `npx yadtq`.
// TypeScript is this repository's (no download); the install prefers npm's cache.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const PACKAGE = readJson(join(ROOT, 'package.json'));
const TYPES_NODE = readJson(join(ROOT, 'node_modules', '@types', 'node', 'package.json')).version;

/** The public surface: an export added or removed must be a decision, so it fails here. */
const EXPORTS: Record<string, string[]> = {
  yadtq: [
    'DEAD_LETTER_REASONS',
    'DEFAULTS',
    'DLQ_HEADERS',
    'ENV_VARS',
    'KafkaBroker',
    'KafkaLag',
    'MemoryBroker',
    'MemoryStats',
    'MemoryStore',
    'Monitor',
    'NonRetryableError',
    'OUTCOMES',
    'RedisStats',
    'RedisStores',
    'STATS_LIMITS',
    'TaskClient',
    'TaskWorker',
    'WorkerMetrics',
    'YadtqError',
    'createKafkaRedisBackend',
    'createMemoryBackend',
    'decide',
    'decodeEnvelope',
    'defineTask',
    'encodeEnvelope',
    'isYadtqError',
    'listDeadLetters',
    'memoryStores',
    'parseSince',
    'readOverview',
    'registerFleetMetrics',
    'replayDeadLetters',
    'resolveConfig',
  ],
  'yadtq/demo': ['add', 'demoTasks', 'div', 'mul', 'sub'],
  'yadtq/drivers': [],
};

/** Compiler options of a strict user project; `skipLibCheck` is set per run. */
const STRICT = {
  target: 'ES2023',
  lib: ['ES2023'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  types: ['node'],
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  noEmit: true,
};

const WRONG_ARGS = `import { createMemoryBackend, defineTask, TaskClient } from 'yadtq';

const add = defineTask('add', ([a, b]: [number, number]) => a + b);
const backend = createMemoryBackend();
const client = new TaskClient({ broker: backend.broker, store: backend.store });
await client.submit(add, [1, 'two']); // refused
`;

const WRONG_RESULT = `import { createMemoryBackend, defineTask, TaskClient } from 'yadtq';

const add = defineTask('add', ([a, b]: [number, number]) => a + b);
const backend = createMemoryBackend();
const client = new TaskClient({ broker: backend.broker, store: backend.store });
const handle = await client.submit(add, [1, 2]);
const text: string = await client.result(handle); // refused
console.log(text);
`;

// The escape hatch: the drivers' own option types, passed where yadtq's own are asked for.
const DRIVERS = `import { KafkaBroker, RedisStores } from 'yadtq';
import type {
  KafkaBrokerDriverOptions,
  RedisDriverClient,
  RedisDriverOptions,
  RedisStoreDriverOptions,
} from 'yadtq/drivers';

declare const connection: RedisDriverClient;
const kafka: KafkaBrokerDriverOptions = {
  brokers: ['localhost:9092'],
  sasl: { mechanism: 'OAUTHBEARER', token: async () => 'token', authBytesValidator: (bytes, done) => done(null, bytes) },
};
const redis: RedisDriverOptions = { db: 2, retryStrategy: (times) => Math.min(times * 100, 2000) };
const given: RedisStoreDriverOptions = { client: connection, prefix: 'app:' };
export const made = [new KafkaBroker(kafka), new RedisStores({ redis }), new RedisStores(given)];
`;

const PLAIN_JS = `import { createMemoryBackend, TaskClient, TaskWorker, YadtqError } from 'yadtq';
import { add, div } from 'yadtq/demo';

const backend = createMemoryBackend();
const worker = new TaskWorker({ ...backend, id: 'js1', tasks: [add, div] });
await worker.start();
const client = new TaskClient(backend);
const sum = await client.run(add, [20, 22, 0]);
const failed = await client.run(div, [1, 0, 0]).catch((error) => error);
console.log(JSON.stringify({ sum, failed: failed instanceof YadtqError ? failed.code : String(failed) }));
await worker.stop();
await backend.close();
`;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of the user's shell: none of this run's YADTQ_* or npm lifecycle variables. */
const USER_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !/^(YADTQ_|npm_package_|npm_lifecycle_|npm_config_local_prefix$)/.test(key),
  ),
);

function run(command: string, args: string[], cwd: string, timeout = 120_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: USER_ENV, timeout, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function ok(ran: Ran, what: string): Ran {
  assert.equal(ran.code, 0, `${what} failed:\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

/** The README's library example: the ```ts block after its marker comment. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const found = /<!-- packed-install-test: readme-example\.ts -->\n```ts\n([\s\S]*?)```/.exec(
    readme,
  );
  assert.ok(found?.[1], 'README.md has no library example after its packed-install-test marker');
  return found[1];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

/** `file(line,col): error TSxxxx: message` lines of a tsc run, for one file. */
function errorsIn(output: string, file: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith(`${file}(`))
    .map((line) => line.replace(/^[^(]+\((\d+),\d+\): /, 'line $1: '));
}

const lineOf = (source: string, marker: string) =>
  source.split('\n').findIndex((line) => line.includes(marker)) + 1;

describe('the package as a user installs it (npm pack, a fresh project)', () => {
  let dir = '';
  let app = '';
  let tarball: string[] = [];

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'yadtq-packed-'));
      // dist/ is built by scripts/test.mjs; packing must not rebuild it behind our back.
      const packed = ok(
        await run(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT),
        'npm pack',
      );
      const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
      tarball = info.files.map((file) => file.path).sort();
      app = join(dir, 'app');
      mkdirSync(app);
      const manifest = { name: 'yadtq-user', version: '1.0.0', private: true, type: 'module' };
      writeFileSync(join(app, 'package.json'), JSON.stringify(manifest));
      ok(
        await run(
          NPM,
          [
            'install',
            '--prefer-offline',
            '--no-audit',
            '--no-fund',
            join(dir, info.filename),
            `@types/node@${TYPES_NODE}`,
          ],
          app,
        ),
        'npm install of the tarball',
      );
      const files: Record<string, string> = {
        'readme-example.ts': readmeExample(),
        'wrong-args.ts': WRONG_ARGS,
        'wrong-result.ts': WRONG_RESULT,
        'drivers.ts': DRIVERS,
        'plain.mjs': PLAIN_JS,
      };
      for (const [name, text] of Object.entries(files)) writeFileSync(join(app, name), text);
      const user = ['readme-example.ts', 'wrong-args.ts', 'wrong-result.ts'];
      const tsconfig = (skipLibCheck: boolean, include: string[]) =>
        JSON.stringify({ compilerOptions: { ...STRICT, skipLibCheck }, files: include });
      writeFileSync(join(app, 'tsconfig.strict.json'), tsconfig(false, user));
      writeFileSync(join(app, 'tsconfig.skiplib.json'), tsconfig(true, [...user, 'drivers.ts']));
    },
    { timeout: 180_000 },
  );

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('files: the tarball holds the built code, the Lua scripts, the dashboard assets and the schema, and no tests, fixtures, bench or chaos files', () => {
    assert.deepEqual(PACKAGE.files, ['bin', 'dist', 'schema', 'src']);
    const top = new Set(['package.json', 'README.md', 'LICENSE']);
    for (const path of tarball) {
      assert.ok(
        top.has(path) || PACKAGE.files.includes(path.split('/')[0]),
        `${path} is outside "files"`,
      );
      assert.doesNotMatch(
        path,
        /(^|\/)(test|tests|fixtures|bench|chaos|examples|scripts|node_modules|\.ci)\/|\.test\.|tsconfig|biome\.json/,
      );
    }
    const missing = (paths: string[]) => paths.filter((path) => !tarball.includes(path));
    assert.deepEqual(missing(['package.json', 'README.md', 'bin/yadtq.js']), []);
    const lua = filesUnder(join(ROOT, 'src', 'redis', 'lua'));
    const assets = filesUnder(join(ROOT, 'src', 'dashboard', 'static'));
    assert.ok(lua.length >= 10 && assets.length >= 4, 'the source folders were read');
    assert.deepEqual(missing(lua.map((file) => `dist/redis/lua/${file}`)), []);
    assert.deepEqual(missing(assets.map((file) => `dist/dashboard/static/${file}`)), []);
    const modules = filesUnder(join(ROOT, 'src')).filter((file) => file.endsWith('.ts'));
    const built = modules.flatMap((file) => [
      `dist/${file.replace(/\.ts$/, '.js')}`,
      `dist/${file.replace(/\.ts$/, '.d.ts')}`,
    ]);
    assert.deepEqual(missing(built), [], 'every module is built, with its declarations');
  });

  test('exports: each entry point is in the tarball and loads from the installed package; deep imports are refused', async () => {
    assert.deepEqual(Object.keys(PACKAGE.exports), [
      '.',
      './demo',
      './drivers',
      './task-envelope.schema.json',
      './package.json',
    ]);
    const targets = Object.values(PACKAGE.exports).flatMap((target) =>
      typeof target === 'string' ? [target] : Object.values(target as Record<string, string>),
    );
    for (const target of targets) {
      assert.ok(tarball.includes(target.replace(/^\.\//, '')), `${target} is not in the tarball`);
    }
    const probe = `
      const names = {};
      for (const entry of ${JSON.stringify(Object.keys(EXPORTS))})
        names[entry] = Object.keys(await import(entry)).sort();
      const schema = (await import('yadtq/task-envelope.schema.json', { with: { type: 'json' } })).default;
      const { version } = (await import('yadtq/package.json', { with: { type: 'json' } })).default;
      const deep = await import('yadtq/dist/core/client.js').then(() => 'loaded', (e) => e.code);
      console.log(JSON.stringify({ names, schemaId: schema.$id, version, deep }));`;
    const ran = ok(await run(process.execPath, ['--input-type=module', '-e', probe], app), 'probe');
    const seen = JSON.parse(ran.stdout);
    assert.deepEqual(seen.names, EXPORTS);
    assert.equal(seen.schemaId, 'urn:yadtq:schema:task-envelope:1');
    assert.equal(seen.version, PACKAGE.version);
    assert.equal(seen.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  test('strict TypeScript, skipLibCheck false: the README example compiles with no driver types read; wrong args and a wrong result type are refused', async () => {
    const ran = await run(
      process.execPath,
      [TSC, '-p', 'tsconfig.strict.json', '--listFiles', '--pretty', 'false'],
      app,
    );
    const out = ran.stdout + ran.stderr;
    assert.equal(ran.code, 2, `tsc should fail on the two wrong files only:\n${out}`);
    assert.deepEqual(errorsIn(out, 'readme-example.ts'), []);
    assert.deepEqual(errorsIn(out, 'wrong-args.ts'), [
      `line ${lineOf(WRONG_ARGS, 'refused')}: error TS2322: Type 'string' is not assignable to type 'number'.`,
    ]);
    assert.deepEqual(errorsIn(out, 'wrong-result.ts'), [
      `line ${lineOf(WRONG_RESULT, 'refused')}: error TS2322: Type 'number' is not assignable to type 'string'.`,
    ]);
    assert.equal(out.match(/error TS/g)?.length, 2, out);
    const read = out.split('\n').filter((line) => line.includes('/node_modules/'));
    assert.ok(
      read.some((line) => line.endsWith('/node_modules/yadtq/dist/index.d.ts')),
      'the types came from the installed package',
    );
    assert.deepEqual(
      read.filter((line) => /\/node_modules\/(@platformatic|ioredis|debug)\//.test(line)),
      [],
      'no driver declarations are part of a user build',
    );
  });

  test('strict TypeScript, skipLibCheck true: the same, and yadtq/drivers takes the drivers’ own option types', async () => {
    const ran = await run(
      process.execPath,
      [TSC, '-p', 'tsconfig.skiplib.json', '--pretty', 'false'],
      app,
    );
    const out = ran.stdout + ran.stderr;
    assert.deepEqual(errorsIn(out, 'readme-example.ts'), []);
    assert.deepEqual(errorsIn(out, 'drivers.ts'), []);
    assert.deepEqual(
      [...errorsIn(out, 'wrong-args.ts'), ...errorsIn(out, 'wrong-result.ts')].map((line) =>
        line.replace(/^line \d+: /, ''),
      ),
      [
        "error TS2322: Type 'string' is not assignable to type 'number'.",
        "error TS2322: Type 'number' is not assignable to type 'string'.",
      ],
    );
    assert.equal(out.match(/error TS/g)?.length, 2, out);
  });

  test('the README example runs under Node and prints its results', async () => {
    const ran = ok(await run(process.execPath, ['readme-example.ts'], app), 'readme-example.ts');
    assert.equal(ran.stdout, '3 5 success\n');
  });

  test('plain JavaScript (ESM) runs tasks from yadtq/demo and sees a failure as a YadtqError', async () => {
    const ran = ok(await run(process.execPath, ['plain.mjs'], app), 'plain.mjs');
    assert.deepEqual(JSON.parse(ran.stdout), { sum: 42, failed: 'TASK_FAILED' });
  });

  test('npx yadtq demo runs in the fresh project', async () => {
    const ran = ok(await run(NPX, ['--no-install', 'yadtq', 'demo'], app), 'npx yadtq demo');
    assert.match(ran.stdout, /yadtq demo on the embedded backend/);
    assert.match(ran.stdout, /division by zero/);
    assert.match(ran.stdout, /answered from the cache/);
  });
});
