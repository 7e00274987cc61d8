import type { LagSnapshot, Overview, StatsRecorder, TaskOutcomeEvent } from '../core/stats.ts';
import type { WorkerInfo, WorkerRegistry } from '../core/store.ts';
import { MemoryStats } from '../memory/memory-stats.ts';
import { healthFamilies, type MetricFamily, overviewFamilies } from './families.ts';
import { type MetricRegistry, registerFamilies, WORKER_FAMILY_NAMES } from './prom-registry.ts';
import { renderFamilies } from './prometheus.ts';

/** What a worker's metrics are read from. */
export interface WorkerMetricsSource {
  worker: { info(): WorkerInfo; health?(): { ready: boolean; storeReachable: boolean } };
  registry: Pick<WorkerRegistry, 'list'>;
  lag: () => Promise<LagSnapshot>;
}

/**
 * One worker's own metrics, for `yadtq worker --metrics-port`: outcomes it finished
 * (kept in this process, bounded like every stats store), its published heartbeat and
 * the lag of the partitions it owns, so that summing over workers never double counts.
 */
export class WorkerMetrics {
  readonly #local = new MemoryStats();
  readonly #shared: StatsRecorder;

  constructor(shared: StatsRecorder) {
    this.#shared = shared;
  }

  /** The recorder to give the worker: the shared stats and this process's own. */
  get recorder(): StatsRecorder {
    return {
      record: async (event: TaskOutcomeEvent) => {
        await Promise.all([this.#local.record(event), this.#shared.record(event)]);
      },
      recordMany: async (events: readonly TaskOutcomeEvent[]) => {
        const shared = this.#shared;
        await Promise.all([
          this.#local.recordMany(events),
          shared.recordMany !== undefined
            ? shared.recordMany(events)
            : Promise.all(events.map((e) => shared.record(e))),
        ]);
      },
    };
  }

  /** The exposition of `worker` now. */
  async render(source: WorkerMetricsSource): Promise<string> {
    return renderFamilies(await this.families(source));
  }

  /**
   * Registers this worker's families in a prom-client `Registry` (the same names as
   * {@link render}), read at each scrape.
   */
  register(registry: MetricRegistry, source: WorkerMetricsSource): void {
    registerFamilies(registry, WORKER_FAMILY_NAMES, () => this.families(source));
  }

  /** The families of `worker` now. */
  async families(source: WorkerMetricsSource): Promise<MetricFamily[]> {
    const now = Date.now();
    const info = source.worker.info();
    const [stats, published, lag] = await Promise.all([
      this.#local.snapshot(now),
      source.registry.list().then(
        (all) => all.find((w) => w.id === info.id),
        () => undefined,
      ),
      source.lag().then(
        (l): LagSnapshot => {
          const partitions = l.partitions.filter((p) => info.partitions.includes(p.partition));
          return { ...l, partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0) };
        },
        (error: unknown) => String(error),
      ),
    ]);
    const self = stats.workers.find((w) => w.workerId === info.id);
    const { totals } = stats;
    const overview: Overview = {
      at: now,
      status: {
        queued: typeof lag === 'string' ? 0 : Math.max(0, lag.total - info.inFlight),
        processing: info.inFlight,
        success: totals.success,
        failed: totals.failed,
        retrying: totals.retrying,
        cancelled: totals.cancelled,
      },
      workers: [
        {
          ...info,
          alive: published?.alive ?? true,
          heartbeatAgeMs: Math.max(0, now - (published?.lastHeartbeat ?? now)),
          busyMs: self?.busyMs ?? 0,
        },
      ],
      lag: typeof lag === 'string' ? null : lag,
      ...(typeof lag === 'string' ? { lagError: lag } : {}),
      // A fleet figure: the fleet's /metrics (dashboard, registerFleetMetrics) has it.
      parked: null,
      stats,
    };
    const health = source.worker.health?.();
    const families = overviewFamilies(overview);
    return health === undefined ? families : [...families, ...healthFamilies(info.id, health)];
  }
}
