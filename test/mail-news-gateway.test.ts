import assert from 'node:assert/strict';
import { connect } from 'node:net';
import nodemailer from 'nodemailer';
import { startGateway, type Gateway } from '@postern/server';

const USER = { address: 'ann@example.test', password: 'ann-password' };

/** A tiny NNTP client: send lines, read single-line replies or dot-terminated blocks. */
async function nntp(port: number) {
  const s = connect(port, '127.0.0.1');
  let buf = '';
  const waiters: Array<() => void> = [];
  s.on('data', (d) => {
    buf += d;
    waiters.splice(0).forEach((w) => w());
  });
  const next = async (block = false): Promise<string> => {
    for (;;) {
      const end = block ? buf.indexOf('\r\n.\r\n') : buf.indexOf('\r\n');
      if (end !== -1) {
        const out = buf.slice(0, end);
        buf = buf.slice(end + (block ? 5 : 2));
        return out;
      }
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  await next();
  return {
    cmd: async (line: string) => {
      s.write(line + '\r\n');
      return next();
    },
    block: () => next(true),
    write: (data: string) => s.write(data),
    next,
    close: () => s.destroy(),
  };
}

async function articleCount(gw: Gateway, group: string): Promise<number> {
  return (await gw.store.news.getGroup(group))?.count ?? 0;
}

describe('mail <-> news gateway through the running servers', function () {
  let gw: Gateway;
  beforeEach(async () => {
    gw = await startGateway({
      domains: ['example.test'],
      users: [USER],
      groups: [{ name: 'local.talk', description: 'talk', mailAddress: 'talk@example.test' }],
      relay: 'capture',
      allowInsecureAuth: true,
    });
    await gw.store.news.addSubscriber('local.talk', 'reader@remote.test');
  });
  afterEach(async () => gw.close());

  it('mail to the group address becomes an article, keeping its Message-ID', async () => {
    await nodemailer
      .createTransport({
        host: '127.0.0.1',
        port: gw.ports.smtp,
        secure: false,
        tls: { ca: gw.certificatePem, servername: 'localhost' },
      } as never)
      .sendMail({
        from: 'someone@remote.test',
        to: 'talk@example.test',
        subject: 'to the group',
        text: 'hello news',
        messageId: '<mail-1@remote.test>',
      });
    assert.equal(await articleCount(gw, 'local.talk'), 1);
    const c = await nntp(gw.ports.nntp!);
    try {
      assert.match(await c.cmd('GROUP local.talk'), /^211 1 1 1 local\.talk/);
      assert.match(await c.cmd('ARTICLE <mail-1@remote.test>'), /^220 0 <mail-1@remote\.test>/);
      const article = await c.block();
      assert.match(article, /^Newsgroups: local\.talk/m);
      assert.match(article, /hello news/);
    } finally {
      c.close();
    }
  });

  it('an article posted to the group is queued as mail to its subscribers, and never comes back', async () => {
    const c = await nntp(gw.ports.nntp!);
    try {
      assert.match(await c.cmd(`AUTHINFO USER ${USER.address}`), /^381/);
      assert.match(await c.cmd(`AUTHINFO PASS ${USER.password}`), /^281/);
      assert.match(await c.cmd('POST'), /^340/);
      c.write(
        [
          'From: ann@example.test',
          'Newsgroups: local.talk',
          'Subject: from news',
          'Message-ID: <post-1@example.test>',
          '',
          'posted body',
          '.',
          '',
        ].join('\r\n'),
      );
      assert.match(await c.next(), /^240/);
    } finally {
      c.close();
    }
    const queued = await gw.store.queue.list();
    assert.equal(queued.length, 1);
    assert.deepEqual(queued[0]!.envelope.to, ['reader@remote.test']);
    const chunks: Buffer[] = [];
    for await (const ch of await gw.store.queue.openMessage(queued[0]!.id)) chunks.push(ch as Buffer);
    const mailed = Buffer.concat(chunks);
    assert.match(mailed.toString(), /posted body/);

    // A loop attempt: the mailed copy is sent back to the group's address.
    await nodemailer
      .createTransport({
        host: '127.0.0.1',
        port: gw.ports.smtp,
        secure: false,
        tls: { ca: gw.certificatePem, servername: 'localhost' },
      } as never)
      .sendMail({ envelope: { from: 'reader@remote.test', to: ['talk@example.test'] }, raw: mailed });
    assert.equal(await articleCount(gw, 'local.talk'), 1, 'the gatewayed copy is not posted again');
  });
});
