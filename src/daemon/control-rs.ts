// The control commands of the checker side (issue 12): drain, disable, enable and weight of a real server. The
// parent checks the words (a bad request never reaches the checker process) and forwards the command with the
// caller's description; the checker process, which owns the overrides, applies it (rsControlInChecker) and answers
// with the overrides in force. The rules themselves are the pure ipvs/overrides.ts.
import { badRequest, describeCaller, registerControlCommand, positionalArgs, type ControlArgs, type ControlReply } from './control.js';
import { isRsCommand, RS_COMMANDS, RS_TARGET_USAGE, rsRequestFromWords, type RsCommand } from '../ipvs/overrides.js';
import type { CheckerService } from '../check/service.js';
import { KtError } from '../util/errors.js';

const USAGE: Record<RsCommand, string> = {
  drain: `drain ${RS_TARGET_USAGE}`,
  disable: `disable ${RS_TARGET_USAGE}`,
  enable: `enable ${RS_TARGET_USAGE}`,
  weight: `weight ${RS_TARGET_USAGE} N`,
};

/** The errors that mean a bad request (words that do not parse, a real server not configured), not a failure. */
const isCtlError = (e: unknown): e is KtError => e instanceof KtError && (e.code === 'KT_CTL_BAD_ARGS' || e.code === 'KT_CTL_NO_SUCH_SERVER');

for (const name of RS_COMMANDS) {
  registerControlCommand({
    name,
    usage: USAGE[name],
    handler: async (args, caller, env): Promise<ControlReply> => {
      try {
        rsRequestFromWords(name, positionalArgs(args), args['weight']);
      } catch (e) {
        if (isCtlError(e)) return badRequest(`${e.message}; usage: ${USAGE[name]}`);
        throw e;
      }
      // `by` is always the peer's credentials, whatever a JSON caller put there.
      return env.forward('checker', name, { ...args, by: describeCaller(caller) });
    },
  });
}

/** A forwarded command in the checker process; undefined when it is not one of these. */
export function rsControlInChecker(service: CheckerService, command: string, args: ControlArgs, now: Date): ControlReply | undefined {
  if (!isRsCommand(command)) return undefined;
  try {
    const req = rsRequestFromWords(command, positionalArgs(args), args['weight']);
    const r = service.rsCommand(req, typeof args['by'] === 'string' ? args['by'] : 'unknown caller', now);
    return { ok: true, message: r.message, overrides: r.overrides };
  } catch (e) {
    if (isCtlError(e)) return badRequest(e.message);
    throw e;
  }
}
