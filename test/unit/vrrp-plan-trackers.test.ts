// The VRRP plan's trackers (src/vrrp/plan.ts): what weight and direction each tracked script, file and process
// moves the priority by, as keepalived's vrrp_track.c / track_file.c decide it from the reference and the object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from '../helpers/model.js';
import { vrrpPlan } from '../../src/vrrp/plan.js';

const planOf = (text: string) => vrrpPlan(build(text).model, () => ({ uid: 0, gid: 0 }));

const instance = (body: string) => `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    10.0.0.100/24
  }
${body}
}
`;

test('vrrp plan: a track_script / track_file reference keeps its object\'s reverse unless the line says reverse|noreverse (keepalived vrrp_track.c)', () => {
  const p = planOf(`vrrp_script chk {
  script /bin/true
  weight -20 reverse
}
track_file tf {
  file /run/kt-tf
  weight -10 reverse
}
` + instance(`  track_script {
    chk weight 30
  }
  track_file {
    tf weight 5 noreverse
  }`));
  const t = p.instances[0]!.trackers.map((x) => [x.spec.name, x.spec.weight, x.spec.reverse]);
  assert.deepEqual(t, [['script:chk', 30, true], ['file:tf', 5, false]]);
});
