/**
 * Fault injection on the wire (issue 6): a pass-through Duplex between the socket and the
 * LineChannel that forwards exactly the first `limit` octets received, then cuts the
 * connection. It sits under the TLS engine too, so the count is of octets on the wire, before
 * and after STARTTLS alike, and nothing past the limit is ever parsed.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** A stream that knows its peer, as the session's log and trace headers want. */
export type PeerStream = Duplex & Pick<Socket, 'remoteAddress' | 'remotePort'>;

export function dropAfterBytes(socket: Socket, limit: number): PeerStream {
  let received = 0;
  let cut = false;
  const wrapper = new Duplex({
    read() {
      if (!cut) socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (cut || socket.destroyed) return callback();
      socket.write(chunk, (err) => callback(err ?? null));
    },
    final(callback) {
      socket.end(() => callback());
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (cut) return;
    const room = limit - received;
    received += chunk.length;
    if (chunk.length < room) {
      if (!wrapper.push(chunk)) socket.pause();
      return;
    }
    // The limit is reached inside this chunk: deliver what fits, then drop the connection.
    cut = true;
    if (room > 0) wrapper.push(chunk.subarray(0, room));
    socket.destroy();
    wrapper.push(null);
  });
  socket.on('end', () => wrapper.push(null));
  socket.on('close', () => {
    if (!cut) wrapper.destroy();
  });
  socket.on('error', () => undefined);
  // LineChannel and the log read these from the stream they are given.
  return Object.assign(wrapper, { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
}
