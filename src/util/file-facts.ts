// What a file looks like, as lstat/stat/fstat say: one shape for the script-security decision
// (notify/script-user.ts) and the safe writer (daemon/safe-file.ts), which both take it as data so that their rules
// stay pure and testable with fakes. No I/O here: the callers stat, fileFacts() only copies the fields.

export interface FileFacts {
  uid: number;
  gid: number;
  /** st_mode permission and type bits. */
  mode: number;
  /** Hard links to the inode. */
  nlink: number;
  isDirectory: boolean;
  isFile: boolean;
  isSymbolicLink: boolean;
}

/** The facts of a node:fs Stats (or anything shaped like it). */
export function fileFacts(st: {
  uid: number; gid: number; mode: number; nlink: number;
  isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean;
}): FileFacts {
  return {
    uid: st.uid, gid: st.gid, mode: st.mode, nlink: st.nlink,
    isDirectory: st.isDirectory(), isFile: st.isFile(), isSymbolicLink: st.isSymbolicLink(),
  };
}
