// What a broker needs on disk before it starts: the Kafka jars (resolved once with Maven
// from scripts/kafka/pom.xml), a cluster id, formatted data dirs and the controller ports a
// cluster keeps across restarts (cluster.json).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { read, tryBind } from './processes.ts';
import { type KafkaNode, KafkaScriptError, type KafkaSettings } from './settings.ts';

const POM = path.join(import.meta.dirname, 'pom.xml');

type Log = (message: string) => void;

/** Runs a command to its end; resolves with its exit status and output (never throws). */
function run(
  cmd: string,
  args: string[],
): Promise<{ status: number | null; out: string; err: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.once('error', (error) => resolve({ status: null, out, err, error }));
    child.once('close', (status) => resolve({ status, out, err }));
  });
}

/** Resolves org.apache.kafka:kafka_2.13 and its dependencies into `libs`, once. */
export async function ensureLibs(s: KafkaSettings, log: Log): Promise<void> {
  if (fs.existsSync(s.marker)) return;
  log(`resolving org.apache.kafka:kafka_2.13:${s.version} with Maven into ${s.libs}`);
  log('the first run downloads ~45 MB of jars (~65 MB into an empty ~/.m2); please wait...');
  fs.rmSync(s.libs, { recursive: true, force: true });
  fs.mkdirSync(s.libs, { recursive: true });
  const t0 = Date.now();
  const args = ['-q', '-B', '-f', POM, 'dependency:copy-dependencies'];
  args.push(`-DoutputDirectory=${s.libs}`, `-Dkafka.version=${s.version}`);
  const r = await run('mvn', args);
  // Maven 3.8 -q still prints bare colour resets; strip them and show only real messages.
  const out = stripVTControlCharacters(`${r.out}${r.err}`).trim();
  if (out) log(out);
  if (r.error) {
    throw new KafkaScriptError(`cannot run mvn (${r.error.message}); install Maven 3 and Java 17+`);
  }
  if (r.status !== 0)
    throw new KafkaScriptError(`mvn failed (exit ${r.status}); see the output above`);
  const jars = fs.readdirSync(s.libs);
  if (!jars.some((f) => f.startsWith('kafka_2.13-'))) {
    throw new KafkaScriptError('mvn produced no kafka_2.13 jar');
  }
  fs.writeFileSync(s.marker, `${s.version}\n`);
  log(`jars ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Formats the node's data dir for cluster `id` (kafka.tools.StorageTool). */
export async function formatStorage(s: KafkaSettings, node: KafkaNode, id: string): Promise<void> {
  const args = ['-cp', s.classpath, 'kafka.tools.StorageTool', 'format'];
  args.push('-t', id, '-c', node.props);
  const r = await run(s.java, args);
  if (r.error) {
    throw new KafkaScriptError(`cannot run ${s.java} (${r.error.message}); install Java 17+`);
  }
  if (r.status !== 0) {
    throw new KafkaScriptError(`format failed (exit ${r.status}):\n${r.out}${r.err}`);
  }
}

/** A new cluster id, of the form of Kafka's Uuid.randomUuid(). */
export function newClusterId(): string {
  // 16 random bytes, base64url, no padding, no leading '-'.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The cluster id a node's data was formatted with, or null when it has no data. */
export function formattedId(node: KafkaNode): string | null {
  const match = /^cluster\.id=(.+)$/m.exec(read(path.join(node.data, 'meta.properties')));
  return match?.[1] ? match[1].trim() : null;
}

/** What cluster.json keeps across restarts of a cluster. */
export interface ClusterFile {
  clusterId: string;
  controllerPorts: number[];
}

export function readCluster(s: KafkaSettings): ClusterFile | null {
  try {
    const c = JSON.parse(read(s.clusterFile));
    if (typeof c.clusterId === 'string' && Array.isArray(c.controllerPorts)) return c;
  } catch {}
  return null;
}

export function writeCluster(s: KafkaSettings, cluster: ClusterFile): void {
  fs.writeFileSync(s.clusterFile, `${JSON.stringify(cluster)}\n`);
}

/** Controller ports: `known` when given, else broker port + 1000 or free ones. */
export async function controllerPorts(
  s: KafkaSettings,
  known: number[] | undefined,
): Promise<number[]> {
  if (known) return known;
  const ports: number[] = [];
  for (const node of s.nodes) {
    const wanted = node.port + 1000;
    let port = wanted <= 65535 && !ports.includes(wanted) ? await tryBind(wanted) : null;
    while (!port || ports.includes(port)) port = await tryBind(0);
    ports.push(port);
  }
  return ports;
}
