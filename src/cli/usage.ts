/** The CLI's help text, printed by `yadtq help` and after every usage error. */
export const USAGE = `yadtq — a distributed task queue on Kafka and Redis

Usage:
  yadtq worker <workerId> [--concurrency N] [--max-zombies N] [--tasks <module>]
               [--metrics-port [host:]port] [--metrics-token <secret>]
               [--allowed-host <name>]…
  yadtq submit <task> [<json-args>] [--wait] [--timeout <ms>] [--wait-timeout <ms>]
               [--dedup-key <key>] [--no-dedup] [--no-cache] [--partition-key <key>]
               [--max-attempts N] [--delay <ms>]
  yadtq status <taskId>
  yadtq cancel <taskId>
  yadtq retry <taskId>
  yadtq dlq [--limit N] [--json]
  yadtq workers [--json]
  yadtq stats [--json]
  yadtq tasks [--status success|failed|retrying|cancelled] [--limit N] [--json]
  yadtq dashboard [--port 8080] [--host 127.0.0.1] [--token <secret>] [--allowed-host <name>]…
  yadtq demo [--kafka] [--redis]
  yadtq help

Connection (every command but demo uses Kafka + Redis; demo is embedded unless told):
  --brokers <host:port,…>   Kafka bootstrap servers   env YADTQ_KAFKA_BROKERS  default localhost:9092
  --redis-url <url>         Redis URL                 env YADTQ_REDIS_URL      default redis://localhost:6379
  --topic <name>            task topic                env YADTQ_TOPIC          default yadtq_tasks
  --partitions <n>          partitions when created   env YADTQ_PARTITIONS     default 4
  --group <id>              consumer group            env YADTQ_GROUP          default yadtq_worker_group
  --prefix <p>              Redis key prefix          env YADTQ_PREFIX         default yadtq:

Exit codes: 0 ok (submit --wait: task succeeded), 1 failed, 2 usage error,
  3 worker stopped itself to be restarted (handlers ignoring their abort signal
  held more than --max-zombies slots, default 3).
`;

/** A bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
