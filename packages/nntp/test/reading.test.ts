import assert from 'node:assert/strict';
import { NntpTestClient } from './client.js';
import { articleText, disposeStores, makeStore, startRig, type Rig } from './harness.js';

async function seed(rig: Rig): Promise<void> {
  const news = rig.store.news;
  const post = (
    groups: string[],
    id: string,
    subject: string,
    body?: string,
    extra: Record<string, string> = {},
  ) =>
    news.post(
      groups,
      id,
      Buffer.from(
        articleText(
          {
            From: 'a@example.test',
            Newsgroups: groups.join(','),
            Subject: subject,
            'Message-ID': id,
            Date: 'Mon, 23 Nov 2026 07:00:00 +0000',
            ...extra,
          },
          body,
        ),
      ),
    );
  await post(['local.test'], '<one@example.test>', 'First');
  await post(['local.test', 'local.other'], '<two@example.test>', 'Cross\tposted', '.dot line\r\nplain\r\n', {
    References: '<one@example.test>',
  });
  await post(['local.test'], '<three@example.test>', 'Third', 'x\r\n', { 'X-Custom': 'custom value' });
}

describe('NNTP reading commands (RFC 3977 §6–§8)', () => {
  let rig: Rig;
  let c: NntpTestClient;
  before(async () => {
    rig = await startRig();
    await seed(rig);
  });
  after(async () => rig.close());
  beforeEach(async () => {
    c = await NntpTestClient.connect(rig.port);
    assert.match(await c.readLine(), /^200 news\.example\.test /);
  });
  afterEach(() => c.destroy());

  it('answers unknown commands with 500 and bad arguments with 501, and goes on', async () => {
    assert.match(await c.command('FROBNICATE'), /^500 /);
    assert.match(await c.command(''), /^500 /);
    assert.match(await c.command('GROUP'), /^501 /);
    assert.match(await c.command('ARTICLE notanumber'), /^501 /);
    assert.match(await c.command('LIST BOGUS'), /^501 /);
    assert.match(await c.command('NEWGROUPS 20261399 000000'), /^501 /);
    assert.match(await c.command('MODE READER'), /^200 /);
    assert.match(await c.command('DATE'), /^111 \d{14}$/);
  });

  it('answers an over-long line with 501 and goes on', async () => {
    c.send(`GROUP ${'x'.repeat(5000)}\r\n`);
    assert.match(await c.readLine(), /^501 /);
    assert.match(await c.command('GROUP local.test'), /^211 /);
  });

  it('closes with 400 after too many errors', async () => {
    for (let i = 0; i < 9; i++) assert.match(await c.command('BOGUS'), /^500 /);
    assert.match(await c.command('BOGUS'), /^500 /);
    assert.match(await c.rest(), /^400 /);
  });

  it('GROUP, STAT, NEXT, LAST walk the articles', async () => {
    assert.match(await c.command('NEXT'), /^412 /);
    assert.equal(await c.command('GROUP local.nope'), '411 No such newsgroup');
    assert.equal(await c.command('GROUP local.test'), '211 3 1 3 local.test');
    assert.equal(await c.command('STAT'), '223 1 <one@example.test> Article exists');
    assert.equal(await c.command('LAST'), '422 No previous article in this group');
    assert.equal(await c.command('NEXT'), '223 2 <two@example.test> retrieved');
    assert.equal(await c.command('NEXT'), '223 3 <three@example.test> retrieved');
    assert.match(await c.command('NEXT'), /^421 /);
    assert.equal(await c.command('LAST'), '223 2 <two@example.test> retrieved');
    assert.equal(await c.command('STAT 9'), '423 No article with that number');
    assert.equal(await c.command('STAT <two@example.test>'), '223 0 <two@example.test> Article exists');
    assert.equal(await c.command('STAT <nope@example.test>'), '430 No article with that message-id');
    assert.equal(await c.command('GROUP local.readonly'), '211 0 1 0 local.readonly');
    assert.match(await c.command('STAT'), /^420 /);
  });

  it('LISTGROUP lists numbers, with a range', async () => {
    assert.match(await c.command('LISTGROUP'), /^412 /);
    let r = await c.commandBlock('LISTGROUP local.test');
    assert.match(r.status, /^211 3 1 3 local.test/);
    assert.deepEqual(r.lines, ['1', '2', '3']);
    r = await c.commandBlock('LISTGROUP local.test 2-');
    assert.deepEqual(r.lines, ['2', '3']);
    r = await c.commandBlock('LISTGROUP local.other');
    assert.deepEqual(r.lines, ['1']);
  });

  it('ARTICLE, HEAD and BODY by number and by message-id, dot-stuffed', async () => {
    await c.command('GROUP local.other');
    const a = await c.commandBlock('ARTICLE 1');
    assert.equal(a.status, '220 1 <two@example.test> Article follows');
    const blank = a.lines.indexOf('');
    assert.ok(a.lines.slice(0, blank).includes('Message-ID: <two@example.test>'));
    assert.deepEqual(a.lines.slice(blank + 1), ['.dot line', 'plain']);
    const h = await c.commandBlock('HEAD <two@example.test>');
    assert.equal(h.status, '221 0 <two@example.test> Headers follow');
    assert.ok(!h.lines.includes(''));
    assert.ok(h.lines.includes('Subject: Cross\tposted'));
    // The wire carries the leading dot doubled.
    c.send('BODY <two@example.test>\r\n');
    assert.equal(await c.readLine(), '222 0 <two@example.test> Body follows');
    assert.equal(await c.readLine(), '..dot line');
    assert.equal(await c.readLine(), 'plain');
    assert.equal(await c.readLine(), '.');
    assert.match(await c.command('ARTICLE <missing@x>'), /^430 /);
  });

  it('OVER, XOVER, HDR and XHDR', async () => {
    assert.match(await c.command('OVER'), /^412 /);
    await c.command('GROUP local.test');
    const o = await c.commandBlock('OVER 1-');
    assert.equal(o.status, '224 Overview information follows');
    assert.equal(o.lines.length, 3);
    const f = o.lines[1].split('\t');
    assert.equal(f[0], '2');
    assert.equal(f[1], 'Cross posted');
    assert.equal(f[4], '<two@example.test>');
    assert.equal(f[5], '<one@example.test>');
    assert.equal((await c.commandBlock('XOVER 2-2')).lines.length, 1);
    const byId = await c.commandBlock('OVER <three@example.test>');
    assert.equal(byId.lines[0].split('\t')[0], '0');
    assert.match(await c.command('OVER 50-60'), /^423 /);
    assert.match(await c.command('XOVER <three@example.test>'), /^501 /);
    const hdr = await c.commandBlock('HDR Subject 1-3');
    assert.equal(hdr.status, '225 Headers follow');
    assert.deepEqual(hdr.lines, ['1 First', '2 Cross posted', '3 Third']);
    const custom = await c.commandBlock('HDR X-Custom 1-3');
    assert.deepEqual(custom.lines, ['1 ', '2 ', '3 custom value']);
    const xhdr = await c.commandBlock('XHDR x-custom <three@example.test>');
    assert.equal(xhdr.status, '221 Headers follow');
    assert.deepEqual(xhdr.lines, ['<three@example.test> custom value']);
    const bytes = await c.commandBlock('HDR :bytes <one@example.test>');
    assert.match(bytes.lines[0], /^0 \d+$/);
  });

  it('LIST variants, NEWGROUPS and NEWNEWS', async () => {
    const active = await c.commandBlock('LIST');
    assert.equal(active.status.slice(0, 3), '215');
    assert.deepEqual(active.lines, ['local.other 1 1 y', 'local.readonly 0 1 n', 'local.test 3 1 y']);
    assert.deepEqual((await c.commandBlock('LIST ACTIVE local.t*')).lines, ['local.test 3 1 y']);
    assert.deepEqual((await c.commandBlock('LIST NEWSGROUPS local.other')).lines, [
      'local.other\tOther tabbed',
    ]);
    const times = await c.commandBlock('LIST ACTIVE.TIMES');
    assert.match(times.lines[0], /^local\.other \d+ news\.example\.test$/);
    assert.deepEqual((await c.commandBlock('LIST OVERVIEW.FMT')).lines, [
      'Subject:',
      'From:',
      'Date:',
      'Message-ID:',
      'References:',
      ':bytes',
      ':lines',
    ]);
    assert.deepEqual((await c.commandBlock('LIST HEADERS')).lines, [':', ':bytes', ':lines']);
    assert.match(await c.command('LIST ACTIVE a[b'), /^501 /);
    const ng = await c.commandBlock('NEWGROUPS 19990101 000000 GMT');
    assert.equal(ng.status.slice(0, 3), '231');
    assert.equal(ng.lines.length, 3);
    assert.deepEqual((await c.commandBlock('NEWGROUPS 21000101 000000 GMT')).lines, []);
    const nn = await c.commandBlock('NEWNEWS local.other 19990101 000000 GMT');
    assert.equal(nn.status.slice(0, 3), '230');
    assert.deepEqual(nn.lines, ['<two@example.test>']);
  });

  it('HELP, CAPABILITIES and QUIT', async () => {
    const help = await c.commandBlock('HELP');
    assert.equal(help.status.slice(0, 3), '100');
    assert.ok(help.lines.some((l) => l.includes('OVER')));
    const caps = await c.commandBlock('CAPABILITIES');
    for (const cap of ['READER', 'POST', 'IHAVE', 'OVER MSGID', 'HDR', 'NEWNEWS'])
      assert.ok(caps.lines.includes(cap), cap);
    assert.match(await c.command('QUIT'), /^205 /);
    assert.equal(await c.rest(), '');
  });
});

describe('NNTP anonymous reading policy', () => {
  afterEach(() => disposeStores());
  it('asks for authentication when anonymous reading is off', async () => {
    const rig = await startRig({ anonymousRead: false });
    const c = await NntpTestClient.connect(rig.port);
    try {
      await c.readLine();
      assert.match(await c.command('GROUP local.test'), /^480 /);
      assert.match(await c.command('LIST'), /^480 /);
      assert.match(await c.command('ARTICLE <x@y>'), /^480 /);
      assert.match(await c.command('DATE'), /^111 /);
    } finally {
      c.destroy();
      await rig.close();
    }
  });

  it('hides the groups outside a public wildmat from anonymous readers', async () => {
    const store = await makeStore();
    await store.news.post(
      ['local.other'],
      '<priv@x.test>',
      Buffer.from(articleText({ From: 'a@x', Newsgroups: 'local.other', Subject: 's' })),
    );
    const rig = await startRig({ store, anonymousRead: 'local.*,!local.other' });
    const c = await NntpTestClient.connect(rig.port);
    try {
      await c.readLine();
      const list = await c.commandBlock('LIST');
      assert.ok(!list.lines.some((l) => l.startsWith('local.other')));
      assert.ok(list.lines.some((l) => l.startsWith('local.test')));
      assert.equal(await c.command('GROUP local.other'), '411 No such newsgroup');
      assert.match(await c.command('ARTICLE <priv@x.test>'), /^430 /);
      assert.match(await c.command('GROUP local.test'), /^211 /);
    } finally {
      c.destroy();
      await rig.close();
    }
  });
});
