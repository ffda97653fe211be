// IPVS over generic netlink: the family "IPVS" resolved by name, one method per command, and keepalived's error
// semantics (ipvswrapper.c): EEXIST on add and ENOENT on delete count as success, SET_DEST falls back to NEW_DEST
// when the destination is gone. Errors carry the errno name and the kernel's own text.
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
      if (e instanceof NetlinkError) {
        if (e.errnoName === 'ENOENT' && (r.cmd === IPVS_CMD_NEW_SERVICE || r.cmd === IPVS_CMD_SET_SERVICE)) {
          // The kernel answers ENOENT when the scheduler (or persistence engine) module does not exist.
          throw new IpvsError(operation, e.errno, e.errnoName, e.kernelMessage,
            `IPVS ${operation} failed: the scheduler or persistence engine is not available in this kernel (no ip_vs_<name> module)`, 'KT_IPVS_NO_SCHEDULER');
        }
        throw new IpvsError(operation, e.errno, e.errnoName, e.kernelMessage);
      }
      throw e;
    }
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

  async listDests(key: ServiceKey): Promise<DestEntry[]> {
    return (await this.send(dumpDestsRequest(key), `list dests of ${describeService(key)}`)).map((p) => decodeDestMessage(p, key.af));
  }

  /** Every service with its destinations. */
  async dump(): Promise<IpvsServiceWithDests[]> {
    const out: IpvsServiceWithDests[] = [];
    for (const service of await this.listServices()) out.push({ service, dests: await this.listDests(service) });
    return out;
  }

  async addService(s: ServiceSpec): Promise<IpvsOutcome> {
    try {
      await this.send(newServiceRequest(s), `add service ${describeService(s)}`);
      return 'done';
    } catch (e) {
      if (e instanceof IpvsError && e.errnoName === 'EEXIST') return 'noop';
      throw e;
    }
  }

  async editService(s: ServiceSpec): Promise<IpvsOutcome> {
    await this.send(setServiceRequest(s), `edit service ${describeService(s)}`);
    return 'done';
  }

  async delService(k: ServiceKey): Promise<IpvsOutcome> {
    try {
      await this.send(delServiceRequest(k), `delete service ${describeService(k)}`);
      return 'done';
    } catch (e) {
      if (e instanceof IpvsError && (e.errnoName === 'ENOENT' || e.errnoName === 'ESRCH')) return 'noop';
      throw e;
    }
  }

  async addDest(k: ServiceKey, d: DestSpec): Promise<IpvsOutcome> {
    try {
      await this.send(newDestRequest(k, d), `add dest ${describeDest(d)} to ${describeService(k)}`);
      return 'done';
    } catch (e) {
      if (e instanceof IpvsError && e.errnoName === 'EEXIST') return 'noop';
      throw e;
    }
  }

  /** SET_DEST; when the kernel no longer has the destination (ENOENT) it is added instead, like keepalived. */
  async editDest(k: ServiceKey, d: DestSpec): Promise<IpvsOutcome> {
    try {
      await this.send(setDestRequest(k, d), `edit dest ${describeDest(d)} of ${describeService(k)}`);
      return 'done';
    } catch (e) {
      if (e instanceof IpvsError && e.errnoName === 'ENOENT') {
        await this.send(newDestRequest(k, d), `add dest ${describeDest(d)} to ${describeService(k)}`);
        return 'added-instead';
      }
      throw e;
    }
  }

  async delDest(k: ServiceKey, d: DestKey): Promise<IpvsOutcome> {
    try {
      await this.send(delDestRequest(k, d), `delete dest ${describeDest(d)} of ${describeService(k)}`);
      return 'done';
    } catch (e) {
      if (e instanceof IpvsError && (e.errnoName === 'ENOENT' || e.errnoName === 'ESRCH')) return 'noop';
      throw e;
    }
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
