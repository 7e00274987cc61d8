// Servers the chaos run and the outage tests start for themselves: a redis-server on a free
// port (never the machine's 6379) that can be stopped and started again on the same port
// and data dir, and a single-node Kafka broker through scripts/kafka.mjs on a port of its
// own, restartable with its data (KAFKA_KEEP_DATA=1) so its topics survive a restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when a Redis answers PING on `port`. */
export function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
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

/** A redis-server of our own; stop() and start() keep its port and its data dir. */
export class OwnRedis {
  readonly port: number;
  readonly dir: string;
  readonly appendOnly: boolean;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string, appendOnly: boolean) {
    this.port = port;
    this.dir = dir;
    this.appendOnly = appendOnly;
  }

  /** Starts one on a free port; `appendOnly` turns on AOF persistence (so a restart keeps data). */
  static async start(options: { appendOnly?: boolean } = {}): Promise<OwnRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'yadtq-redis-'));
    const server = new OwnRedis(await freePort(), dir, options.appendOnly ?? false);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id (to SIGSTOP it, say). @throws Error when it is not running */
  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined || !this.running) throw new Error('redis-server is not running');
    return pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null;
  }

  /** Starts the server (again) and waits until it answers PING (AOF loaded). */
  async start(timeoutMs = 15_000): Promise<void> {
    if (this.running) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir];
    args.push('--save', '', '--appendonly', this.appendOnly ? 'yes' : 'no');
    args.push('--appendfsync', 'always');
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.#child = child;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) =>
        reject(new Error(`cannot run redis-server (${error.message}); install it`)),
      );
      child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}`)));
    });
    failed.catch(() => {});
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await Promise.race([sleep(100), failed]);
      if (await redisAnswers(this.port)) return;
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server on port ${this.port} did not answer within ${timeoutMs} ms`);
  }

  /** SIGTERM (Redis shuts down cleanly, flushing its AOF) and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

/** A Kafka broker managed by scripts/kafka.mjs on its own port. */
export class OwnKafka {
  readonly port: number;

  constructor(port: number) {
    this.port = port;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Whether scripts/kafka.mjs has a broker serving on this port. */
  async running(): Promise<boolean> {
    return (await this.#script('status', false)).code === 0;
  }

  /**
   * Starts the broker (reusing one already running on this port); `keepData` keeps the
   * topics and committed offsets of the last run. Resolves with the bootstrap address.
   */
  async start(keepData: boolean): Promise<string> {
    const result = await this.#script('start', keepData);
    if (result.code !== 0)
      throw new Error(`scripts/kafka.mjs start failed (exit ${result.code}):\n${result.stderr}`);
    return this.brokers;
  }

  /** Stops the broker (SIGTERM: a controlled shutdown). */
  async stop(): Promise<void> {
    const result = await this.#script('stop', true);
    if (result.code !== 0)
      throw new Error(`scripts/kafka.mjs stop failed (exit ${result.code}):\n${result.stderr}`);
  }

  #script(
    command: 'start' | 'stop' | 'status',
    keepData: boolean,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_PORT: String(this.port) };
    if (keepData) env.KAFKA_KEEP_DATA = '1';
    else delete env.KAFKA_KEEP_DATA;
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'scripts', 'kafka.mjs'), command], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }
}
