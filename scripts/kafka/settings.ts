// Where a local Kafka broker (or cluster) lives and how it is configured: read once from the
// environment (the variables scripts/kafka.mjs documents) and the broker count.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The host every broker binds to and advertises. */
export const HOST = '127.0.0.1';

/** Raised for anything that stops a start/stop/status; `exitCode` 2 is a usage error. */
export class KafkaScriptError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'KafkaScriptError';
    this.exitCode = exitCode;
  }
}

/** One node: a combined broker+controller with its own state dir (the whole root when alone). */
export interface KafkaNode {
  /** 1-based node id (also its KRaft node.id). */
  id: number;
  port: number;
  dir: string;
  props: string;
  data: string;
  log: string;
  pidfile: string;
}

/** Everything start/stop/status need to know, resolved once. */
export interface KafkaSettings {
  version: string;
  /** Port of the (first) broker. */
  port: number;
  /** Nodes in the cluster (1 = a single broker). */
  count: number;
  cluster: boolean;
  cache: string;
  libs: string;
  /** Written into `libs` once Maven has copied every jar. */
  marker: string;
  timeoutMs: number;
  java: string;
  classpath: string;
  /** KAFKA_KEEP_DATA=1: keep data/ across starts. */
  keepData: boolean;
  /** KAFKA_JVM_OPTS, or undefined for the script's defaults. */
  jvmOpts: string | undefined;
  rootDir: string;
  clusterFile: string;
  nodes: KafkaNode[];
  /** The bootstrap addresses, comma-separated. */
  bootstrap: string;
}

/**
 * The settings for `count` brokers from `env` (KAFKA_PORT, KAFKA_VERSION, YADTQ_CACHE_DIR,
 * YADTQ_KAFKA_DIR, KAFKA_KEEP_DATA, KAFKA_START_TIMEOUT_MS, KAFKA_JVM_OPTS, JAVA_HOME).
 * @throws KafkaScriptError on a bad count (exit code 2) or port.
 */
export function kafkaSettings(env: NodeJS.ProcessEnv = process.env, count = 1): KafkaSettings {
  if (!Number.isInteger(count) || count < 1 || count > 9) {
    throw new KafkaScriptError(`--brokers must be a whole number from 1 to 9, got ${count}`, 2);
  }
  const port = Number(env.KAFKA_PORT || 9092);
  if (!Number.isInteger(port) || port < 1 || port + count - 1 > 65535) {
    throw new KafkaScriptError(`bad KAFKA_PORT ${env.KAFKA_PORT}`);
  }
  const version = env.KAFKA_VERSION || '4.2.0';
  const cache = env.YADTQ_CACHE_DIR || path.join(os.homedir(), '.cache', 'yadtq');
  const libs = path.join(cache, `kafka-${version}`, 'libs');
  const cluster = count > 1;
  const rootDir =
    env.YADTQ_KAFKA_DIR ||
    path.join(cache, cluster ? `cluster-${port}x${count}` : `broker-${port}`);
  const nodes = Array.from({ length: count }, (_, i) => nodeOf(rootDir, port, cluster, i + 1));
  return {
    version,
    port,
    count,
    cluster,
    cache,
    libs,
    marker: path.join(libs, '.complete'),
    timeoutMs: Number(env.KAFKA_START_TIMEOUT_MS || 90000),
    java: env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : 'java',
    classpath: `${libs}${path.sep}*`,
    keepData: env.KAFKA_KEEP_DATA === '1',
    jvmOpts: env.KAFKA_JVM_OPTS || undefined,
    rootDir,
    clusterFile: path.join(rootDir, 'cluster.json'),
    nodes,
    bootstrap: nodes.map((n) => `${HOST}:${n.port}`).join(','),
  };
}

function nodeOf(rootDir: string, port: number, cluster: boolean, id: number): KafkaNode {
  const dir = cluster ? path.join(rootDir, `node-${id}`) : rootDir;
  return {
    id,
    port: port + id - 1,
    dir,
    props: path.join(dir, 'server.properties'),
    data: path.join(dir, 'data'),
    log: path.join(dir, 'broker.log'),
    pidfile: path.join(dir, 'broker.pid'),
  };
}

/** Writes the node's server.properties; `controllerPorts[i]` is node i+1's controller port. */
export function writeProps(s: KafkaSettings, node: KafkaNode, controllerPorts: number[]): void {
  const replicas = Math.min(s.count, 3);
  const minIsr = Math.min(s.count, 2);
  const voters = s.nodes.map((n) => `${n.id}@${HOST}:${controllerPorts[n.id - 1]}`).join(',');
  const cport = controllerPorts[node.id - 1];
  const p: Record<string, string | number | boolean> = {
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
  if (s.cluster) {
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

/**
 * The JVM options of a broker: KAFKA_JVM_OPTS when set, else C1 only
 * (TieredStopAtLevel=1) with the serial GC: on 2 shared cores it starts as fast and served
 * a 100k-message produce/consume benchmark faster, with less than half the CPU, than with
 * C2. A cluster's nodes get smaller heaps: three of them share the machine.
 */
export function jvmOptions(s: KafkaSettings): string[] {
  const heap = s.cluster ? '-Xms96m -Xmx384m' : '-Xms128m -Xmx512m';
  const opts = s.jvmOpts ?? `${heap} -XX:+UseSerialGC -XX:TieredStopAtLevel=1`;
  return opts.split(/\s+/).filter(Boolean);
}
