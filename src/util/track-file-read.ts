// Reading a track_file, shared by the VRRP process (track_file in instances and sync groups, vrrp/shell.ts) and the
// checker child (FILE_CHECK, check/engine.ts): asynchronous, and only from a regular file, so that a FIFO or a
// device put in its place can neither block the event loop nor be read. Each side parses the text its own way.
import { constants as fsc } from 'node:fs';
import { open, stat } from 'node:fs/promises';

export type TrackFileRead =
  | { kind: 'text'; text: string }
  /** Something other than a regular file is at the path (checked before and after opening). */
  | { kind: 'not-regular' }
  /** Missing or unreadable. */
  | { kind: 'unreadable' };

/** The first `maxBytes` bytes of the file at `path`, as text. */
export async function readTrackFileText(path: string, maxBytes: number): Promise<TrackFileRead> {
  try {
    if (!(await stat(path)).isFile()) return { kind: 'not-regular' };
    // O_NONBLOCK: a FIFO swapped in between the stat and the open must not hang the open.
    const fh = await open(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
    try {
      if (!(await fh.stat()).isFile()) return { kind: 'not-regular' };
      const buf = Buffer.alloc(maxBytes);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return { kind: 'text', text: buf.subarray(0, bytesRead).toString('utf8') };
    } finally {
      await fh.close();
    }
  } catch {
    return { kind: 'unreadable' };
  }
}
