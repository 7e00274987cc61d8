#!/usr/bin/env node
// Local single-node Apache Kafka (KRaft, combined broker+controller) for development and tests.
// No Docker: the broker jars are resolved once from Maven Central with `mvn` (scripts/kafka/pom.xml)
// and run with the local `java` (17+).
//
//   node scripts/kafka.mjs start    start (or reuse) a broker; prints `127.0.0.1:<port>` on stdout
//   node scripts/kafka.mjs stop     stop it (SIGTERM, SIGKILL after 20 s); exits 0 if it was not running
//   node scripts/kafka.mjs status   prints running/not running; exit 0 if running, else 1
//
// Environment:
//   KAFKA_PORT              broker port (default 9092); the controller gets a separate free port
//   KAFKA_VERSION           org.apache.kafka:kafka_2.13 version (default 4.2.0)
//   YADTQ_CACHE_DIR         cache root (default ~/.cache/yadtq); jars in <cache>/kafka-<version>/libs
//   YADTQ_KAFKA_DIR         broker state dir (default <cache>/broker-<port>): server.properties,
//                           data/, broker.log, broker.pid
//   KAFKA_KEEP_DATA=1       keep data/ across starts (default: a fresh, empty broker on every start)
//   KAFKA_START_TIMEOUT_MS  how long to wait for the broker to serve (default 90000)
//   KAFKA_JVM_OPTS          replaces the default JVM options (heap, GC)
//   JAVA_HOME               java to use (default: `java` on PATH)
// All progress goes to stderr; stdout carries only the bootstrap address (start) or the status line.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const VERSION = env.KAFKA_VERSION || '4.2.0';
const PORT = Number(env.KAFKA_PORT || 9092);
const HOST = '127.0.0.1';
const CACHE = env.YADTQ_CACHE_DIR || path.join(os.homedir(), '.cache', 'yadtq');
const LIBS = path.join(CACHE, `kafka-${VERSION}`, 'libs');
const MARKER = path.join(LIBS, '.complete');
const STATE = env.YADTQ_KAFKA_DIR || path.join(CACHE, `broker-${PORT}`);
const PROPS = path.join(STATE, 'server.properties');
const DATA = path.join(STATE, 'data');
const LOG = path.join(STATE, 'broker.log');
const PIDFILE = path.join(STATE, 'broker.pid');
const TIMEOUT = Number(env.KAFKA_START_TIMEOUT_MS || 90000);
const JAVA = env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : 'java';
const CP = `${LIBS}${path.sep}*`;
const STARTED = /Kafka Server started|Transition from STARTING to STARTED/;

const log = (msg) => process.stderr.write(`[kafka] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fail = (msg) => {
  log(`error: ${msg}`);
  process.exit(1);
};
const read = (f) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

function kill(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {} // already gone
}

function readPid() {
  const pid = Number.parseInt(read(PIDFILE).trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

// Alive, not a zombie, and (where /proc exists) really our broker JVM.
function isOurBroker(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!fs.existsSync('/proc/self')) return true;
  const stat = read(`/proc/${pid}/stat`);
  if (!stat || / Z /.test(stat.slice(stat.lastIndexOf(')')))) return false;
  const cmd = read(`/proc/${pid}/cmdline`).split('\0');
  return cmd.includes('kafka.Kafka') && cmd.includes(PROPS);
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

function clusterId() {
  // Same form as Kafka's Uuid.randomUuid(): 16 random bytes, base64url, no padding, no leading '-'.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function writeProps(cport) {
  const p = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${HOST}:${cport}`,
    listeners: `PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${cport}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${PORT}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': DATA,
    'num.partitions': 4,
    'auto.create.topics.enable': false,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 5,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 5,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
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
  const body = Object.entries(p).map(([k, v]) => `${k}=${v}`);
  fs.writeFileSync(PROPS, `# written by scripts/kafka.mjs\n${body.join('\n')}\n`);
}

async function waitReady(pid, child) {
  let exited = null;
  child?.once('exit', (code, sig) => {
    exited = sig || `exit code ${code}`;
  });
  const deadline = Date.now() + TIMEOUT;
  while (Date.now() < deadline) {
    if (exited || !isOurBroker(pid)) {
      log(`last lines of ${LOG}:\n${tail(LOG)}`);
      fail(`broker process ${pid} died during startup${exited ? ` (${exited})` : ''}`);
    }
    if (STARTED.test(read(LOG)) && (await portAnswers(PORT))) return;
    await sleep(250);
  }
  log(`last lines of ${LOG}:\n${tail(LOG)}`);
  kill(pid, 'SIGKILL');
  fs.rmSync(PIDFILE, { force: true });
  fail(`broker did not start within ${TIMEOUT} ms (killed pid ${pid}); see ${LOG}`);
}

async function start() {
  const old = readPid();
  if (old && isOurBroker(old)) {
    log(`broker already running (pid ${old}, state ${STATE})`);
    await waitReady(old, null);
    process.stdout.write(`${HOST}:${PORT}\n`);
    return;
  }
  if (old) fs.rmSync(PIDFILE, { force: true });
  if ((await tryBind(PORT)) === null) {
    fail(`port ${PORT} on ${HOST} is used by another process (not our broker); set KAFKA_PORT`);
  }

  fs.mkdirSync(STATE, { recursive: true });
  ensureLibs();
  const cport = (PORT + 1000 <= 65535 && (await tryBind(PORT + 1000))) || (await tryBind(0));
  if (!cport) fail('cannot find a free port for the controller');
  writeProps(cport);

  const keep = env.KAFKA_KEEP_DATA === '1' && fs.existsSync(path.join(DATA, 'meta.properties'));
  if (!keep) {
    fs.rmSync(DATA, { recursive: true, force: true });
    const id = clusterId();
    log(`formatting ${DATA} (cluster id ${id})`);
    java(['-cp', CP, 'kafka.tools.StorageTool', 'format', '-t', id, '-c', PROPS], 'format');
  }

  // C1 only (TieredStopAtLevel=1): on 2 shared cores it starts as fast and served a 100k-message
  // produce/consume benchmark faster, with less than half the CPU, than with C2.
  const jvmOpts =
    env.KAFKA_JVM_OPTS || '-Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1';
  const jvm = jvmOpts.split(/\s+/).filter(Boolean);
  const args = [
    ...jvm,
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${path.join(HERE, 'kafka', 'log4j2.xml')}`,
    `-Dkafka.logs.dir=${STATE}`,
    '-cp',
    CP,
    'kafka.Kafka',
    PROPS,
  ];
  const out = fs.openSync(LOG, 'w');
  const t0 = Date.now();
  const child = spawn(JAVA, args, { cwd: STATE, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const spawnErr = await new Promise((r) => {
    child.once('error', r);
    child.once('spawn', () => r(null));
  });
  if (spawnErr) fail(`cannot run ${JAVA} (${spawnErr.message}); install Java 17+`);
  child.unref();
  fs.writeFileSync(PIDFILE, `${child.pid}\n`);
  log(`starting broker pid ${child.pid} on ${HOST}:${PORT} (controller ${cport}); log: ${LOG}`);
  await waitReady(child.pid, child);
  log(`broker started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.stdout.write(`${HOST}:${PORT}\n`);
}

async function stop() {
  const pid = readPid();
  if (!pid || !isOurBroker(pid)) {
    fs.rmSync(PIDFILE, { force: true });
    log(`no broker running for port ${PORT}`);
    return;
  }
  log(`stopping broker pid ${pid}`);
  kill(pid, 'SIGTERM');
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline && isOurBroker(pid)) await sleep(200);
  if (isOurBroker(pid)) {
    log('broker did not exit within 20 s; sending SIGKILL');
    kill(pid, 'SIGKILL');
    while (isOurBroker(pid)) await sleep(100);
  }
  fs.rmSync(PIDFILE, { force: true });
  log('stopped');
}

async function status() {
  const pid = readPid();
  if (pid && isOurBroker(pid) && (await portAnswers(PORT))) {
    process.stdout.write(`running (pid ${pid}) at ${HOST}:${PORT}\n`);
    return;
  }
  const state = pid && isOurBroker(pid) ? `starting (pid ${pid}), not serving yet` : 'not running';
  process.stdout.write(`${state} (port ${PORT})\n`);
  process.exitCode = 1;
}

const cmd = process.argv[2];
const cmds = { start, stop, status };
if (!cmds[cmd]) {
  log('usage: node scripts/kafka.mjs start|stop|status');
  process.exit(2);
}
await cmds[cmd]();
process.exit(process.exitCode ?? 0);
