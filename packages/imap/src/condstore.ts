/**
 * CONDSTORE enabled by use (RFC 7162 §3.1): besides ENABLE and SELECT (CONDSTORE), a FETCH or
 * SEARCH naming MODSEQ, FETCH CHANGEDSINCE, STORE UNCHANGEDSINCE and STATUS HIGHESTMODSEQ turn
 * it on for the rest of the connection.
 */
import type { ImapSession } from './session.js';

/**
 * Turn CONDSTORE on. RFC 7162 §3.1: the first enabling command issued while a mailbox is
 * selected also reports the mailbox's HIGHESTMODSEQ (untagged, ahead of the command's own
 * responses), since the client had no reason to remember it from SELECT.
 */
export async function enableCondstore(session: ImapSession): Promise<void> {
  if (session.condstore) return;
  session.enabled.add('CONDSTORE');
  if (session.state.kind === 'Selected') {
    await session.write(`* OK [HIGHESTMODSEQ ${session.selected.highestModseq}] highest\r\n`);
  }
}
