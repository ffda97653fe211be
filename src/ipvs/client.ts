// IPVS over generic netlink: the family "IPVS" resolved by name, one method per command, table operations sent in
// batches (several messages per datagram, each ACK matched to its operation), and keepalived's error semantics
// (ipvswrapper.c): EEXIST on add and ENOENT on delete count as success, SET_DEST falls back to NEW_DEST when the
// destination is gone. Errors carry the errno name and the kernel's own text.
import { spawnSync } from 'node:child_process';
import { NetlinkError, type NetlinkSocket } from '../net/netlink-socket.js';
import { openGenericSocket, resolveFamily } from '../net/genetlink.js';
import { type GenlFamily } from '../net/genetlink-codec.js';
import {
  IPVS_GENL_NAME, IPVS_CMD_NEW_SERVICE, IPVS_CMD_SET_SERVICE, decodeConfigMessage, decodeDaemonMessage,
  decodeDestMessage, decodeInfoMessage, decodeServiceMessage, delDaemonRequest, delDestRequest, delServiceRequest,
  dumpDaemonsRequest, dumpDestsRequest, dumpServicesRequest, flushRequest, getConfigRequest, getInfoRequest,
  getServiceRequest, newDaemonRequest, newDestRequest, newServiceRequest, setConfigRequest, setDestRequest,
  setServiceRequest, zeroRequest, type IpvsRequest,
} from './codec.js';
import type {
  DestEntry, DestKey, DestSpec, IpvsInfo, IpvsTimeouts, ServiceEntry, ServiceKey, ServiceSpec, SyncDaemonSpec,
} from './kernel-table.js';
import { describeService, describeDest } from './describe.js';
import type { Op } from './reconcile.js';
import { KtError } from '../util/errors.js';

/** KT_IPVS_UNAVAILABLE: the kernel has no IPVS (the netlink ENOENT is the cause). */
export class IpvsUnavailableError extends KtError {
  constructor(cause?: unknown) {
    super('KT_IPVS_UNAVAILABLE', 'this kernel has no IPVS (ip_vs module not loaded / CONFIG_IP_VS not set)', { cause });
  }
}

/**
 * A command the kernel refused: KT_IPVS_REQUEST_FAILED, or KT_IPVS_NO_SCHEDULER when the scheduler module is missing.
 * `errnoName` is EEXIST, ENOENT, EINVAL, …; `kernelMessage` the extended-ack text.
 */
export class IpvsError extends KtError {
  constructor(
    readonly operation: string,
    readonly errno: number,
    readonly errnoName: string,
    readonly kernelMessage: string | undefined,
    message?: string,
    code: 'KT_IPVS_REQUEST_FAILED' | 'KT_IPVS_NO_SCHEDULER' = 'KT_IPVS_REQUEST_FAILED',
  ) {
    super(code, message ?? `IPVS ${operation} failed: ${errnoName}${kernelMessage ? ` (${kernelMessage})` : ''}`);
  }
}

/** What an idempotent command did: `noop` when the kernel already had (or had no longer) the entry. */
export type IpvsOutcome = 'done' | 'noop' | 'added-instead';

export interface IpvsServiceWithDests {
  service: ServiceEntry;
  dests: DestEntry[];
}

/** The request behind a table operation. */
function opRequest(o: Op): IpvsRequest {
  switch (o.op) {
    case 'add-service': return newServiceRequest(o.service);
    case 'edit-service': return setServiceRequest(o.service);
    case 'del-service': return delServiceRequest(o.service);
    case 'add-dest': return newDestRequest(o.service, o.dest);
    case 'edit-dest': return setDestRequest(o.service, o.dest);
    case 'del-dest': return delDestRequest(o.service, o.dest);
  }
}

/** How an operation is named in its error (built only when it fails). */
function operationText(o: Op): string {
  switch (o.op) {
    case 'add-service': return `add service ${describeService(o.service)}`;
    case 'edit-service': return `edit service ${describeService(o.service)}`;
    case 'del-service': return `delete service ${describeService(o.service)}`;
    case 'add-dest': return `add dest ${describeDest(o.dest)} to ${describeService(o.service)}`;
    case 'edit-dest': return `edit dest ${describeDest(o.dest)} of ${describeService(o.service)}`;
    case 'del-dest': return `delete dest ${describeDest(o.dest)} of ${describeService(o.service)}`;
  }
}

/** A kernel refusal as an IpvsError (KT_IPVS_NO_SCHEDULER for ENOENT on a service add/edit); other errors as they are. */
function ipvsError(e: unknown, r: IpvsRequest, operation: string): unknown {
  if (!(e instanceof NetlinkError)) return e;
  if (e.errnoName === 'ENOENT' && (r.cmd === IPVS_CMD_NEW_SERVICE || r.cmd === IPVS_CMD_SET_SERVICE)) {
    // The kernel answers ENOENT when the scheduler (or persistence engine) module does not exist.
    return new IpvsError(operation, e.errno, e.errnoName, e.kernelMessage,
      `IPVS ${operation} failed: the scheduler or persistence engine is not available in this kernel (no ip_vs_<name> module)`, 'KT_IPVS_NO_SCHEDULER');
  }
  return new IpvsError(operation, e.errno, e.errnoName, e.kernelMessage);
}

export class IpvsClient {
  private constructor(
    private readonly sock: NetlinkSocket,
    readonly family: GenlFamily,
  ) {}

  /** Resolves the IPVS family; on ENOENT tries `modprobe ip_vs` once (as keepalived does) before giving up. */
  static async open(opts: { modprobe?: boolean } = {}): Promise<IpvsClient> {
    const sock = openGenericSocket();
    try {
      let family: GenlFamily;
      try {
        family = await resolveFamily(sock, IPVS_GENL_NAME);
      } catch (e) {
        if (!(e instanceof NetlinkError) || e.errnoName !== 'ENOENT') throw e;
        if (opts.modprobe === false) throw new IpvsUnavailableError(e);
        spawnSync('modprobe', ['ip_vs'], { stdio: 'ignore', timeout: 10_000 });
        try {
          family = await resolveFamily(sock, IPVS_GENL_NAME);
        } catch (e2) {
          if (e2 instanceof NetlinkError && e2.errnoName === 'ENOENT') throw new IpvsUnavailableError(e2);
          throw e2;
        }
      }
      return new IpvsClient(sock, family);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  close(): void {
    this.sock.close();
  }

  private async send(r: IpvsRequest, operation: string): Promise<Buffer[]> {
    try {
      const replies = await this.sock.request(this.family.id, r.payload, { dump: r.dump });
      return replies.map((m) => m.payload);
    } catch (e) {
      throw ipvsError(e, r, operation);
    }
  }

  /**
   * Runs table operations in order, packed several to a datagram with at most `window` in flight (default: as many
   * as the socket's receive buffer holds ACKs for). One promise per operation, settled by that operation's own ACK
   * with the same meaning as the single methods (addService, delDest, …, which are this with one operation).
   */
  commands(ops: readonly Op[], opts: { window?: number } = {}): Promise<IpvsOutcome>[] {
    const reqs = ops.map(opRequest);
    const sent = this.sock.requestBatch(reqs.map((r) => ({ type: this.family.id, payload: r.payload })), opts);
    return ops.map((o, i) => sent[i].then(() => 'done' as const, (e: unknown) => this.settleRefused(o, reqs[i], e)));
  }

  /** A refused operation: keepalived's idempotence (EEXIST on add, ENOENT on delete), SET_DEST's fallback, or the error. */
  private async settleRefused(o: Op, r: IpvsRequest, e: unknown): Promise<IpvsOutcome> {
    const err = ipvsError(e, r, operationText(o));
    if (!(err instanceof IpvsError)) throw err;
    switch (o.op) {
      case 'add-service':
      case 'add-dest':
        if (err.errnoName === 'EEXIST') return 'noop';
        break;
      case 'del-service':
      case 'del-dest':
        if (err.errnoName === 'ENOENT' || err.errnoName === 'ESRCH') return 'noop';
        break;
      case 'edit-dest':
        if (err.errnoName === 'ENOENT') {
          await this.send(newDestRequest(o.service, o.dest), operationText({ op: 'add-dest', service: o.service, dest: o.dest }));
          return 'added-instead';
        }
        break;
      case 'edit-service':
        break;
    }
    throw err;
  }

  private command(o: Op): Promise<IpvsOutcome> {
    return this.commands([o])[0];
  }

  async getInfo(): Promise<IpvsInfo> {
    const [p] = await this.send(getInfoRequest(), 'get info');
    return decodeInfoMessage(p);
  }

  async getTimeouts(): Promise<Required<IpvsTimeouts>> {
    const [p] = await this.send(getConfigRequest(), 'get timeouts');
    return decodeConfigMessage(p);
  }

  /** Unset (or 0) timeouts are left as they are by the kernel. */
  async setTimeouts(t: IpvsTimeouts): Promise<void> {
    await this.send(setConfigRequest(t), 'set timeouts');
  }

  async flush(): Promise<void> {
    await this.send(flushRequest(), 'flush');
  }

  async zero(key?: ServiceKey): Promise<void> {
    await this.send(zeroRequest(key), 'zero counters');
  }

  async listServices(): Promise<ServiceEntry[]> {
    return (await this.send(dumpServicesRequest(), 'list services')).map(decodeServiceMessage);
  }

  async getService(key: ServiceKey): Promise<ServiceEntry | undefined> {
    try {
      const [p] = await this.send(getServiceRequest(key), 'get service');
      return p ? decodeServiceMessage(p) : undefined;
    } catch (e) {
      if (e instanceof IpvsError && e.errnoName === 'ESRCH') return undefined;
      throw e;
    }
  }

  /**
   * Several services read at once (undefined: not in the kernel), packed into few datagrams: a reload's 500 new
   * services were 500 round trips through the event loop. A reply and its ACK each take receive-buffer room the
   * batch window counts once, hence a quarter of it.
   */
  getServices(keys: readonly ServiceKey[]): Promise<(ServiceEntry | undefined)[]> {
    const reqs = keys.map((k) => getServiceRequest(k));
    const sent = this.sock.requestBatch(reqs.map((r) => ({ type: this.family.id, payload: r.payload })), { window: Math.max(1, this.sock.batchWindow >> 2) });
    return Promise.all(sent.map((p, i) => p.then(
      (ms) => (ms[0] ? decodeServiceMessage(ms[0].payload) : undefined),
      (e: unknown) => {
        const err = ipvsError(e, reqs[i], 'get service');
        if (err instanceof IpvsError && err.errnoName === 'ESRCH') return undefined;
        throw err;
      },
    )));
  }

  async listDests(key: ServiceKey): Promise<DestEntry[]> {
    return (await this.send(dumpDestsRequest(key), `list dests of ${describeService(key)}`)).map((p) => decodeDestMessage(p, key.af));
  }

  /** Every service with its destinations. */
  async dump(): Promise<IpvsServiceWithDests[]> {
    const out: IpvsServiceWithDests[] = [];
    for (const service of await this.listServices()) out.push({ service, dests: await this.listDests(service) });
    return out;
  }

  addService(s: ServiceSpec): Promise<IpvsOutcome> {
    return this.command({ op: 'add-service', service: s });
  }

  editService(s: ServiceSpec): Promise<IpvsOutcome> {
    return this.command({ op: 'edit-service', service: s });
  }

  delService(k: ServiceKey): Promise<IpvsOutcome> {
    return this.command({ op: 'del-service', service: k });
  }

  addDest(k: ServiceKey, d: DestSpec): Promise<IpvsOutcome> {
    return this.command({ op: 'add-dest', service: k, dest: d });
  }

  /** SET_DEST; when the kernel no longer has the destination (ENOENT) it is added instead, like keepalived. */
  editDest(k: ServiceKey, d: DestSpec): Promise<IpvsOutcome> {
    return this.command({ op: 'edit-dest', service: k, dest: d });
  }

  delDest(k: ServiceKey, d: DestKey): Promise<IpvsOutcome> {
    return this.command({ op: 'del-dest', service: k, dest: d });
  }

  async startDaemon(d: SyncDaemonSpec): Promise<IpvsOutcome> {
    try {
      await this.send(newDaemonRequest(d), `start sync daemon ${d.state === 1 ? 'master' : 'backup'} on ${d.mcastIfn}`);
      return 'done';
    } catch (e) {
      if (e instanceof IpvsError && e.errnoName === 'EEXIST') return 'noop';
      throw e;
    }
  }

  async stopDaemon(state: number, syncId = 0): Promise<IpvsOutcome> {
    try {
      await this.send(delDaemonRequest(state, syncId), `stop sync daemon ${state === 1 ? 'master' : 'backup'}`);
      return 'done';
    } catch (e) {
      if (e instanceof IpvsError && (e.errnoName === 'ESRCH' || e.errnoName === 'ENOENT')) return 'noop';
      throw e;
    }
  }

  async listDaemons(): Promise<SyncDaemonSpec[]> {
    return (await this.send(dumpDaemonsRequest(), 'list sync daemons')).map(decodeDaemonMessage);
  }
}
