// Builds a model from config text the way checkConfig does (minus script security), for unit tests.
import { parseConfigText } from '../../src/config/parse.js';
import { ModelBuilder } from '../../src/config/model/build.js';
import type { KeepalivedConfig } from '../../src/config/model/index.js';
import type { Diagnostic } from '../../src/config/diagnostics.js';

export interface Built {
  model: KeepalivedConfig;
  diags: Diagnostic[];
  /** `severity code @line` per diagnostic, in order: the golden form tests compare. */
  golden: string[];
}

export function build(text: string, interfaces: string[] | null = ['lo', 'eth0', 'eth1']): Built {
  // Block by block as the reader completes them, as checkConfig does.
  const env = { interfaces: interfaces ? new Set(interfaces) : null, hostname: 'node1' };
  const b = new ModelBuilder(env);
  const p = parseConfigText(text, 'test.conf', { configId: 'node1' }, (n) => b.add(n));
  const model = (p.truncated ? new ModelBuilder(env) : b).finish(p.diags);
  const diags = p.diags.list;
  return { model, diags, golden: diags.map((d) => `${d.severity} ${d.code} @${d.loc?.line ?? '-'}`) };
}

/** A minimal valid instance body to embed. */
export const VI = (extra = '', name = 'VI_1', vrid = 51) => `vrrp_instance ${name} {
  interface eth0
  virtual_router_id ${vrid}
  virtual_ipaddress {
    10.0.0.1
  }
${extra}
}
`;
