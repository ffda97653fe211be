// A strict parser for the Prometheus text exposition format 0.0.4, for tests: it throws on anything a scraper
// would reject or that the format marks as wrong (bad names, bad escapes, samples before their TYPE, a family
// split in two, duplicate series, HELP/TYPE repeated, values that are not floats, missing final newline).
export interface PromSample { name: string; labels: Record<string, string>; value: number }
export interface PromFamily { name: string; help?: string; type: string; samples: PromSample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, line: number): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad value ${JSON.stringify(s)}`);
  return Number(s);
}

function parseLabels(s: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 0;
  for (;;) {
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) };
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without '='`);
    const key = s.slice(i, eq);
    if (!LABEL.test(key) || key.startsWith('__')) throw new Error(`line ${line}: bad label name ${JSON.stringify(key)}`);
    if (key in labels) throw new Error(`line ${line}: duplicate label ${key}`);
    if (s[eq + 1] !== '"') throw new Error(`line ${line}: label value not quoted`);
    let j = eq + 2;
    let v = '';
    for (;;) {
      const c = s[j];
      if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const n = s[j + 1];
        if (n === '\\') v += '\\';
        else if (n === '"') v += '"';
        else if (n === 'n') v += '\n';
        else throw new Error(`line ${line}: bad escape \\${n}`);
        j += 2;
        continue;
      }
      if (c === '\n') throw new Error(`line ${line}: raw newline in label value`);
      v += c;
      j++;
    }
    labels[key] = v;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw new Error(`line ${line}: expected ',' or '}' after label ${key}`);
  }
}

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  if (text.length && !text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const families = new Map<string, PromFamily>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: PromFamily | undefined;
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      if (closed.has(name)) throw new Error(`line ${line}: family ${name} appears twice`);
      if (current && current.name !== name) {
        closed.add(current.name);
        current = undefined;
      }
      let f = families.get(name);
      if (!f) {
        f = { name, type: 'untyped', samples: [] };
        families.set(name, f);
      }
      if (f.samples.length) throw new Error(`line ${line}: ${kind} for ${name} after its samples`);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`line ${line}: second HELP for ${name}`);
        f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      } else {
        if (!TYPES.has(rest)) throw new Error(`line ${line}: bad type ${rest}`);
        if ((f as PromFamily & { typed?: boolean }).typed) throw new Error(`line ${line}: second TYPE for ${name}`);
        (f as PromFamily & { typed?: boolean }).typed = true;
        f.type = rest;
      }
      current = f;
      return;
    }
    const nm = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(raw);
    if (!nm) throw new Error(`line ${line}: bad sample line ${JSON.stringify(raw)}`);
    const name = nm[1]!;
    let rest = nm[2]!;
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest.slice(1), line));
    const vm = /^ (\S+)( -?\d+)?$/.exec(rest);
    if (!vm) throw new Error(`line ${line}: bad value part ${JSON.stringify(rest)}`);
    const value = parseValue(vm[1]!, line);
    const famName = current && (name === current.name || (current.type === 'summary' || current.type === 'histogram') && name.startsWith(current.name)) ? current.name : name;
    if (closed.has(famName)) throw new Error(`line ${line}: sample of ${famName} after its family ended`);
    let f = families.get(famName);
    if (!f) {
      if (current) closed.add(current.name);
      f = { name: famName, type: 'untyped', samples: [] };
      families.set(famName, f);
      current = f;
    }
    const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (series.has(key)) throw new Error(`line ${line}: duplicate series ${key}`);
    series.add(key);
    f.samples.push({ name, labels, value });
  });
  return families;
}
