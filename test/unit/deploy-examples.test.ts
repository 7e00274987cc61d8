// Checks what can be checked here of examples/deploy: the YAML parses, and the flags,
// environment variables, probe paths and metric names it uses are the code's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { workerCommand } from '../../src/cli/commands/worker.ts';
import { CONNECTION_FLAGS } from '../../src/cli/connection-flags.ts';
import { DEFAULTS, ENV_VARS } from '../../src/index.ts';
import { FLEET_FAMILIES } from '../../src/metrics/families.ts';

const DIR = join(import.meta.dirname, '..', '..', 'examples', 'deploy');
const read = (file: string) => readFileSync(join(DIR, file), 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: parsed manifests are walked by known paths
type Doc = Record<string, any>;
const yamlDocs = (file: string): Doc[] =>
  parseAllDocuments(read(file)).map((doc) => {
    assert.deepEqual(doc.errors, [], `${file} parses`);
    return doc.toJS() as Doc;
  });

const FLAGS = new Set(Object.keys({ ...CONNECTION_FLAGS, ...workerCommand.flags }));
/** Variables the CLI reads besides the connection ones. */
const CLI_ENV = new Set(['YADTQ_METRICS_TOKEN', 'YADTQ_LOG_FORMAT', 'YADTQ_LOG_LEVEL']);
const KNOWN_ENV = new Set([...Object.values(ENV_VARS), ...CLI_ENV]);

function checkWorkerArgs(args: string[], where: string): void {
  assert.equal(args[0], 'worker', where);
  for (const arg of args.filter((a) => a.startsWith('--')))
    assert.ok(FLAGS.has(arg.slice(2)), `${where}: ${arg} is a flag of yadtq worker`);
}

test('the Kubernetes Deployment: worker flags, env names, probes on the metrics port', () => {
  const [secret, deployment] = yamlDocs('worker-deployment.yaml');
  assert.equal(secret!.kind, 'Secret');
  assert.equal(deployment!.kind, 'Deployment');
  const container = deployment!.spec.template.spec.containers[0];
  checkWorkerArgs(container.args, 'worker-deployment.yaml');
  const listen = container.args[container.args.indexOf('--metrics-port') + 1];
  assert.equal(listen, '0.0.0.0:9464');
  for (const { name } of container.env.filter((e: Doc) => e.name.startsWith('YADTQ_')))
    assert.ok(KNOWN_ENV.has(name), `${name} is read by yadtq`);
  // Off loopback the worker refuses to serve /metrics without a token.
  assert.ok(container.env.some((e: Doc) => e.name === 'YADTQ_METRICS_TOKEN'));
  assert.equal(container.livenessProbe.httpGet.path, '/healthz');
  assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  assert.equal(container.ports[0].containerPort, 9464);
  assert.ok(
    deployment!.spec.template.spec.terminationGracePeriodSeconds * 1000 > DEFAULTS.shutdownGraceMs,
  );
  const topic = container.env.find((e: Doc) => e.name === 'YADTQ_TOPIC').value;
  assert.equal(topic, DEFAULTS.topic);
});

test("the KEDA ScaledObject queries yadtq's exported lag with its labels", () => {
  const [scaled] = yamlDocs('keda-scaledobject.yaml');
  assert.equal(scaled!.kind, 'ScaledObject');
  assert.equal(scaled!.spec.scaleTargetRef.name, 'yadtq-worker');
  const [trigger] = scaled!.spec.triggers;
  assert.equal(trigger.type, 'prometheus');
  const query: string = trigger.metadata.query;
  const metric = /(yadtq_\w+)\{/.exec(query)?.[1];
  assert.ok(metric !== undefined && metric in FLEET_FAMILIES, `${metric} is exported`);
  assert.match(query, new RegExp(`topic="${DEFAULTS.topic}"`));
  assert.match(query, new RegExp(`group="${DEFAULTS.groupId}"`));
  yamlDocs('prometheus-scrape.yaml');
});

test('the systemd unit runs yadtq worker with its flags', () => {
  const unit = read('yadtq-worker@.service');
  const exec = /^ExecStart=.*?yadtq (worker .*)$/m.exec(unit)?.[1];
  assert.ok(exec, 'an ExecStart running yadtq worker');
  checkWorkerArgs(exec.split(/\s+/), 'yadtq-worker@.service');
  for (const name of unit.match(/YADTQ_[A-Z_]+/g) ?? [])
    assert.ok(KNOWN_ENV.has(name), `${name} is read by yadtq`);
  assert.match(unit, /^KillSignal=SIGTERM$/m);
});
