/** Mailbox names made of any atom characters (RFC 3501 §9 ATOM-CHAR) that name no mailbox. */
import assert from 'node:assert/strict';
import { ALICE, ALICE_PW, message, startHarness, type Harness } from './harness.js';
import { RawClient } from './client.js';

const last = (lines: string[]) => lines[lines.length - 1];

/** Every ATOM-CHAR that is not a letter (RFC 3501 §9), as imaptest tries them. */
const ATOM_CHARS = "!#$&'+,-.0123456789:;<=>?@^_`|}~";

describe('imap mailbox names of atom characters', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('answers NO (not BAD) where they name no mailbox, and never disconnects', async () => {
    // A low BAD limit: had any of these been BAD, the session would end within a few commands.
    h = await startHarness({ allowInsecureAuth: true, maxBadCommands: 3 });
    const c = await RawClient.connect(h.port);
    await c.readLine();
    assert.match(last(await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`)), /^l OK/);
    const m = message('atoms');
    c.send(`ap APPEND INBOX {${m.length}+}\r\n${m}\r\n`);
    assert.match(last(await c.until('ap')), /^ap OK/);
    const names = [ATOM_CHARS, ...[...ATOM_CHARS].map((ch) => `x${ch}y`), '&', '&-&', 'a&b-c'];
    let n = 0;
    for (const name of names) {
      for (const cmd of [
        `SELECT ${name}`,
        `EXAMINE ${name}`,
        `STATUS ${name} (MESSAGES)`,
        `DELETE ${name}`,
        `RENAME ${name} elsewhere`,
        `SUBSCRIBE ${name}`,
        `APPEND ${name} {1+}\r\nx`,
      ]) {
        const tag = `t${n++}`;
        const reply = last(await c.command(tag, cmd));
        assert.match(reply, new RegExp(`^${tag} NO `), `${cmd} → ${reply}`);
      }
      assert.match(last(await c.command('s', 'SELECT INBOX')), /^s OK/);
      for (const cmd of [`COPY 1 ${name}`, `MOVE 1 ${name}`]) {
        const tag = `t${n++}`;
        const reply = last(await c.command(tag, cmd));
        assert.match(reply, new RegExp(`^${tag} NO `), `${cmd} → ${reply}`);
      }
    }
    // The whole command is parsed before the name is judged: bad syntax after it stays BAD.
    assert.match(last(await c.command('y', 'DELETE a&b junk')), /^y BAD/);
    assert.match(last(await c.command('z', 'NOOP')), /^z OK/);
    c.close();
  });
});
