// start, stop and status of a local Kafka broker or cluster (the commands of
// scripts/kafka.mjs, also called in-process by scripts/services/kafka.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  isOurBroker,
  kill,
  livePid,
  portAnswers,
  read,
  readPid,
  signalAll,
  sleep,
  tail,
  tryBind,
} from './processes.ts';
import {
  HOST,
  jvmOptions,
  type KafkaNode,
  KafkaScriptError,
  type KafkaSettings,
  writeProps,
} from './settings.ts';
import {
  controllerPorts,
  ensureLibs,
  formatStorage,
  formattedId,
  newClusterId,
  readCluster,
  writeCluster,
} from './storage.ts';

const LOG4J = path.join(import.meta.dirname, 'log4j2.xml');
const STARTED = /Kafka Server started|Transition from STARTING to STARTED/;

/** Progress lines (the CLI writes them to stderr as `[kafka] …`). */
export type Log = (message: string) => void;

/**
 * Starts (or reuses) the brokers; on a cluster with some nodes running only the missing
 * ones, with their data (needs keepData). Resolves with the bootstrap addresses.
 * @throws KafkaScriptError when a broker cannot start (its log's last lines are logged).
 */
export async function start(s: KafkaSettings, log: Log): Promise<string> {
  const running = s.nodes.filter((n) => livePid(n) !== null);
  const missing = s.nodes.filter((n) => !running.includes(n));
  if (missing.length === 0) {
    log(`${s.cluster ? `all ${s.count} brokers` : 'broker'} already running (state ${s.rootDir})`);
    await waitReady(s, s.nodes, new Map(), log);
    return s.bootstrap;
  }
  const cluster = s.cluster ? readCluster(s) : null;
  // Part of the cluster is up: the missing nodes rejoin it, with their data and ports.
  const rejoin = running.length > 0;
  if (rejoin && (!cluster || !s.keepData)) {
    throw new KafkaScriptError(
      `brokers ${running.map((n) => n.id).join(', ')} of this cluster are running: set KAFKA_KEEP_DATA=1 to restart ${missing.map((n) => n.id).join(', ')} with their data (a wiped node would rejoin the quorum without its log), or stop the cluster first`,
    );
  }
  const keep = s.keepData && missing.every((n) => formattedId(n) !== null);
  for (const node of missing) {
    if ((await tryBind(node.port)) === null) {
      throw new KafkaScriptError(
        `port ${node.port} on ${HOST} is used by another process (not our broker); set KAFKA_PORT`,
      );
    }
  }
  fs.mkdirSync(s.rootDir, { recursive: true });
  await ensureLibs(s, log);
  const cports = await controllerPorts(s, rejoin || keep ? cluster?.controllerPorts : undefined);
  if (!rejoin) {
    for (const [i, port] of cports.entries()) {
      if (cluster?.controllerPorts && (await tryBind(port)) === null) {
        throw new KafkaScriptError(
          `controller port ${port} of broker ${i + 1} is taken; stop what uses it or start without KAFKA_KEEP_DATA`,
        );
      }
    }
  }
  const id =
    (keep || rejoin ? (cluster?.clusterId ?? formattedId(missing[0]!)) : null) ?? newClusterId();
  if (s.cluster) writeCluster(s, { clusterId: id, controllerPorts: cports });
  for (const node of missing) {
    fs.mkdirSync(node.dir, { recursive: true });
    writeProps(s, node, cports);
    if (keep && formattedId(node) === id) continue;
    fs.rmSync(node.data, { recursive: true, force: true });
    log(`formatting ${node.data} (cluster id ${id})`);
    await formatStorage(s, node, id);
  }
  const t0 = Date.now();
  const children = new Map<number, ChildProcess>();
  for (const node of missing)
    children.set(node.id, await spawnNode(s, node, cports[node.id - 1]!, log));
  await waitReady(s, missing, children, log);
  const what = missing.length === 1 ? `broker ${missing[0]!.id}` : `${missing.length} brokers`;
  log(`${what} started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return s.bootstrap;
}

/** Stops the brokers (or node `only`): SIGTERM, SIGKILL after 20 s. Nothing running is fine. */
export async function stop(s: KafkaSettings, log: Log, only?: number): Promise<void> {
  const nodes = only === undefined ? s.nodes : s.nodes.filter((n) => n.id === only);
  const live = nodes.filter((n) => livePid(n) !== null);
  if (live.length === 0) {
    log(
      `no broker running for port${nodes.length > 1 ? 's' : ''} ${nodes.map((n) => n.port).join(',')}`,
    );
    return;
  }
  for (const node of live) log(`stopping broker ${node.id} pid ${readPid(node)}`);
  signalAll(live, 'SIGTERM');
  const deadline = Date.now() + 20000;
  const alive = () => live.filter((n) => livePid(n) !== null);
  while (Date.now() < deadline && alive().length > 0) await sleep(200);
  if (alive().length > 0) {
    log('broker(s) did not exit within 20 s; sending SIGKILL');
    for (const node of alive()) {
      const pid = readPid(node)!;
      kill(pid, 'SIGKILL');
      while (isOurBroker(node, pid)) await sleep(100);
    }
  }
  for (const node of live) fs.rmSync(node.pidfile, { force: true });
  log('stopped');
}

/** One node's state as `status` reports it. */
export interface NodeStatus {
  node: KafkaNode;
  pid: number | null;
  serving: boolean;
}

/** Each node: its live pid and whether its port answers. */
export async function status(s: KafkaSettings): Promise<NodeStatus[]> {
  const out: NodeStatus[] = [];
  for (const node of s.nodes) {
    const pid = livePid(node);
    out.push({ node, pid, serving: pid !== null && (await portAnswers(node.port)) });
  }
  return out;
}

/** The line `status` prints for a node. */
export function statusLine(s: KafkaSettings, { node, pid, serving }: NodeStatus): string {
  const state = serving
    ? `running (pid ${pid}) at ${HOST}:${node.port}`
    : pid
      ? `starting (pid ${pid}), not serving yet (port ${node.port})`
      : `not running (port ${node.port})`;
  return `${s.cluster ? `broker ${node.id} ` : ''}${state}`;
}

async function spawnNode(
  s: KafkaSettings,
  node: KafkaNode,
  cport: number,
  log: Log,
): Promise<ChildProcess> {
  const args = [
    ...jvmOptions(s),
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${LOG4J}`,
    `-Dkafka.logs.dir=${node.dir}`,
    '-cp',
    s.classpath,
    'kafka.Kafka',
    node.props,
  ];
  const out = fs.openSync(node.log, 'w');
  const child = spawn(s.java, args, { cwd: node.dir, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const spawnErr = await new Promise<Error | null>((r) => {
    child.once('error', r);
    child.once('spawn', () => r(null));
  });
  if (spawnErr) {
    throw new KafkaScriptError(`cannot run ${s.java} (${spawnErr.message}); install Java 17+`);
  }
  child.unref();
  fs.writeFileSync(node.pidfile, `${child.pid}\n`);
  log(
    `starting broker ${node.id} pid ${child.pid} on ${HOST}:${node.port} (controller ${cport}); log: ${node.log}`,
  );
  return child;
}

/** Waits until every node logged its start and answers; kills them all on failure or timeout. */
async function waitReady(
  s: KafkaSettings,
  nodes: KafkaNode[],
  children: Map<number, ChildProcess>,
  log: Log,
): Promise<void> {
  const exited = new Map<number, string>();
  for (const [id, child] of children) {
    child.once('exit', (code, sig) => exited.set(id, sig || `exit code ${code}`));
  }
  const deadline = Date.now() + s.timeoutMs;
  let waiting = [...nodes];
  while (Date.now() < deadline) {
    const still: KafkaNode[] = [];
    for (const node of waiting) {
      const pid = readPid(node);
      if (exited.has(node.id) || !pid || !isOurBroker(node, pid)) {
        log(`last lines of ${node.log}:\n${tail(node.log)}`);
        const why = exited.has(node.id) ? ` (${exited.get(node.id)})` : '';
        signalAll(nodes, 'SIGKILL');
        throw new KafkaScriptError(`broker ${node.id} (pid ${pid}) died during startup${why}`);
      }
      if (!(STARTED.test(read(node.log)) && (await portAnswers(node.port)))) still.push(node);
    }
    waiting = still;
    if (waiting.length === 0) return;
    await sleep(250);
  }
  for (const node of waiting) log(`last lines of ${node.log}:\n${tail(node.log)}`);
  signalAll(nodes, 'SIGKILL');
  throw new KafkaScriptError(
    `broker(s) ${waiting.map((n) => n.id).join(', ')} did not start within ${s.timeoutMs} ms (killed); see the logs above`,
  );
}
