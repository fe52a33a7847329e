import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { redactUrlCredentials } from '../src/redact.js';
import { createLogger } from '../src/logger.js';

describe('credentials in logged URLs', () => {
  it('replaces the password of a URL with *** and keeps the user, host, port and path', () => {
    assert.equal(redactUrlCredentials('redis://user:s3cret@host:6379/2'), 'redis://user:***@host:6379/2');
    assert.equal(redactUrlCredentials('rediss://:s3cret@host'), 'rediss://:***@host');
    assert.equal(redactUrlCredentials('redis://s3cret@host'), 'redis://***@host');
    assert.equal(
      redactUrlCredentials('smtp://a:b@x and redis://c:d@y'),
      'smtp://a:***@x and redis://c:***@y',
    );
  });

  it('leaves text without credentials alone', () => {
    for (const s of ['redis://127.0.0.1:6379/0', 'fs', 'ann@example.test', 'mailto:ann@example.test'])
      assert.equal(redactUrlCredentials(s), s);
  });

  it('the logger redacts every field and the message, at any depth', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += chunk;
        done();
      },
    });
    const log = createLogger('info', sink);
    log.info({ store: 'redis://u:pw1@h/0', nested: { list: ['redis://:pw2@h'] } }, 'opened redis://u:pw3@h');
    assert.ok(!/pw[123]/.test(out), out);
    const record = JSON.parse(out) as { store: string; nested: { list: string[] }; msg: string };
    assert.equal(record.store, 'redis://u:***@h/0');
    assert.deepEqual(record.nested.list, ['redis://:***@h']);
    assert.equal(record.msg, 'opened redis://u:***@h');
  });

  it('keeps the message and stack of an error, redacted', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += chunk;
        done();
      },
    });
    createLogger('info', sink).error({ err: new Error('cannot reach redis://:pw4@h') }, 'failed');
    const record = JSON.parse(out) as { err: { type: string; message: string; stack: string } };
    assert.equal(record.err.type, 'Error');
    assert.equal(record.err.message, 'cannot reach redis://:***@h');
    assert.match(record.err.stack, /redact\.test/);
    assert.ok(!out.includes('pw4'), out);
  });
});
