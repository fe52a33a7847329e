/**
 * End to end with Python's imaplib: STARTTLS, login, select, append, search, fetch, store,
 * copy, move (UID MOVE), expunge and idle (Python 3.14 has IMAP4.idle; older ones send it raw).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { requireProgram } from '@postern/core';
import { ALICE, ALICE_PW, message, startHarness, type Harness } from './harness.js';

const SCRIPT = String.raw`
import imaplib, os, ssl, sys
ctx = ssl.create_default_context(cadata=os.environ['CA'])
ctx.check_hostname = False  # the certificate names 'localhost'; we connect to 127.0.0.1
M = imaplib.IMAP4('127.0.0.1', int(os.environ['PORT']))
assert 'LOGINDISABLED' in M.capabilities, M.capabilities
M.starttls(ssl_context=ctx)
assert 'AUTH=PLAIN' in M.capabilities, M.capabilities
typ, _ = M.login(os.environ['USER'], os.environ['PASS']); assert typ == 'OK'
msg = os.environ['MSG'].encode()
typ, data = M.append('INBOX', '(\\Seen)', imaplib.Time2Internaldate(1700000000), msg); assert typ == 'OK', data
typ, data = M.append('INBOX', None, None, msg.replace(b'Subject: py', b'Subject: other')); assert typ == 'OK', data
typ, data = M.select('INBOX'); assert typ == 'OK' and data == [b'2'], data
typ, data = M.search(None, 'UNSEEN'); assert data == [b'2'], data
typ, data = M.search('UTF-8', 'SUBJECT', 'other'); print('subject-search', data)
typ, data = M.fetch('1', '(FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY[])')
assert typ == 'OK', data
assert data[0][1] == b'Subject: py\r\n\r\n', data
assert data[1][1] == msg, data
typ, data = M.store('2', '+FLAGS', '(\\Flagged)'); assert typ == 'OK' and b'\\Flagged' in data[0], data
typ, data = M.create('Py'); assert typ == 'OK', data
typ, data = M.copy('1:2', 'Py'); assert typ == 'OK', data
typ, data = M.uid('MOVE', '2', 'Py'); assert typ == 'OK', data
typ, data = M.store('1', '+FLAGS', '(\\Deleted)'); assert typ == 'OK'
typ, data = M.expunge(); assert typ == 'OK' and data[-1] == b'1', data  # imaplib keeps MOVE's EXPUNGE too
typ, data = M.status('Py', '(MESSAGES)'); assert b'MESSAGES 3' in data[0], data
typ, data = M.list(); assert any(b'"Py"' in l or l.endswith(b' Py') for l in data), data
tag = M._new_tag().decode()
M.send(('%s IDLE\r\n' % tag).encode())
assert M.readline().startswith(b'+'), 'no continuation'
M.send(b'DONE\r\n')
line = M.readline()
assert line.startswith((tag + ' OK').encode()), line
M.logout()
print('ok')
`;

describe('imap end to end with python imaplib', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('runs a full session', async function () {
    requireProgram(this, 'python3');
    const child = spawn('python3', ['-c', SCRIPT], {
      env: {
        ...process.env,
        CA: h.ca,
        PORT: String(h.port),
        USER: ALICE,
        PASS: ALICE_PW,
        MSG: message('py'),
      },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `python failed:\n${err}\n${out}`);
    assert.match(out, /subject-search \[b'2'\]/);
    assert.match(out, /\nok\n$/);
  });
});
