import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ArticleFormatError, ParsedArticle } from '../src/article/headers.js';
import { parseCommand } from '../src/commands.js';
import { compileWildmat } from '../src/wildmat.js';
import { NntpTestClient } from './client.js';
import { PASSWORD, startRig, USER } from './harness.js';

const fieldName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
const fieldValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((v) => v.trim());
const bodyLine = fc.stringMatching(/^[\x20-\x7e]{0,30}$/);

describe('NNTP properties (fast-check)', () => {
  it('a header block survives parse and serialise byte for byte', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fieldName, fieldValue), { minLength: 1, maxLength: 8 }),
        fc.array(bodyLine),
        (fields, body) => {
          const text =
            fields.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n' + body.map((l) => l + '\r\n').join('');
          const parsed = ParsedArticle.parse(Buffer.from(text, 'latin1'));
          assert.equal(parsed.toBuffer().toString('latin1'), text);
          assert.equal(parsed.get(fields[0][0]), fields[0][1]);
        },
      ),
    );
  });

  it('the header parser fails only with ArticleFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          ParsedArticle.parse(Buffer.from(bytes));
        } catch (err) {
          assert.ok(err instanceof ArticleFormatError, String(err));
        }
      }),
    );
  });

  it('command parsing and wildmat compilation never throw', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (line) => {
        const cmd = parseCommand(line);
        if (cmd) assert.equal(cmd.keyword, cmd.keyword.toUpperCase());
        const m = compileWildmat(line);
        if (m) m('comp.lang.c');
      }),
    );
  });

  it('any body posted comes back unchanged, whatever its dots', async () => {
    const rig = await startRig({ allowInsecureAuth: true });
    const c = await NntpTestClient.connect(rig.port);
    try {
      await c.readLine();
      const sasl = Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64');
      assert.match(await c.command(`AUTHINFO SASL PLAIN ${sasl}`), /^281 /);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof(bodyLine, fc.constantFrom('.', '..', '.x', '. ')), {
            minLength: 1,
            maxLength: 12,
          }),
          async (lines) => {
            const article = `From: a@x\r\nNewsgroups: local.test\r\nSubject: p\r\n\r\n${lines.map((l) => l + '\r\n').join('')}`;
            assert.match(await c.command('POST'), /^340 /);
            c.send(article.replace(/^\./gm, '..') + '.\r\n');
            assert.match(await c.readLine(), /^240 /);
            const last = (await rig.store.news.getGroup('local.test'))!.high;
            await c.command('GROUP local.test');
            const body = await c.commandBlock(`BODY ${last}`);
            assert.deepEqual(body.lines, lines);
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      c.destroy();
      await rig.close();
    }
  });
});
