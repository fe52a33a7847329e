/**
 * Issue 19 item 1: a client that sends its Finished and, in the same TCP write, a record the
 * server must refuse used to crash the whole process with the ts engine (an 'error' on the TLS
 * stream with nobody listening). Every TLS-capable listener, both engines; after each case the
 * process is alive and every listener serves another client. The gateway runs in a child process
 * here: before the fix the case kills the process, which must fail one test, not end the run.
 */
import assert from 'node:assert/strict';
import { baseOptions, checkServing, childGateway, port, type ChildGateway } from './gateway-under-test.js';
import { LISTENERS } from './listeners.js';
import { HOSTILE_RECORDS, finishedThenHostile } from './tls-after-finished.js';

for (const engine of ['ts', 'native'] as const) {
  describe(`hostile TLS: Finished and a bad record in one write (${engine} engine)`, function () {
    this.timeout(30_000);
    let gut: ChildGateway | undefined;

    // A case that killed the gateway must not take the next ones with it.
    beforeEach(async () => {
      if (gut && (await gut.alive(2000)) === undefined) return;
      await gut?.close();
      gut = await childGateway(baseOptions({ tls: { engine } }));
    });
    after(async () => gut?.close());

    for (const listener of LISTENERS) {
      for (const kind of HOSTILE_RECORDS) {
        it(`${listener.name}: ${kind} after the client Finished ends that connection only`, async () => {
          // Nothing answers a peer's alert: only a close could end the wait, and node:tls keeps it open.
          const waitMs = kind === 'fatal-alert' ? 1000 : 3000;
          const outcome = await finishedThenHostile(port(gut!, listener.name), listener, kind, waitMs);
          assert.ok(outcome.handshakeDone, 'the handshake completed, so the record came after Finished');
          // The peer's own fatal alert gets no alert back (RFC 8446 §6.2); the others are refused.
          if (kind !== 'fatal-alert')
            assert.ok(
              outcome.alert !== undefined || outcome.closedByServer,
              'the server refuses the record: a fatal alert or a close',
            );
          await checkServing(gut!);
        });
      }
    }
  });
}
