// The kernel's process connector (NETLINK_CONNECTOR, CN_IDX_PROC; linux/cn_proc.h): the subscribe message and the
// process events keepalived's track_process follows (fork, exec, comm change, exit). Pure bytes ↔ data.
// Layout: nlmsghdr (16) + cn_msg (20: idx, val, seq, ack, len u16, flags u16) + proc_event (what, cpu, timestamp
// u64, then the event's fields). The kernel sends one event per datagram.

export const NETLINK_CONNECTOR = 11;
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;
const NLMSG_DONE = 3;
const NLMSG_HDRLEN = 16;
const CN_MSG_LEN = 20;
const EVENT_OFFSET = NLMSG_HDRLEN + CN_MSG_LEN;

export const PROC_CN_MCAST_LISTEN = 1;
export const PROC_CN_MCAST_IGNORE = 2;

export const PROC_EVENT = {
  NONE: 0, FORK: 0x1, EXEC: 0x2, UID: 0x4, GID: 0x40, SID: 0x80, PTRACE: 0x100, COMM: 0x200, COREDUMP: 0x40000000, EXIT: 0x80000000,
} as const;

/** The subscribe (LISTEN) or unsubscribe (IGNORE) request, sent from port `portId`. */
export function encodeProcListen(portId: number, op: typeof PROC_CN_MCAST_LISTEN | typeof PROC_CN_MCAST_IGNORE): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + CN_MSG_LEN + 4);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(NLMSG_DONE, 4);
  b.writeUInt32LE(portId >>> 0, 12);
  b.writeUInt32LE(CN_IDX_PROC, 16);
  b.writeUInt32LE(CN_VAL_PROC, 20);
  b.writeUInt16LE(4, 32);
  b.writeUInt32LE(op, 36);
  return b;
}

/** One decoded process event. pid is the thread id, tgid the process id (equal for a process, not a thread). */
export type ProcEvent =
  | { what: 'ack'; cpu: number; seq: number; err: number }
  | { what: 'fork'; cpu: number; seq: number; parentPid: number; parentTgid: number; childPid: number; childTgid: number }
  | { what: 'exec'; cpu: number; seq: number; pid: number; tgid: number }
  | { what: 'comm'; cpu: number; seq: number; pid: number; tgid: number; comm: string }
  | { what: 'exit'; cpu: number; seq: number; pid: number; tgid: number; exitCode: number; exitSignal: number }
  | { what: 'other'; cpu: number; seq: number; code: number };

/**
 * Decodes one datagram from the connector socket; undefined for what is not a process event (another connector
 * index, a netlink NOOP/ERROR, a short message) and for an ack whose flag does not match (keepalived's checks).
 */
export function decodeProcEvent(b: Buffer): ProcEvent | undefined {
  if (b.length < EVENT_OFFSET + 16) return undefined;
  const len = b.readUInt32LE(0);
  const type = b.readUInt16LE(4);
  if (len < EVENT_OFFSET + 16 || len > b.length || type === 1 /* NOOP */ || type === 2 /* ERROR */) return undefined;
  if (b.readUInt32LE(16) !== CN_IDX_PROC || b.readUInt32LE(20) !== CN_VAL_PROC) return undefined;
  const seq = b.readUInt32LE(24);
  const ack = b.readUInt32LE(28);
  const o = EVENT_OFFSET;
  const code = b.readUInt32LE(o);
  const cpu = b.readUInt32LE(o + 4);
  const d = o + 16; // after what, cpu and the u64 timestamp
  if ((code === PROC_EVENT.NONE) !== (ack !== 0)) return undefined;
  const u32 = (off: number): number | undefined => (d + off + 4 <= len ? b.readUInt32LE(d + off) : undefined);
  const i32 = (off: number): number | undefined => (d + off + 4 <= len ? b.readInt32LE(d + off) : undefined);
  switch (code) {
    case PROC_EVENT.NONE: return { what: 'ack', cpu, seq, err: u32(0) ?? 0 };
    case PROC_EVENT.FORK: {
      const [parentPid, parentTgid, childPid, childTgid] = [i32(0), i32(4), i32(8), i32(12)];
      if (childTgid === undefined) return undefined;
      return { what: 'fork', cpu, seq, parentPid: parentPid!, parentTgid: parentTgid!, childPid: childPid!, childTgid };
    }
    case PROC_EVENT.EXEC: {
      const [pid, tgid] = [i32(0), i32(4)];
      if (tgid === undefined) return undefined;
      return { what: 'exec', cpu, seq, pid: pid!, tgid };
    }
    case PROC_EVENT.COMM: {
      const [pid, tgid] = [i32(0), i32(4)];
      if (tgid === undefined || d + 8 + 16 > len) return undefined;
      const raw = b.subarray(d + 8, d + 8 + 16);
      const nul = raw.indexOf(0);
      return { what: 'comm', cpu, seq, pid: pid!, tgid, comm: raw.subarray(0, nul < 0 ? 16 : nul).toString('utf8') };
    }
    case PROC_EVENT.EXIT: {
      const [pid, tgid, exitCode, exitSignal] = [i32(0), i32(4), u32(8), u32(12)];
      if (exitSignal === undefined) return undefined;
      return { what: 'exit', cpu, seq, pid: pid!, tgid: tgid!, exitCode: exitCode!, exitSignal };
    }
    default: return { what: 'other', cpu, seq, code };
  }
}
