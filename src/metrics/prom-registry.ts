import { readOverview } from '../core/stats.ts';
import {
  type FamilyName,
  FLEET_FAMILIES,
  HEALTH_FAMILIES,
  type MetricFamily,
  overviewFamilies,
} from './families.ts';

/**
 * One yadtq family as a prom-client metric: what a `Registry` calls on the metrics it
 * holds (`get` at each scrape, `reset`, and the name, help, type and aggregator).
 */
export interface CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricFamily['type'];
  readonly aggregator: 'sum';
  get(): Promise<{
    name: string;
    help: string;
    type: MetricFamily['type'];
    aggregator: 'sum';
    values: { metricName?: string; labels: Record<string, string | number>; value: number }[];
  }>;
  reset(): void;
}

/**
 * The part of a prom-client `Registry` yadtq uses (prom-client itself is not imported).
 * Its types take only prom-client's own metric classes, while the registry needs no more
 * of a metric than {@link CollectedMetric}: hence `never`, which any registry satisfies.
 */
export interface MetricRegistry {
  registerMetric(metric: never): void;
}

/** Where the fleet's metrics are read from: a backend has all three. */
export type FleetSource = Parameters<typeof readOverview>[0];

/**
 * Registers yadtq's fleet metrics (the names `/metrics` serves) in a prom-client
 * `Registry` the service already has. Nothing is kept in the process: each scrape reads
 * the stats, the workers and the lag from the backend (Redis and Kafka) once for all the
 * families. When they cannot be read the families are empty for that scrape, so the
 * service's own metrics are still exported.
 * @throws Error from prom-client when one of the names is already registered.
 */
export function registerFleetMetrics(registry: MetricRegistry, source: FleetSource): void {
  registerFamilies(registry, Object.keys(FLEET_FAMILIES) as FamilyName[], async () =>
    overviewFamilies(await readOverview(source)),
  );
}

/** The names of the families a worker's `/metrics` serves: the fleet's and its probes. */
export const WORKER_FAMILY_NAMES = [
  ...Object.keys(FLEET_FAMILIES),
  ...Object.keys(HEALTH_FAMILIES),
] as FamilyName[];

/**
 * Registers `names` in `registry`, each read from one shared `read()` per scrape (a
 * registry asks all its metrics at once; they share the read in flight).
 */
export function registerFamilies(
  registry: MetricRegistry,
  names: readonly FamilyName[],
  read: () => Promise<MetricFamily[]>,
): void {
  let scrape: Promise<Map<string, MetricFamily>> | undefined;
  const current = (): Promise<Map<string, MetricFamily>> => {
    if (scrape === undefined) {
      scrape = read().then(
        (families) => new Map(families.map((f) => [f.name, f])),
        () => new Map(),
      );
      scrape.finally(() => {
        scrape = undefined;
      });
    }
    return scrape;
  };
  const all: Record<string, { help: string; type: MetricFamily['type'] }> = {
    ...FLEET_FAMILIES,
    ...HEALTH_FAMILIES,
  };
  for (const name of names) {
    const { help, type } = all[name]!;
    const metric: CollectedMetric = {
      name,
      help,
      type,
      aggregator: 'sum',
      async get() {
        const family = (await current()).get(name);
        return { name, help, type, aggregator: 'sum', values: family?.samples ?? [] };
      },
      reset() {},
    };
    registry.registerMetric(metric as never);
  }
}
