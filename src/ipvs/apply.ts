// The imperative reconciler: reads the kernel's table, diffs it against the desired state, applies the operations
// phase by phase (services, destinations, edits, deletions), and reports each operation's result. Within a phase
// operations go out in batches, several per datagram: the kernel handles a datagram's messages in order inside
// sendmsg and acknowledges each by its sequence number, so one refused operation fails only itself.
// Destinations of a service that could not be added are skipped, not sent to fail. A long phase is queued a
// chunk per event-loop turn, so the process's other I/O (the checker's probes) is served meanwhile.
import { IpvsClient, IpvsError, type IpvsOutcome } from './client.js';
import type { IpvsTimeouts, ServiceKey } from './kernel-table.js';
import { describeOp, describeService, destId, serviceId } from './describe.js';
import type { IpvsState } from './desired.js';
import { diff, dropDestsOf, emptyOwnership, ownershipAfter, removalOps, stateFromDump, updateOwnershipInScope, type DiffOptions, type Op, type Ownership } from './reconcile.js';

export interface OpResult {
  op: Op;
  /** 'failed' carries `error`; 'skipped' means a prerequisite (its service) failed. */
  status: 'ok' | 'failed' | 'skipped';
  outcome?: IpvsOutcome;
  error?: Error;
}

export interface ApplyReport {
  results: OpResult[];
  failed: OpResult[];
}

/** Stop behaviour: keepalived removes each RS then VS; `lvs_flush_on_stop VS` deletes services directly;
 *  `lvs_flush_on_stop` flushes the whole table; `-I` (--dont-release-ipvs) keeps everything. */
export type StopMode = 'owned' | 'owned-services' | 'flush' | 'keep';

const PHASE: Record<Op['op'], number> = { 'add-service': 0, 'add-dest': 1, 'edit-dest': 1, 'edit-service': 2, 'del-dest': 3, 'del-service': 4 };
/** Operations encoded and queued per event-loop turn: the checker's probes share the loop, and encoding 55,000
 *  requests at once held it for 0.3-0.7 s natively, tens of seconds in the TCG guest (probes then timed out). */
const QUEUE_CHUNK = 1000;
const yieldToIo = (): Promise<void> => new Promise((r) => setImmediate(r));

export class IpvsApplier {
  owned: Ownership = emptyOwnership();
  /** The state the last reconcile programmed: lets a stop remove what we own without dumping the table. */
  private lastDesired?: IpvsState;

  constructor(
    readonly client: IpvsClient,
    private readonly opts: DiffOptions & { window?: number } = {},
  ) {}

  /** The kernel's table as an IpvsState. */
  async current(): Promise<IpvsState> {
    return stateFromDump(await this.client.dump());
  }

  /** keepalived's `lvs_flush`: empty the table at start (then nothing foreign is left to protect). */
  async flushAtStart(): Promise<void> {
    await this.client.flush();
    this.owned = emptyOwnership();
  }

  /** The operations a reconcile would apply now, without applying them. */
  async plan(desired: IpvsState): Promise<Op[]> {
    return diff(desired, await this.currentFor(desired), this.owned, this.opts);
  }

  /**
   * What the kernel holds of the services a reconcile towards `desired` looks at. Once a reconcile has programmed
   * the table and everything we own is in the state it programmed (as keepalived's reload, which compares the old
   * configuration with the new and reads nothing), that state stands for ours, and only the services it does not
   * know are read from the kernel: a reload of 5,000 services read them one request each before. A service whose
   * operation failed is not known (reconcile forgets it), so it is read again. Otherwise, the whole table.
   */
  private async currentFor(desired: IpvsState): Promise<IpvsState> {
    const known = this.lastDesired;
    if (!known || this.opts.removeForeign || !this.knownCoversOwned()) return this.current();
    const unknown = [...desired].filter(([id]) => !known.has(id)).map(([, s]) => s.service);
    const state: IpvsState = new Map(known);
    if (unknown.length) for (const [id, s] of await this.currentOf(unknown)) state.set(id, s);
    return state;
  }

  /** Whether every service and destination we own is in the state we last programmed. */
  private knownCoversOwned(): boolean {
    const known = this.lastDesired;
    return (this.owned.services.size === 0 && this.owned.dests.size === 0) || (known !== undefined
      && [...this.owned.services].every((sid) => known.has(sid))
      && [...this.owned.dests].every((k) => { const i = k.indexOf('|'); return known.get(k.slice(0, i))?.dests.has(k.slice(i + 1)) ?? false; }));
  }

  /** The kernel's entries of the given services only: the services read in one batch, then the destinations of
   *  those the kernel has, a dump each (one dump at a time per socket). */
  async currentOf(keys: Iterable<ServiceKey>): Promise<IpvsState> {
    const list = [...keys];
    const services = list.length === 1 ? [await this.client.getService(list[0])] : await this.client.getServices(list);
    const entries = [];
    for (let i = 0; i < list.length; i++) {
      const service = services[i];
      if (service) entries.push({ service, dests: await this.client.listDests(list[i]) });
    }
    return stateFromDump(entries);
  }

  /** Whether a full reconcile has programmed the table: a scoped one needs it. */
  get programmed(): boolean {
    return this.lastDesired !== undefined;
  }

  /** Brings the kernel to `desired`; ownership follows what succeeded. */
  async reconcile(desired: IpvsState): Promise<ApplyReport> {
    const ops = await this.plan(desired);
    const report = await this.apply(ops);
    const applied = report.results.filter((r) => r.status === 'ok').map((r) => r.op);
    // Adopt only desired entries that exist now: a failed add is not ours.
    const owned = ownershipAfter(desired, this.owned, applied);
    this.forgetNotAdded(owned, report);
    this.owned = owned;
    this.lastDesired = new Map(desired);
    this.forgetFailed(report);
    return report;
  }

  /**
   * Brings the kernel's services in `desired` (all of them, by id: the services of the virtual servers that
   * changed) to their desired state, reading only those services from the kernel; the rest of the table and of
   * our ownership is not looked at. Needs a full reconcile first (`programmed`).
   */
  async reconcileScoped(desired: IpvsState): Promise<ApplyReport> {
    const scope = new Set(desired.keys());
    const ops = diff(desired, await this.currentOf([...desired.values()].map((s) => s.service)), this.owned, this.opts, scope);
    const report = await this.apply(ops);
    updateOwnershipInScope(this.owned, desired, report.results.filter((r) => r.status === 'ok').map((r) => r.op), scope);
    this.forgetNotAdded(this.owned, report);
    for (const [id, s] of desired) this.lastDesired?.set(id, s);
    this.forgetFailed(report);
    return report;
  }

  /** The services whose operations failed are not what we programmed: the next reconcile reads them. */
  private forgetFailed(report: ApplyReport): void {
    for (const r of report.failed) this.lastDesired?.delete(serviceId(r.op.service));
  }

  /** A failed add is not ours (nor the destinations of a service that could not be added). */
  private forgetNotAdded(owned: Ownership, report: ApplyReport): void {
    const notAdded = new Set<string>();
    for (const r of report.failed) {
      const sid = serviceId(r.op.service);
      if (r.op.op === 'add-service') {
        owned.services.delete(sid);
        notAdded.add(sid);
      } else if (r.op.op === 'add-dest') owned.dests.delete(`${sid}|${destId(r.op.dest)}`);
    }
    dropDestsOf(owned, notAdded);
  }

  private originalTimeouts?: Required<IpvsTimeouts>;

  /** keepalived's `lvs_timeouts`: unset values keep what the kernel had when we first changed them. */
  async setTimeouts(t: IpvsTimeouts): Promise<void> {
    if (!this.originalTimeouts) this.originalTimeouts = await this.client.getTimeouts();
    const o = this.originalTimeouts;
    await this.client.setTimeouts({ tcp: t.tcp || o.tcp, tcpFin: t.tcpFin || o.tcpFin, udp: t.udp || o.udp });
  }

  /** Puts back the timeouts found before our first change (keepalived does this on exit). */
  async restoreTimeouts(): Promise<void> {
    if (!this.originalTimeouts) return;
    await this.client.setTimeouts(this.originalTimeouts);
    this.originalTimeouts = undefined;
  }

  /** Stop: restore timeouts, then remove what we own (or flush, or keep) according to `mode`. */
  async stop(mode: StopMode = 'owned'): Promise<ApplyReport> {
    await this.restoreTimeouts();
    if (mode === 'keep') return { results: [], failed: [] };
    if (mode === 'flush') {
      await this.client.flush();
      this.owned = emptyOwnership();
      return { results: [], failed: [] };
    }
    return this.removeOwned(mode === 'owned-services');
  }

  /** Deletes every destination and service we own, leaving foreign ones. */
  async removeOwned(servicesOnly = false): Promise<ApplyReport> {
    // A stop must finish within child_wait_time: when everything we own is in the state we last programmed, remove
    // from that (deletes of entries already gone count as success) instead of dumping a table of 10,000s first.
    const state = this.knownCoversOwned() ? this.lastDesired ?? new Map() : await this.current();
    const report = await this.apply(removalOps(state, this.owned, { servicesOnly }));
    // Everything removed: nothing is ours (copying 50,000 owned keys to take them out again cost ~2 s of a TCG stop).
    this.owned = report.failed.length ? ownershipAfter(new Map(), this.owned, report.results.filter((r) => r.status === 'ok').map((r) => r.op)) : emptyOwnership();
    return report;
  }

  /**
   * Applies operations in phase order; each phase is sent in batches (several operations per datagram, at most
   * `window` in flight) and finished before the next starts. Results are listed in operation order.
   */
  async apply(ops: Op[]): Promise<ApplyReport> {
    const results: OpResult[] = [];
    const failedServices = new Set<string>();
    const phases: Op[][] = [[], [], [], [], []];
    for (const o of ops) phases[PHASE[o.op]].push(o);
    for (const phase of phases) {
      const phaseResults: OpResult[] = new Array(phase.length);
      const sent: Op[] = [];
      const at: number[] = [];
      phase.forEach((op, i) => {
        if (op.op !== 'add-service' && failedServices.has(serviceId(op.service))) {
          phaseResults[i] = { op, status: 'skipped', error: new Error(`skipped: ${describeService(op.service)} could not be added`) };
        } else {
          sent.push(op);
          at.push(i);
        }
      });
      const outcomes: Promise<IpvsOutcome>[] = [];
      for (let i = 0; i < sent.length; i += QUEUE_CHUNK) {
        // The queued chunks keep the socket's window full while the loop serves other I/O in between.
        if (i) await yieldToIo();
        outcomes.push(...this.client.commands(sent.slice(i, i + QUEUE_CHUNK), { window: this.opts.window }));
      }
      await Promise.all(outcomes.map((p, j) => p.then(
        (outcome) => { phaseResults[at[j]] = { op: sent[j], status: 'ok', outcome }; },
        (e: unknown) => {
          const op = sent[j];
          const error = e as Error;
          if (op.op === 'add-service') failedServices.add(serviceId(op.service));
          phaseResults[at[j]] = { op, status: 'failed', error: error instanceof IpvsError ? error : new Error(`${describeOp(op)}: ${error.message}`) };
        },
      )));
      results.push(...phaseResults);
    }
    return { results, failed: results.filter((r) => r.status !== 'ok') };
  }
}
