// Types for raw-socket 1.8 (a NAN addon without its own). Only what src/net/vrrp-socket.ts uses.
declare module 'raw-socket' {
  import { EventEmitter } from 'node:events';

  export const AddressFamily: { IPv4: 1; IPv6: 2 };
  export const SocketLevel: { SOL_SOCKET: number; IPPROTO_IP: number; IPPROTO_IPV6: number };
  export const SocketOption: Record<string, number>;

  export interface SocketOptions {
    protocol?: number;
    addressFamily?: 1 | 2;
    /** Size of the one receive buffer that every 'message' Buffer is a view of (default 4096). */
    bufferSize?: number;
  }

  export class Socket extends EventEmitter {
    constructor(options?: SocketOptions);
    /** Queues a send to `address`; callbacks run when the socket is writable and after sendto(2). */
    send(
      buffer: Buffer,
      offset: number,
      length: number,
      address: string,
      beforeCallback: (() => void) | null,
      afterCallback: (error: Error | null, bytes: number) => void,
    ): this;
    send(buffer: Buffer, offset: number, length: number, address: string, afterCallback: (error: Error | null, bytes: number) => void): this;
    /** Integer value (4 bytes) or, with `length`, a Buffer value. Throws on failure. */
    setOption(level: number, option: number, value: number): void;
    setOption(level: number, option: number, value: Buffer, length: number): void;
    getOption(level: number, option: number, value: Buffer, length: number): number;
    pauseRecv(): this;
    resumeRecv(): this;
    close(): this;
    /** 'message' (buffer: a view over the shared receive buffer, source: string), 'error', 'close'. */
    on(event: 'message', listener: (buffer: Buffer, source: string) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'close', listener: () => void): this;
  }

  export function createSocket(options?: SocketOptions): Socket;
}
