// A redis-server of our own for the tests, the bench and the chaos run: on a chosen or a
// free port (never the machine's 6379 unless asked), without persistence by default, with a
// bounded wait for its first PING and a clear error when it cannot start. stop() and
// start() keep its port and its data dir, so a test can restart it (with AOF, with data).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

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

/** True when a Redis answers PING on `port` within 1 s. */
export function redisAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
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

/** What {@link LocalRedis.start} takes. */
export interface LocalRedisOptions {
  /** Port to serve on. Default: a free one. */
  port?: number;
  /** AOF persistence (fsync always), so a restart keeps the data. Default false. */
  appendOnly?: boolean;
  /** How long to wait for the first PING answer, in ms. Default 15 000. */
  timeoutMs?: number;
}

/** A redis-server of our own; stop() and start() keep its port and its data dir. */
export class LocalRedis {
  readonly port: number;
  readonly dir: string;
  readonly appendOnly: boolean;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string, appendOnly: boolean) {
    this.port = port;
    this.dir = dir;
    this.appendOnly = appendOnly;
  }

  /**
   * Starts one and waits until it answers PING.
   * @throws Error naming the port when redis-server is missing, exits, or does not answer in time
   */
  static async start(options: LocalRedisOptions = {}): Promise<LocalRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'yadtq-redis-'));
    const port = options.port ?? (await freePort());
    const server = new LocalRedis(port, dir, options.appendOnly ?? false);
    await server.start(options.timeoutMs);
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
        reject(
          new Error(
            `cannot run redis-server (${error.message}); install it (apt-get install redis-server)`,
          ),
        ),
      );
      child.once('exit', (code) =>
        reject(new Error(`redis-server on port ${this.port} exited with code ${code}`)),
      );
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
