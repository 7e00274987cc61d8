// Reads a V8 .cpuprofile (node --cpu-prof) and prints the functions with the most self time,
// and the self time by package: `node bench/profile-top.ts <file.cpuprofile> [count]`.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  selfMs: number;
  /** Share of the busy (non-idle) time, in %. */
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  top: SelfTime[];
  /** Self time by package or area: yadtq src, node_modules/<pkg>, node internals, GC… */
  byArea: Array<{ area: string; selfMs: number; pct: number }>;
}

function areaOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (module) return module[1]!;
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/src/')) return 'yadtq src';
  if (url.includes('/bench/')) return 'bench harness';
  return url;
}

export function summariseProfile(path: string, count = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const functions = new Map<string, SelfTime>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    totalUs += us;
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    const short = url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/');
    const where = url === '' ? '' : `${short}:${lineNumber + 1}`;
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, selfMs: 0, pct: 0 };
    entry.selfMs += us / 1000;
    functions.set(key, entry);
    const area = areaOf(url, name);
    areas.set(area, (areas.get(area) ?? 0) + us / 1000);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  const pct = (ms: number): number => Number(((ms / busyMs) * 100).toFixed(1));
  const round = (ms: number): number => Number(ms.toFixed(1));
  return {
    totalMs: round(totalUs / 1000),
    idleMs: round(idleUs / 1000),
    busyMs: round(busyMs),
    top: [...functions.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, count)
      .map((f) => ({ ...f, selfMs: round(f.selfMs), pct: pct(f.selfMs) })),
    byArea: [...areas]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([area, ms]) => ({ area, selfMs: round(ms), pct: pct(ms) })),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = [
    `busy ${summary.busyMs} ms of ${summary.totalMs} ms sampled (idle ${summary.idleMs} ms)`,
    '',
    '  self ms   busy %  function (where)',
    ...summary.top.map(
      (f) =>
        `${f.selfMs.toFixed(1).padStart(8)} ${f.pct.toFixed(1).padStart(7)}%  ${f.name}${f.where ? ` (${f.where})` : ''}`,
    ),
    '',
    '  self ms   busy %  area',
    ...summary.byArea.map(
      (a) => `${a.selfMs.toFixed(1).padStart(8)} ${a.pct.toFixed(1).padStart(7)}%  ${a.area}`,
    ),
  ];
  return lines.join('\n');
}

if (import.meta.main) {
  const [file, count] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node bench/profile-top.ts <file.cpuprofile> [count]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatProfile(summariseProfile(file, Number(count ?? 25)))}\n`);
}
