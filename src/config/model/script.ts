// Script keywords (notify*, script, misc_path, quorum_up/down, *_fifo_script, startup/shutdown_script).
// keepalived re-tokenises the line shell-style: word 1 is the command (re-split into argv), words 2 and 3 are the
// user and group to run it as (notify.c notify_script_init / set_script_params_array).
import type { ConfigNode } from '../tree.js';
import { parseScriptKeyword, scanQuotedWords } from '../script-words.js';
import type { ScriptSpec } from './types.js';
import type { Ctx } from './values.js';

/** Raw text after the keyword: the grammar's rawArgs, else the args re-quoted. */
export function rawOf(node: ConfigNode): string {
  if (node.rawArgs !== undefined) return node.rawArgs.trim();
  return node.args.map((a) => (a.quoted || /\s/.test(a.text) ? `"${a.text}"` : a.text)).join(' ');
}

/**
 * Build a ScriptSpec from a script keyword. `userWords`: whether trailing words are user/group (true for notify*,
 * false for vrrp_script `script` and MISC_CHECK `misc_path`, where keepalived keeps the whole line as the command).
 */
export function readScript(ctx: Ctx, node: ConfigNode, userWords: boolean): ScriptSpec | undefined {
  if (!ctx.need(node, 1, '"COMMAND [ARGS…]"' + (userWords ? ' [USER [GROUP]]' : ''))) return undefined;
  const raw = rawOf(node);
  const cmd = parseScriptKeyword(raw);
  if (cmd.error) {
    // The reader already reports unmatched quotes on script keywords (keepalived -t does too).
    if (cmd.error.code !== 'unmatched-quote') ctx.bad(node, 0, 'bad-script', `'${node.keyword}': cannot parse the command line: ${cmd.error.message}`);
    return undefined;
  }
  if (!cmd.argv.length) {
    ctx.bad(node, 0, 'bad-script', `'${node.keyword}': empty command`);
    return undefined;
  }
  const outer = scanQuotedWords(raw).words;
  const spec: ScriptSpec = { argv: cmd.argv, raw, loc: node.loc };
  if (!userWords && outer.length > 1)
    ctx.diags.notice('script-words-ignored', `'${node.keyword}': only the first word is the command; '${outer.slice(1).join(' ')}' is ignored (as keepalived does)`, node.loc, {
      keyword: node.keyword, suggestion: `quote the whole command: ${node.keyword} "${outer.join(' ')}"`,
    });
  if (userWords) {
    if (cmd.user !== undefined) spec.user = cmd.user;
    if (cmd.group !== undefined) spec.group = cmd.group;
    if (outer.length > 3)
      ctx.diags.notice('extra-arguments', `'${node.keyword}': ignoring '${outer.slice(3).join(' ')}' after USER GROUP`, node.loc, {
        keyword: node.keyword,
        suggestion: 'quote the command and its arguments: notify "/path/script arg1 arg2"',
      });
  }
  return spec;
}
