// Runs an nftables script with the `nft` command (package nftables): one `nft -f -` is one kernel transaction, so a
// script either applies whole or not at all. The VRRP firewall (vrrp/firewall.ts) writes the scripts.
import { spawn } from 'node:child_process';
import { KtError } from '../util/errors.js';

/** Where `nft` is; overridable for tests. */
const NFT = process.env.KEEPALIVED_TS_NFT ?? 'nft';

export function runNft(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(NFT, ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => { if (err.length < 4096) err += d; });
    p.on('error', (e) => reject(new KtError('KT_NET_NFT_FAILED', `cannot run ${NFT}: ${e.message}`, { cause: e })));
    p.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new KtError('KT_NET_NFT_FAILED', `${NFT} -f exited ${code}: ${err.trim().split('\n').slice(0, 3).join(' | ')}`));
    });
    p.stdin.on('error', () => undefined);
    p.stdin.end(script);
  });
}
