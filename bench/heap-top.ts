// What a V8 heap snapshot holds, by constructor: `node bench/heap-top.ts <file.heapsnapshot> [count]`.
// Self sizes only (no retainer analysis): enough to see which objects pile up.
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function heapTop(
  path: string,
  count = 25,
): Array<{ name: string; objects: number; mb: number }> {
  const data = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = data.snapshot.meta.node_types[0];
  const groups = new Map<string, { objects: number; bytes: number }>();
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt]!] ?? '?';
    const name = type === 'object' ? data.strings[data.nodes[i + nameAt]!]! : `(${type})`;
    const group = groups.get(name) ?? { objects: 0, bytes: 0 };
    group.objects++;
    group.bytes += data.nodes[i + sizeAt]!;
    groups.set(name, group);
  }
  return [...groups]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, count)
    .map(([name, g]) => ({ name, objects: g.objects, mb: Number((g.bytes / 2 ** 20).toFixed(2)) }));
}

if (import.meta.main) {
  const [file, count] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node bench/heap-top.ts <file.heapsnapshot> [count]\n');
    process.exit(2);
  }
  for (const row of heapTop(file, Number(count ?? 25))) {
    process.stdout.write(
      `${row.mb.toFixed(2).padStart(9)} MB ${String(row.objects).padStart(9)}  ${row.name}\n`,
    );
  }
}
