// The namespace LAN laboratory, proven with Debian's keepalived 2.2.7 as both directors. This is also the
// reference check: what an operator observes on a two-director LAN (election, failover on link loss, failback
// with preempt, hand-over on SIGTERM, notify scripts), which keepalived-ts must reproduce. The scenario is the
// shared one (test/helpers/two-directors.ts) that the keepalived-ts and interop suites run too.
import { needsRoot, needsCommand } from '../helpers/root.js';
import { twoDirectorSuite } from '../helpers/two-directors.js';

const skip = needsRoot() || needsCommand('keepalived') || needsCommand('tcpdump') || needsCommand('tshark');
twoDirectorSuite({ d1: 'keepalived', d2: 'keepalived', version: 3, advertInt: 0.1, skip, reference: true });
