// A local Kafka broker, or a cluster of `count` of them, for the tests, the bench and the
// chaos run: the logic of scripts/kafka.mjs called in-process (same state dirs, pid files
// and ports, so the CLI sees what this started and the other way round). Restartable with
// its data (keepData) so its topics survive a restart; a broker of a cluster can be
// SIGKILLed and brought back.
import { start, status, stop } from '../kafka/commands.ts';
import { type KafkaSettings, kafkaSettings } from '../kafka/settings.ts';

/** What {@link LocalKafka} takes beside its port and broker count. */
export interface LocalKafkaOptions {
  /** JVM options of the brokers (KAFKA_JVM_OPTS). Default: the environment's, else the script's. */
  jvmOpts?: string;
  /**
   * Progress lines. Default: kept, and the last of them put into the error when a start or
   * stop fails.
   */
  log?: (line: string) => void;
}

/** Kafka's own production JVM settings (`kafka-server-start.sh` and `kafka-run-class.sh`). */
export const PRODUCTION_JVM_OPTS =
  '-Xmx1G -Xms1G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15';

/**
 * A Kafka broker on `port`, or a cluster of `count` brokers on ports `port` …
 * `port + count - 1`, each also a KRaft controller voter.
 */
export class LocalKafka {
  readonly port: number;
  readonly count: number;
  readonly #options: LocalKafkaOptions;

  constructor(port: number, count = 1, options: LocalKafkaOptions = {}) {
    this.port = port;
    this.count = count;
    this.#options = options;
    this.#settings(false); // a bad port or count fails here, not at the first start
  }

  /** The bootstrap addresses, comma-separated. */
  get brokers(): string {
    return this.#settings(false).bootstrap;
  }

  /** Whether every broker is serving. */
  async running(): Promise<boolean> {
    return (await status(this.#settings(false))).every((n) => n.serving);
  }

  /**
   * Starts the brokers (reusing those already running; on a cluster with some running only
   * the missing ones start, which needs `keepData`); `keepData` keeps the topics and
   * committed offsets of the last run. Resolves with the bootstrap addresses.
   * @throws Error with the last progress lines (and broker log lines) when they cannot start
   */
  start(keepData: boolean): Promise<string> {
    return this.#logged('start', (log) => start(this.#settings(keepData), log));
  }

  /** Stops the brokers (SIGTERM: a controlled shutdown; SIGKILL after 20 s). */
  stop(): Promise<void> {
    return this.#logged('stop', (log) => stop(this.#settings(true), log));
  }

  /** The process id of broker `node` (1-based), or null when it is not running. */
  async pid(node = 1): Promise<number | null> {
    const nodes = await status(this.#settings(false));
    return nodes.find((n) => n.node.id === node)?.pid ?? null;
  }

  /** The process ids of the running brokers. */
  async pids(): Promise<number[]> {
    const nodes = await status(this.#settings(false));
    return nodes.flatMap((n) => (n.pid === null ? [] : [n.pid]));
  }

  /** SIGKILLs broker `node` (no controlled shutdown) and waits until it is gone. */
  async kill(node: number): Promise<void> {
    const pid = await this.pid(node);
    if (pid === null) throw new Error(`broker ${node} is not running`);
    process.kill(pid, 'SIGKILL');
    for (;;) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  #settings(keepData: boolean): KafkaSettings {
    const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_PORT: String(this.port) };
    if (keepData) env.KAFKA_KEEP_DATA = '1';
    else delete env.KAFKA_KEEP_DATA;
    if (this.#options.jvmOpts !== undefined) env.KAFKA_JVM_OPTS = this.#options.jvmOpts;
    return kafkaSettings(env, this.count);
  }

  async #logged<T>(what: string, run: (log: (line: string) => void) => Promise<T>): Promise<T> {
    const lines: string[] = [];
    const log = (line: string) => {
      lines.push(line);
      this.#options.log?.(line);
    };
    try {
      return await run(log);
    } catch (error) {
      const shown = this.#options.log === undefined ? `\n${lines.slice(-60).join('\n')}` : '';
      throw new Error(
        `Kafka ${what} on port ${this.port} failed: ${(error as Error).message}${shown}`,
        { cause: error },
      );
    }
  }
}
