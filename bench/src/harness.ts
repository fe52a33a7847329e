/**
 * The benchmark harness: each case measures Postern and a peer interleaved (A B A B …) in the
 * same run, so machine noise hits both alike; we report medians and their ratio.
 */
export interface Measurement {
  /** Higher is better unless `lowerIsBetter`. */
  value: number;
}

export interface BenchCase {
  name: string;
  unit: string;
  lowerIsBetter?: boolean;
  /** Label of the peer column, e.g. 'node:tls', 'smtp-server'; omitted when there is none. */
  peerName?: string;
  setup?(quick: boolean): Promise<void>;
  postern(quick: boolean): Promise<number>;
  peer?(quick: boolean): Promise<number>;
  teardown?(): Promise<void>;
  /** Rounds (each runs postern once and peer once). */
  rounds?: { quick: number; full: number };
  /** Extra facts printed under the table (e.g. targets). */
  note?: string;
}

export interface CaseResult {
  name: string;
  unit: string;
  postern: number;
  peer: number | null;
  peerName: string | null;
  ratio: number | null;
  samples: { postern: number[]; peer: number[] };
  note?: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function runCase(c: BenchCase, quick: boolean): Promise<CaseResult> {
  const rounds = quick ? (c.rounds?.quick ?? 3) : (c.rounds?.full ?? 7);
  await c.setup?.(quick);
  const a: number[] = [];
  const b: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      // Alternate who goes first, so warm-up effects don't always favour one side.
      if (i % 2 === 0) {
        a.push(await c.postern(quick));
        if (c.peer) b.push(await c.peer(quick));
      } else {
        if (c.peer) b.push(await c.peer(quick));
        a.push(await c.postern(quick));
      }
    }
  } finally {
    await c.teardown?.();
  }
  const pa = median(a);
  const pb = b.length ? median(b) : null;
  const ratio = pb === null || pb === 0 ? null : c.lowerIsBetter ? pb / pa : pa / pb;
  return {
    name: c.name,
    unit: c.unit,
    postern: pa,
    peer: pb,
    peerName: c.peerName ?? null,
    ratio,
    samples: { postern: a, peer: b },
    note: c.note,
  };
}

function fmt(n: number | null): string {
  if (n === null) return '-';
  if (n >= 100) return n.toFixed(0);
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** Two decimals, or two significant digits below 0.1 (so 0.0028 does not read as 0.00). */
function fmtRatio(x: number): string {
  return x > 0 && x < 0.1 ? x.toPrecision(2) : x.toFixed(2);
}

export function table(results: CaseResult[]): string {
  const rows = [['case', 'postern', 'peer', 'peer value', 'unit', 'ratio']];
  for (const r of results)
    rows.push([
      r.name,
      fmt(r.postern),
      r.peerName ?? '-',
      fmt(r.peer),
      r.unit,
      r.ratio === null ? '-' : `${fmtRatio(r.ratio)}x`,
    ]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) => '| ' + row.map((cell, i) => cell.padEnd(widths[i])).join(' | ') + ' |';
  return [
    line(rows[0]),
    '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|',
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** `case <name>: postern <value> <unit>, peer <value>, ratio <x>` — one line a script can read. */
export function summaryLine(r: CaseResult): string {
  return `case ${r.name}: postern ${fmt(r.postern)} ${r.unit}, peer ${fmt(r.peer)}, ratio ${r.ratio === null ? '-' : fmtRatio(r.ratio)}`;
}
