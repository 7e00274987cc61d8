/**
 * Every default in one place (the seed's values where it gives them). Each is
 * overridable by option, CLI flag and environment variable (see `config.ts`).
 */
export const DEFAULTS = {
  /** Kafka bootstrap servers. */
  kafkaBrokers: ['localhost:9092'],
  topic: 'yadtq_tasks',
  partitions: 4,
  groupId: 'yadtq_worker_group',
  /** Client id of the Kafka producer and admin clients (consumers use their member id). */
  kafkaClientId: 'yadtq',
  /** The consumer group protocol: KIP-848 (`'consumer'`, Kafka ≥ 4.0) or `'classic'`. */
  groupProtocol: 'consumer',
  /** Kafka session timeout of a member of the classic group protocol. */
  kafkaSessionTimeoutMs: 6000,
  /** How often a member of the classic group protocol heartbeats to Kafka. */
  kafkaHeartbeatIntervalMs: 1000,
  /**
   * Replicas of each partition when yadtq creates the topics: `'auto'` is 3 on a cluster
   * of two or more live brokers, 1 on a single broker.
   */
  replicationFactor: 'auto',
  /** `min.insync.replicas` of created topics: `'auto'` is 2 with 3 or more replicas. */
  minInSyncReplicas: 'auto',
  redisUrl: 'redis://localhost:6379',
  prefix: 'yadtq:',
  /** Per-task timeout when the definition and the submit name none. */
  timeoutMs: 30_000,
  /** Attempts per task: 1 means no retry (opt in per definition or submit). */
  maxAttempts: 1,
  /** First retry delay; each further retry doubles it (with jitter) up to `backoffMaxMs`. */
  backoffMs: 1000,
  backoffMaxMs: 60_000,
  /** Worker deaths a task may cause before it ends `failed` ("worker lost"). */
  maxWorkerLosses: 3,
  /** How often the monitor (leader election, reaper, scheduler) ticks. */
  monitorIntervalMs: 500,
  /** How often a worker with free slots looks for tasks recovered from dead workers. */
  recoveryPollMs: 500,
  /** How long a recovered task handed to one worker is offered to no one else. */
  recoveryLeaseMs: 3000,
  /**
   * How long a lane's first task may stay `queued` with tasks parked behind it before it
   * is offered to the workers from the store (its message may never come: its submitter
   * died between the create and the produce). A message that does come later is skipped.
   */
  laneStallMs: 30_000,
  /**
   * The longest a low-priority task gives way: the monitor produces it once the task log's
   * backlog is small, or after this long whatever the backlog.
   */
  lowPriorityMaxWaitMs: 60_000,
  /** Leader lock TTL: a dead leader is replaced within this time. */
  leaderTtlMs: 3000,
  /** How long a terminal record is kept. */
  retentionMs: 24 * 60 * 60 * 1000,
  /** How long a queued or processing record (and its dedup key) is kept at most. */
  pendingTtlMs: 7 * 24 * 60 * 60 * 1000,
  /**
   * Retention of the task topic when yadtq creates it (`retention.ms`): at least the
   * pending TTL, so Kafka never deletes a task whose record still waits for it.
   */
  topicRetentionMs: 7 * 24 * 60 * 60 * 1000,
  /**
   * A partition whose oldest uncommitted record is older than this share of the topic's
   * retention is flagged: Kafka may delete it (with its whole segment) once it is past it.
   */
  retentionWarningRatio: 0.8,
  /** Result cache TTL for task definitions that enable caching without naming one. */
  cacheTtlMs: 60 * 60 * 1000,
  /**
   * Largest serialised args a submit accepts: with the envelope and the record overhead
   * it stays under Kafka's default `max.message.bytes` (1,048,588), leaving 48 KiB.
   */
  maxPayloadBytes: 1_000_000,
  /**
   * Tasks a client may have submitted and not yet written (store and broker): past it a
   * submit fails at once with SUBMIT_BACKLOG_FULL instead of buffering without bound
   * while Kafka or Redis is slow or down.
   */
  maxPendingSubmits: 100_000,
  /** Tasks one worker runs at once (across all its partitions). */
  concurrency: 16,
  /** How long `TaskWorker.stop` (and a failed start) lets running tasks finish. */
  shutdownGraceMs: 10_000,
  heartbeatIntervalMs: 1000,
  heartbeatTtlMs: 5000,
  /**
   * A store answer the monitor waited longer than this for (Redis restarted or failed
   * over within the connect timeout) counts as the store having been away: the workers'
   * beats waited as long, so the reaper waits its grace before taking their tasks.
   */
  slowStoreMs: 1000,
  /** A schedule with `catchUp` runs at most this many of the ticks it missed (the newest). */
  scheduleCatchUpTicks: 100,
  /** Due schedules the monitor leader fires per tick. */
  schedulesPerTick: 100,
  /**
   * How long past the deadline of every handler running on it a stuck event loop is
   * still taken for a busy handler; then the heartbeat watchdog ends the process.
   */
  hungLoopMarginMs: 5000,
  /**
   * Zombie handlers (timed out or cancelled, still running: they ignore their signal) a
   * worker keeps, each holding a slot; one more and it drains and exits for a restart.
   */
  maxZombies: 3,
  /** How often a worker writes the outcome stats it buffered (one call per interval). */
  statsFlushMs: 1000,
  /** Buffered outcomes that make a worker write its stats before the interval is up. */
  statsMaxBuffered: 1000,
  /**
   * Claims (or finishes) a worker sends in one store call at most. The steps of one turn
   * of the event loop go together (see `BatchedSteps`): that turn is the batching window.
   */
  stepBatchMax: 100,
  /** How often settled offsets are committed. */
  commitIntervalMs: 200,
  /**
   * Bytes of fetched tasks a worker's subscription holds ahead of its free slots (about
   * 3,000 tasks of 300 bytes); past it fetching pauses until the worker took some.
   */
  fetchAheadBytes: 1024 * 1024,
  /** Live event streams (dashboard pages) one dashboard serves at once; more get 503. */
  dashboardMaxStreams: 32,
  /** Where the dashboard listens: loopback, so only this machine reaches it without a token. */
  dashboardHost: '127.0.0.1',
  dashboardPort: 8080,
  /** How often live dashboard pages get a new overview. */
  dashboardIntervalMs: 1000,
  /** Rows a list of recent tasks or dead letters has unless told (`yadtq tasks`, `yadtq dlq`). */
  listLimit: 20,
  /** How long an idle sandbox (of an isolated task) is kept for the next run. */
  sandboxIdleMs: 30_000,
  /** Bound on connecting to Kafka or Redis before failing with a clear error. */
  connectTimeoutMs: 10_000,
  /**
   * How long the mark of a replayed dead-letter entry is kept: longer than the entry
   * stays in `<topic>.dlq` (Kafka's default retention, 7 days, which the dead-letter topic
   * is created with), so an entry cannot be replayed twice while it can be seen. A mark
   * is one small key per replayed entry.
   */
  replayLedgerTtlMs: 30 * 24 * 60 * 60 * 1000,
  /** Newest dead-letter entries a replay looks through for the ones its filter chooses. */
  replayScanLimit: 100_000,
} as const;
