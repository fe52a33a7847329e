/**
 * IDLE (RFC 2177): after the continuation, changes from the store's feed are sent as they
 * happen (EXISTS, EXPUNGE, FETCH: RFC 2177 §3 allows every untagged update), until DONE.
 * The autologout timer keeps running (RFC 2177 §3: clients re-issue IDLE within 29 minutes).
 */
import { bad } from '../errors.js';
import type { Handler } from './table.js';

export const IDLE_COMMANDS: Record<string, Handler> = {
  async IDLE({ session }, r) {
    r.end();
    await session.write('+ idling\r\n');
    const line = session.channel.readLine().then(
      (text) => ({ kind: 'line' as const, text }),
      (err: unknown) => ({ kind: 'error' as const, err }),
    );
    for (;;) {
      const state = session.state;
      await session.flushUpdates(false, false);
      const changed =
        state.kind === 'Selected'
          ? state.mailbox.changed().then(() => ({ kind: 'change' as const }))
          : new Promise<never>(() => undefined);
      const stop = session.stopRequested.then(() => ({ kind: 'change' as const }));
      const next = await Promise.race([line, changed, stop]);
      if (next.kind === 'change') {
        if (session.isStopping) {
          // Let the session say BYE; the pending read ends with the connection.
          if (state.kind === 'Selected') state.mailbox.wake();
          return 'IDLE terminated';
        }
        continue;
      }
      if (state.kind === 'Selected') state.mailbox.wake();
      if (next.kind === 'error') throw next.err;
      if (next.text.toUpperCase() !== 'DONE') throw bad('expected DONE');
      return 'IDLE terminated';
    }
  },
};
