export {
  type Backend,
  createKafkaRedisBackend,
  createMemoryBackend,
  type KafkaRedisBackendOptions,
} from './backend.ts';
export { type ConnectionConfig, ENV_VARS, resolveConfig } from './config.ts';
export type {
  Broker,
  BrokerMessage,
  Delivery,
  Destination,
  StoredMessage,
  Subscription,
  TopicRetention,
} from './core/broker.ts';
export {
  type ClientStore,
  type SubmitOptions,
  TaskClient,
  type TaskClientOptions,
  type TaskHandle,
  type TaskPriority,
} from './core/client.ts';
export type {
  ClaimGates,
  ConcurrencyGate,
  ConcurrencyLimit,
  RateGate,
  RateLimit,
} from './core/concurrency.ts';
export { type DeadLetterReason, DLQ_HEADERS } from './core/dead-letter.ts';
export { DEFAULTS } from './core/defaults.ts';
export {
  defineTask,
  type TaskContext,
  type TaskDefinition,
  type TaskHandler,
  type TaskOptions,
} from './core/define-task.ts';
export { decodeEnvelope, encodeEnvelope, type TaskEnvelope } from './core/envelope.ts';
export { type ErrorCode, isYadtqError, NonRetryableError, YadtqError } from './core/errors.ts';
export type { JsonValue } from './core/json.ts';
export type {
  LogFields,
  Logger,
  LoggerOption,
  PinoLikeLogger,
  PinoLogMethod,
} from './core/logger.ts';
export { Monitor, type MonitorOptions } from './core/monitor/monitor.ts';
export {
  type DeadLetter,
  listDeadLetters,
  type RedriveSource,
  type ReplayOptions,
  type ReplayRefusal,
  type ReplayReport,
  type ReplayResult,
  replayDeadLetters,
} from './core/redrive.ts';
export {
  DEAD_LETTER_REASONS,
  type DeadLetterFilter,
  parseSince,
} from './core/redrive-filter.ts';
export type { ReplayLedger, ReplayMark } from './core/replay-ledger.ts';
export type { ScheduleOptions } from './core/schedule/define-schedule.ts';
export type {
  Schedule,
  ScheduleDefinition,
  ScheduleStore,
} from './core/schedule/schedule.ts';
export { decide, type TaskEvent, type Transition } from './core/state-machine.ts';
export type { StatsRecorder, TaskOutcomeEvent } from './core/stats.ts';
export {
  type DurationHistogram,
  type DurationSummary,
  type LagSnapshot,
  OUTCOMES,
  type Outcome,
  type OutcomeCounts,
  type Overview,
  type PartitionLag,
  type RecentTask,
  readOverview,
  STATS_LIMITS,
  type Stats,
  type StatsReader,
  type StatsSnapshot,
  type StatusCounts,
  type TaskNameStats,
  type ThroughputBucket,
  type WorkerOverview,
  type WorkerStats,
} from './core/stats.ts';
export type {
  ClaimOutcome,
  CreateOutcome,
  FinishStep,
  MonitorStore,
  ParkedCounts,
  Stores,
  TaskStore,
  WorkerInfo,
  WorkerRegistry,
} from './core/store.ts';
export type { TaskErrorInfo, TaskOutcome, TaskRecord, TaskStatus } from './core/task-record.ts';
export type { OptionFill, UnsetOption } from './core/unset-options.ts';
export { TaskWorker, type TaskWorkerOptions, type WorkerStopReason } from './core/worker/worker.ts';
export { KafkaBroker } from './kafka/kafka-broker.ts';
export { KafkaLag } from './kafka/kafka-lag.ts';
export type { KafkaBrokerOptions, KafkaCredential, KafkaSaslOptions } from './kafka/options.ts';
export { MemoryBroker } from './memory/memory-broker.ts';
export { MemoryStats } from './memory/memory-stats.ts';
export { MemoryStore, memoryStores } from './memory/memory-store.ts';
export {
  type CollectedMetric,
  type FleetSource,
  type MetricRegistry,
  registerFleetMetrics,
} from './metrics/prom-registry.ts';
export { WorkerMetrics, type WorkerMetricsSource } from './metrics/worker-metrics.ts';
export type { RedisClient, RedisConnectionOptions, RedisStoreOptions } from './redis/options.ts';
export { RedisStats, type RedisStatsOptions } from './redis/redis-stats.ts';
export { RedisStores } from './redis/redis-stores.ts';
