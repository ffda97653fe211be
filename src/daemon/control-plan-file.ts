// Which file `ctl plan` names, for the daemon's handler (control-plan.ts) and the CLI (ctl-cli.ts). Kept apart from
// control-plan.ts, whose import registers the `plan` command: the CLI needs the path rule, not the command.
import { isAbsolute, resolve } from 'node:path';
import { positionalArgs, type ControlArgs } from './control.js';

/** The file named by `-f FILE`, `--file FILE` or a lone positional word. */
export function planFileArg(args: ControlArgs): string | undefined {
  if (typeof args.file === 'string') return args.file;
  if (typeof args.f === 'string') return args.f;
  const words = positionalArgs(args);
  if (words[0] === '-f') return words[1];
  return words.length === 1 && !words[0]!.startsWith('-') ? words[0] : undefined;
}

/** The CLI's side: a relative file is the caller's, not the daemon's (whose working directory is /). */
export function absolutePlanArgs(args: ControlArgs, cwd: string): ControlArgs {
  const file = planFileArg(args);
  return file === undefined || isAbsolute(file) ? args : { file: resolve(cwd, file) };
}
