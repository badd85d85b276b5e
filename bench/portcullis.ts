// HOOK (lead): start the Portcullis gateway for the bench.
//
// The bench measures every peer and then calls startPortcullis(). While it
// returns null the Portcullis row reads "not wired" and the peers' rows stand on
// their own. To wire it, return a Peer (test/helpers/peers.ts) for a gateway that:
//   - runs in its OWN process (pid = that process), so RSS per idle tunnel and CPU
//     are its own and not the bench runner's: e.g. spawn `node src/main.ts up` with
//     PORTCULLIS_DATA_DIR=<temp dir>, PORTCULLIS_EGRESS_ALLOW=127.0.0.0/8 and a free
//     PORTCULLIS_API_PORT, then through the API create a limit-free plan, a customer
//     with `auth` as username/password, and import the upstream line `direct`;
//   - has one bound port (`port`) whose upstream is `direct`, speaking HTTP forward,
//     CONNECT and SOCKS5 on that port, with authentication ON (the condition);
//   - stop() ends the process and removes the temp dir.
// The origin (nginx) listens on 127.0.0.1:originPort; the egress guard must let it through.
import type { Auth, Peer } from '../test/helpers/peers.ts';

export interface PortcullisBenchOptions {
  /** credentials of the limit-free customer the bench authenticates as */
  auth: Auth;
  originPort: number;
}

export async function startPortcullis(_opts: PortcullisBenchOptions): Promise<Peer | null> {
  // Not wired yet: src/gateway/ has no start function at the time of writing.
  return null;
}
