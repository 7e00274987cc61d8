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
// The work is done in scripts/kafka/ (settings, processes, storage, commands), which
// scripts/services/kafka.ts also calls in-process.
import { parseArgs } from 'node:util';
import { start, status, statusLine, stop } from './kafka/commands.ts';
import { KafkaScriptError, kafkaSettings } from './kafka/settings.ts';

const log = (msg) => process.stderr.write(`[kafka] ${msg}\n`);
const usage = () => {
  log('usage: node scripts/kafka.mjs start|stop|status [--brokers N] [--node I]');
  process.exit(2);
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
const cmd = parsed.positionals[0];
if (!['start', 'stop', 'status'].includes(cmd) || parsed.positionals.length > 1) usage();
try {
  const settings = kafkaSettings(process.env, Number(parsed.values.brokers ?? 1));
  const only = parsed.values.node === undefined ? undefined : Number(parsed.values.node);
  if (only !== undefined && !(Number.isInteger(only) && only >= 1 && only <= settings.count)) {
    throw new KafkaScriptError(
      `--node must be a whole number from 1 to ${settings.count}, got ${parsed.values.node}`,
      2,
    );
  }
  if (only !== undefined && cmd !== 'stop') usage();
  if (cmd === 'start') process.stdout.write(`${await start(settings, log)}\n`);
  else if (cmd === 'stop') await stop(settings, log, only);
  else {
    const nodes = await status(settings);
    for (const node of nodes) process.stdout.write(`${statusLine(settings, node)}\n`);
    if (nodes.some((n) => !n.serving)) process.exitCode = 1;
  }
} catch (error) {
  if (!(error instanceof KafkaScriptError)) throw error;
  if (error.exitCode === 2) {
    log(error.message);
    usage();
  }
  log(`error: ${error.message}`);
  process.exit(error.exitCode);
}
process.exit(process.exitCode ?? 0);
