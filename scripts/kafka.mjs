#!/usr/bin/env node
// Local Apache Kafka (KRaft) for development and tests: one combined broker+controller, or a
// cluster of N such nodes on one machine (`--brokers N`: N brokers, N controller voters).
// No Docker: the broker jars are resolved once from Maven Central with `mvn` (scripts/kafka/pom.xml)
// and run with the local `java` (17+).
//
//   node scripts/kafka.mjs start [--brokers N]   start (or reuse) the broker(s); prints the
//                                                bootstrap addresses, comma-separated, on stdout
//   node scripts/kafka.mjs stop [--brokers N] [--node I]
//                                                stop them (or node I only; SIGTERM, SIGKILL
//                                                after 20 s); exits 0 if nothing was running
//   node scripts/kafka.mjs status [--brokers N]  one line per node (running, pid, address);
//                                                exit 0 if every node is serving, else 1
//
// With --brokers N (N > 1) node I (1..N) serves on KAFKA_PORT+I-1 and its controller on
// KAFKA_PORT+1000+I-1 (or a free port when that one is taken), and the internal topics get
// replication factor min(N, 3) and min.insync.replicas min(N, 2). `start` on a cluster
// with some nodes still running starts only the missing ones, with their data: that is how
// a killed broker is brought back (it needs KAFKA_KEEP_DATA=1, see below).
//
// Environment:
//   KAFKA_PORT              port of the (first) broker (default 9092)
//   KAFKA_VERSION           org.apache.kafka:kafka_2.13 version (default 4.2.0)
//   YADTQ_CACHE_DIR         cache root (default ~/.cache/yadtq); jars in <cache>/kafka-<version>/libs
//   YADTQ_KAFKA_DIR         state dir (default <cache>/broker-<port>, or <cache>/cluster-<port>x<N>
//                           with one node-<I>/ per node): server.properties, data/, broker.log,
//                           broker.pid (and cluster.json: the cluster id and controller ports)
//   KAFKA_KEEP_DATA=1       keep data/ across starts (default: fresh, empty brokers on every
//                           start); required to restart one node of a running cluster
//   KAFKA_START_TIMEOUT_MS  how long to wait for the broker(s) to serve (default 90000)
//   KAFKA_JVM_OPTS          replaces the default JVM options (heap, GC)
//   JAVA_HOME               java to use (default: `java` on PATH)
// All progress goes to stderr; stdout carries only the bootstrap addresses (start) or the status lines.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, stripVTControlCharacters } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const VERSION = env.KAFKA_VERSION || '4.2.0';
const PORT = Number(env.KAFKA_PORT || 9092);
const HOST = '127.0.0.1';
const CACHE = env.YADTQ_CACHE_DIR || path.join(os.homedir(), '.cache', 'yadtq');
const LIBS = path.join(CACHE, `kafka-${VERSION}`, 'libs');
const MARKER = path.join(LIBS, '.complete');
const TIMEOUT = Number(env.KAFKA_START_TIMEOUT_MS || 90000);
const JAVA = env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : 'java';
const CP = `${LIBS}${path.sep}*`;
const STARTED = /Kafka Server started|Transition from STARTING to STARTED/;
const KEEP = env.KAFKA_KEEP_DATA === '1';

const log = (msg) => process.stderr.write(`[kafka] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fail = (msg) => {
  log(`error: ${msg}`);
  process.exit(1);
};
const usage = () => {
  log('usage: node scripts/kafka.mjs start|stop|status [--brokers N] [--node I]');
  process.exit(2);
};
const read = (f) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { brokers: { type: 'string' }, node: { type: 'string' } },
  });
} catch (error) {
  log(error.message);
  usage();
}
const COUNT = Number(parsed.values.brokers ?? 1);
if (!Number.isInteger(COUNT) || COUNT < 1 || COUNT > 9) {
  log(`--brokers must be a whole number from 1 to 9, got ${parsed.values.brokers}`);
  usage();
}
const ONLY = parsed.values.node === undefined ? undefined : Number(parsed.values.node);
if (ONLY !== undefined && !(Number.isInteger(ONLY) && ONLY >= 1 && ONLY <= COUNT)) {
  log(`--node must be a whole number from 1 to ${COUNT}, got ${parsed.values.node}`);
  usage();
}
if (!Number.isInteger(PORT) || PORT < 1 || PORT + COUNT - 1 > 65535) fail(`bad KAFKA_PORT ${PORT}`);

const CLUSTER = COUNT > 1;
const ROOT_DIR =
  env.YADTQ_KAFKA_DIR || path.join(CACHE, CLUSTER ? `cluster-${PORT}x${COUNT}` : `broker-${PORT}`);
const CLUSTER_FILE = path.join(ROOT_DIR, 'cluster.json');

/** One node: a combined broker+controller with its own state dir (the whole ROOT_DIR when alone). */
function nodeOf(id) {
  const dir = CLUSTER ? path.join(ROOT_DIR, `node-${id}`) : ROOT_DIR;
  return {
    id,
    port: PORT + id - 1,
    dir,
    props: path.join(dir, 'server.properties'),
    data: path.join(dir, 'data'),
    log: path.join(dir, 'broker.log'),
    pidfile: path.join(dir, 'broker.pid'),
  };
}
const NODES = Array.from({ length: COUNT }, (_, i) => nodeOf(i + 1));
const bootstrap = () => NODES.map((n) => `${HOST}:${n.port}`).join(',');

function kill(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {} // already gone
}

function readPid(node) {
  const pid = Number.parseInt(read(node.pidfile).trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

// Alive, not a zombie, and (where /proc exists) really this node's broker JVM.
function isOurBroker(node, pid) {
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
function livePid(node) {
  const pid = readPid(node);
  if (pid && isOurBroker(node, pid)) return pid;
  if (pid) fs.rmSync(node.pidfile, { force: true });
  return null;
}

function portAnswers(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port, timeout: 1000 });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

// Resolves to the port actually bound (0 = let the OS choose), or null if it is taken.
function tryBind(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ host: HOST, port, exclusive: true }, () => {
      const bound = srv.address().port;
      srv.close(() => resolve(bound));
    });
  });
}

function tail(file, n = 40) {
  return read(file)
    .split('\n')
    .slice(-n - 1)
    .join('\n');
}

function ensureLibs() {
  if (fs.existsSync(MARKER)) return;
  const pom = path.join(HERE, 'kafka', 'pom.xml');
  log(`resolving org.apache.kafka:kafka_2.13:${VERSION} with Maven into ${LIBS}`);
  log('the first run downloads ~45 MB of jars (~65 MB into an empty ~/.m2); please wait...');
  fs.rmSync(LIBS, { recursive: true, force: true });
  fs.mkdirSync(LIBS, { recursive: true });
  const t0 = Date.now();
  const args = ['-q', '-B', '-f', pom, 'dependency:copy-dependencies'];
  args.push(`-DoutputDirectory=${LIBS}`, `-Dkafka.version=${VERSION}`);
  const r = spawnSync('mvn', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  // Maven 3.8 -q still prints bare colour resets; strip them and show only real messages.
  const out = stripVTControlCharacters(`${r.stdout ?? ''}${r.stderr ?? ''}`).trim();
  if (out) process.stderr.write(`${out}\n`);
  if (r.error) fail(`cannot run mvn (${r.error.message}); install Maven 3 and Java 17+`);
  if (r.status !== 0) fail(`mvn failed (exit ${r.status}); see the output above`);
  const jars = fs.readdirSync(LIBS);
  if (!jars.some((f) => f.startsWith('kafka_2.13-'))) fail('mvn produced no kafka_2.13 jar');
  fs.writeFileSync(MARKER, `${VERSION}\n`);
  log(`jars ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function java(args, what) {
  const r = spawnSync(JAVA, args, { encoding: 'utf8' });
  if (r.error) fail(`cannot run ${JAVA} (${r.error.message}); install Java 17+`);
  if (r.status !== 0) fail(`${what} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

function newClusterId() {
  // Same form as Kafka's Uuid.randomUuid(): 16 random bytes, base64url, no padding, no leading '-'.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The cluster id a node's data was formatted with, or null when it has no data. */
function formattedId(node) {
  const match = /^cluster\.id=(.+)$/m.exec(read(path.join(node.data, 'meta.properties')));
  return match ? match[1].trim() : null;
}

function writeProps(node, cports) {
  const replicas = Math.min(COUNT, 3);
  const minIsr = Math.min(COUNT, 2);
  const voters = NODES.map((n) => `${n.id}@${HOST}:${cports[n.id - 1]}`).join(',');
  const cport = cports[node.id - 1];
  const p = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': voters,
    listeners: `PLAINTEXT://${HOST}:${node.port},CONTROLLER://${HOST}:${cport}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${node.port}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': node.data,
    'num.partitions': 4,
    'auto.create.topics.enable': false,
    'offsets.topic.replication.factor': replicas,
    'offsets.topic.num.partitions': 5,
    'transaction.state.log.replication.factor': replicas,
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': 5,
    'share.coordinator.state.topic.replication.factor': replicas,
    'share.coordinator.state.topic.min.isr': minIsr,
    'group.initial.rebalance.delay.ms': 0,
    // classic protocol: clients may ask for short sessions (>= 1 s)
    'group.min.session.timeout.ms': 1000,
    // KIP-848 consumer protocol: the broker decides session/heartbeat
    'group.consumer.min.session.timeout.ms': 1000,
    'group.consumer.session.timeout.ms': 6000,
    'group.consumer.min.heartbeat.interval.ms': 500,
    'group.consumer.heartbeat.interval.ms': 1000,
    'log.retention.hours': 1,
    'log.retention.bytes': 64 * 1024 * 1024,
    'log.segment.bytes': 16 * 1024 * 1024,
    'log.retention.check.interval.ms': 60000,
  };
  if (CLUSTER) {
    Object.assign(p, {
      // A killed broker is fenced (its partitions led elsewhere) after this, not Kafka's 9 s.
      'broker.session.timeout.ms': 6000,
      'broker.heartbeat.interval.ms': 1000,
      // Three JVMs share the machine: fewer threads each than Kafka's defaults.
      'num.network.threads': 2,
      'num.io.threads': 4,
      'num.replica.fetchers': 1,
      'background.threads': 4,
    });
  }
  const body = Object.entries(p).map(([k, v]) => `${k}=${v}`);
  fs.writeFileSync(node.props, `# written by scripts/kafka.mjs\n${body.join('\n')}\n`);
}

async function waitReady(nodes, children = new Map()) {
  const exited = new Map();
  for (const [id, child] of children) {
    child.once('exit', (code, sig) => exited.set(id, sig || `exit code ${code}`));
  }
  const deadline = Date.now() + TIMEOUT;
  let waiting = [...nodes];
  while (Date.now() < deadline) {
    const still = [];
    for (const node of waiting) {
      const pid = readPid(node);
      if (exited.has(node.id) || !pid || !isOurBroker(node, pid)) {
        log(`last lines of ${node.log}:\n${tail(node.log)}`);
        const why = exited.has(node.id) ? ` (${exited.get(node.id)})` : '';
        stopAll(nodes, 'SIGKILL');
        fail(`broker ${node.id} (pid ${pid}) died during startup${why}`);
      }
      if (!(STARTED.test(read(node.log)) && (await portAnswers(node.port)))) still.push(node);
    }
    waiting = still;
    if (waiting.length === 0) return;
    await sleep(250);
  }
  for (const node of waiting) log(`last lines of ${node.log}:\n${tail(node.log)}`);
  stopAll(nodes, 'SIGKILL');
  fail(
    `broker(s) ${waiting.map((n) => n.id).join(', ')} did not start within ${TIMEOUT} ms (killed); see the logs above`,
  );
}

function stopAll(nodes, sig) {
  for (const node of nodes) {
    const pid = readPid(node);
    if (pid && isOurBroker(node, pid)) kill(pid, sig);
    if (sig === 'SIGKILL') fs.rmSync(node.pidfile, { force: true });
  }
}

/** Controller ports: from cluster.json while it is known, else KAFKA_PORT+1000+i or free ones. */
async function controllerPorts(known) {
  if (known) return known;
  const ports = [];
  for (const node of NODES) {
    const wanted = node.port + 1000;
    let port = wanted <= 65535 && !ports.includes(wanted) ? await tryBind(wanted) : null;
    while (!port || ports.includes(port)) port = await tryBind(0);
    ports.push(port);
  }
  return ports;
}

function readCluster() {
  try {
    const c = JSON.parse(read(CLUSTER_FILE));
    if (typeof c.clusterId === 'string' && Array.isArray(c.controllerPorts)) return c;
  } catch {}
  return null;
}

async function spawnNode(node, cport) {
  // C1 only (TieredStopAtLevel=1): on 2 shared cores it starts as fast and served a 100k-message
  // produce/consume benchmark faster, with less than half the CPU, than with C2. A cluster's
  // nodes get smaller heaps: three of them share the machine.
  const heap = CLUSTER ? '-Xms96m -Xmx384m' : '-Xms128m -Xmx512m';
  const jvmOpts = env.KAFKA_JVM_OPTS || `${heap} -XX:+UseSerialGC -XX:TieredStopAtLevel=1`;
  const jvm = jvmOpts.split(/\s+/).filter(Boolean);
  const args = [
    ...jvm,
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${path.join(HERE, 'kafka', 'log4j2.xml')}`,
    `-Dkafka.logs.dir=${node.dir}`,
    '-cp',
    CP,
    'kafka.Kafka',
    node.props,
  ];
  const out = fs.openSync(node.log, 'w');
  const child = spawn(JAVA, args, { cwd: node.dir, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const spawnErr = await new Promise((r) => {
    child.once('error', r);
    child.once('spawn', () => r(null));
  });
  if (spawnErr) fail(`cannot run ${JAVA} (${spawnErr.message}); install Java 17+`);
  child.unref();
  fs.writeFileSync(node.pidfile, `${child.pid}\n`);
  log(
    `starting broker ${node.id} pid ${child.pid} on ${HOST}:${node.port} (controller ${cport}); log: ${node.log}`,
  );
  return child;
}

async function start() {
  if (ONLY !== undefined) usage();
  const running = NODES.filter((n) => livePid(n) !== null);
  const missing = NODES.filter((n) => !running.includes(n));
  if (missing.length === 0) {
    log(`${CLUSTER ? `all ${COUNT} brokers` : 'broker'} already running (state ${ROOT_DIR})`);
    await waitReady(NODES);
    process.stdout.write(`${bootstrap()}\n`);
    return;
  }
  const cluster = CLUSTER ? readCluster() : null;
  // Part of the cluster is up: the missing nodes rejoin it, with their data and ports.
  const rejoin = running.length > 0;
  if (rejoin && (!cluster || !KEEP)) {
    fail(
      `brokers ${running.map((n) => n.id).join(', ')} of this cluster are running: set KAFKA_KEEP_DATA=1 to restart ${missing.map((n) => n.id).join(', ')} with their data (a wiped node would rejoin the quorum without its log), or stop the cluster first`,
    );
  }
  const keep = KEEP && missing.every((n) => formattedId(n) !== null);
  for (const node of missing) {
    if ((await tryBind(node.port)) === null) {
      fail(
        `port ${node.port} on ${HOST} is used by another process (not our broker); set KAFKA_PORT`,
      );
    }
  }
  fs.mkdirSync(ROOT_DIR, { recursive: true });
  ensureLibs();
  const cports = await controllerPorts(rejoin || keep ? cluster?.controllerPorts : undefined);
  if (!rejoin) {
    for (const [i, port] of cports.entries()) {
      if (cluster?.controllerPorts && (await tryBind(port)) === null) {
        fail(
          `controller port ${port} of broker ${i + 1} is taken; stop what uses it or start without KAFKA_KEEP_DATA`,
        );
      }
    }
  }
  const id =
    (keep || rejoin ? (cluster?.clusterId ?? formattedId(missing[0])) : null) ?? newClusterId();
  if (CLUSTER)
    fs.writeFileSync(
      CLUSTER_FILE,
      `${JSON.stringify({ clusterId: id, controllerPorts: cports })}\n`,
    );
  for (const node of missing) {
    fs.mkdirSync(node.dir, { recursive: true });
    writeProps(node, cports);
    if (keep && formattedId(node) === id) continue;
    fs.rmSync(node.data, { recursive: true, force: true });
    log(`formatting ${node.data} (cluster id ${id})`);
    java(['-cp', CP, 'kafka.tools.StorageTool', 'format', '-t', id, '-c', node.props], 'format');
  }
  const t0 = Date.now();
  const children = new Map();
  for (const node of missing) children.set(node.id, await spawnNode(node, cports[node.id - 1]));
  await waitReady(missing, children);
  const what = missing.length === 1 ? `broker ${missing[0].id}` : `${missing.length} brokers`;
  log(`${what} started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.stdout.write(`${bootstrap()}\n`);
}

async function stop() {
  const nodes = ONLY === undefined ? NODES : [nodeOf(ONLY)];
  const live = nodes.filter((n) => livePid(n) !== null);
  if (live.length === 0) {
    log(
      `no broker running for port${nodes.length > 1 ? 's' : ''} ${nodes.map((n) => n.port).join(',')}`,
    );
    return;
  }
  for (const node of live) log(`stopping broker ${node.id} pid ${readPid(node)}`);
  stopAll(live, 'SIGTERM');
  const deadline = Date.now() + 20000;
  const alive = () => live.filter((n) => livePid(n) !== null);
  while (Date.now() < deadline && alive().length > 0) await sleep(200);
  if (alive().length > 0) {
    log('broker(s) did not exit within 20 s; sending SIGKILL');
    for (const node of alive()) {
      const pid = readPid(node);
      kill(pid, 'SIGKILL');
      while (isOurBroker(node, pid)) await sleep(100);
    }
  }
  for (const node of live) fs.rmSync(node.pidfile, { force: true });
  log('stopped');
}

async function status() {
  if (ONLY !== undefined) usage();
  let serving = 0;
  for (const node of NODES) {
    const pid = livePid(node);
    const up = pid !== null && (await portAnswers(node.port));
    if (up) serving++;
    const state = up
      ? `running (pid ${pid}) at ${HOST}:${node.port}`
      : pid
        ? `starting (pid ${pid}), not serving yet (port ${node.port})`
        : `not running (port ${node.port})`;
    process.stdout.write(`${CLUSTER ? `broker ${node.id} ` : ''}${state}\n`);
  }
  if (serving < COUNT) process.exitCode = 1;
}

const cmd = parsed.positionals[0];
const cmds = { start, stop, status };
if (!cmds[cmd] || parsed.positionals.length > 1) usage();
await cmds[cmd]();
process.exit(process.exitCode ?? 0);
