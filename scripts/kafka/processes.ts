// The broker processes and ports of a local Kafka: pid files, "is this pid really our
// broker", signals, and TCP probes.
import fs from 'node:fs';
import net from 'node:net';
import { HOST, type KafkaNode } from './settings.ts';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The file's text, or '' when it cannot be read. */
export function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The last `n` lines of a file. */
export function tail(file: string, n = 40): string {
  return read(file)
    .split('\n')
    .slice(-n - 1)
    .join('\n');
}

export function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {} // already gone
}

/** The pid in the node's pid file, or null. */
export function readPid(node: KafkaNode): number | null {
  const pid = Number.parseInt(read(node.pidfile).trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Alive, not a zombie, and (where /proc exists) really this node's broker JVM. */
export function isOurBroker(node: KafkaNode, pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!fs.existsSync('/proc/self')) return true;
  const stat = read(`/proc/${pid}/stat`);
  if (!stat || / Z /.test(stat.slice(stat.lastIndexOf(')')))) return false;
  const cmd = read(`/proc/${pid}/cmdline`).split('\0');
  return cmd.includes('kafka.Kafka') && cmd.includes(node.props);
}

/** The node's live broker pid, or null (a stale pid file is removed). */
export function livePid(node: KafkaNode): number | null {
  const pid = readPid(node);
  if (pid && isOurBroker(node, pid)) return pid;
  if (pid) fs.rmSync(node.pidfile, { force: true });
  return null;
}

/** Sends `signal` to each node's broker; SIGKILL also removes the pid files. */
export function signalAll(nodes: KafkaNode[], signal: NodeJS.Signals): void {
  for (const node of nodes) {
    const pid = readPid(node);
    if (pid && isOurBroker(node, pid)) kill(pid, signal);
    if (signal === 'SIGKILL') fs.rmSync(node.pidfile, { force: true });
  }
}

/** True when something accepts a TCP connection on `port` within 1 s. */
export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port, timeout: 1000 });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

/** Resolves to the port actually bound (0 = let the OS choose), or null if it is taken. */
export function tryBind(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ host: HOST, port, exclusive: true }, () => {
      const address = srv.address();
      const bound = typeof address === 'object' && address !== null ? address.port : null;
      srv.close(() => resolve(bound));
    });
  });
}
