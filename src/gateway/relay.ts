// One pump per tunnel: client <-> upstream with backpressure in both
// directions (pause the reader when the writer's buffer is full, resume on
// 'drain') and no per-chunk work beyond the write itself; bytes are metered
// from the client socket's counters (registry.ts). Sockets keep Node's
// default highWaterMark.
//
// Lifecycle: the connection (and its thread) ends when the client socket
// closes (admit.ts). When the upstream ends cleanly we end the client after
// its pending writes (so the tail of a download is not lost); when it fails
// we destroy the client so it sees an abort, not a clean end. Both sockets
// carry the idle timeout.
import type net from 'node:net';
import type { GatewayContext } from './context.ts';
import type { Conn } from './registry.ts';
import { isRecycled, retain } from './upstream/net.ts';

function pump(src: net.Socket, dst: net.Socket): void {
  if (isRecycled(src)) {
    // The chunk is a view of src's read buffer (upstream/net.ts): if the
    // kernel did not take all of it at once, the queued write still points
    // at it, so src must read into a fresh buffer next.
    src.on('data', (chunk: Buffer) => {
      const more = dst.write(chunk);
      if (dst.writableLength > 0) retain(src);
      if (!more) src.pause();
    });
  } else {
    src.on('data', (chunk: Buffer) => {
      if (!dst.write(chunk)) src.pause();
    });
  }
  // The bandwidth throttle (limits/throttle.ts) pauses sockets too: if this
  // resumes one while its gate is dry, the next chunk is charged and the
  // throttle pauses it again, so the rate holds.
  dst.on('drain', () => src.resume());
}

const noop = (): void => {};

export function relay(
  g: GatewayContext,
  conn: Conn,
  client: net.Socket,
  up: net.Socket,
  head?: Buffer,
): void {
  if (conn.closed || client.destroyed) {
    up.destroy();
    return;
  }
  conn.peers.add(up);
  up.on('error', noop); // 'close' follows with hadError
  const onTimeout = (): void => g.registry.close(conn);
  client.setTimeout(g.idleTimeoutMs);
  up.setTimeout(g.idleTimeoutMs);
  client.removeAllListeners('timeout');
  client.on('timeout', onTimeout);
  up.on('timeout', onTimeout);
  up.once('close', (hadError: boolean) => {
    conn.peers.delete(up);
    if (hadError) g.registry.close(conn);
    else if (!client.destroyed) client.end();
  });
  if (head && head.length > 0) up.write(head);
  g.limits.pair(conn, client, up);
  pump(client, up);
  pump(up, client);
  client.resume();
  up.resume();
}
