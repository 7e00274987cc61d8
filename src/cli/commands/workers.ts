import { defineCommand, UsageError } from '../command.ts';
import { connect } from '../connection.ts';
import { table } from '../output.ts';

/** `yadtq workers [--json]`: every known worker, alive or not, with its counters. */
export const workersCommand = defineCommand({
  name: 'workers',
  summary: 'Lists every known worker, alive or not, with its counters.',
  flags: { json: { description: 'print one JSON document' } },
  run: async (values, positionals) => {
    if (positionals.length > 0) throw new UsageError('workers takes no arguments');
    const backend = await connect(values);
    try {
      const workers = await backend.registry.list();
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ workers })}\n`);
        return 0;
      }
      if (workers.length === 0) {
        process.stdout.write('no workers have registered\n');
        return 0;
      }
      const now = Date.now();
      const rows = workers.map((w) => [
        w.id,
        w.alive ? 'alive' : 'dead',
        `${((now - w.lastHeartbeat) / 1000).toFixed(1)}s ago`,
        String(w.processed),
        String(w.failed),
        String(w.inFlight),
        String(w.zombies ?? 0),
        w.partitions.join(',') || '-',
        `${w.host}:${w.pid}`,
      ]);
      process.stdout.write(
        `${table(['WORKER', 'STATE', 'HEARTBEAT', 'PROCESSED', 'FAILED', 'IN FLIGHT', 'ZOMBIES', 'PARTITIONS', 'HOST:PID'], rows)}\n`,
      );
      return 0;
    } finally {
      await backend.close();
    }
  },
});
