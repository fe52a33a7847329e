/**
 * Trace and submission headers, unit by unit: the Received header (RFC 5321 §4.4, RFC 3848
 * protocol names, TLS facts), address literals (§4.1.3), and the Message-ID/Date a submission
 * server adds only when missing (RFC 6409 §8).
 */
import assert from 'node:assert/strict';
import type { TlsSessionInfo } from '@postern/core';
import { randomBytes } from 'node:crypto';
import {
  addressLiteral,
  base64url,
  newMessageId,
  receivedHeader,
  rfc5322Date,
  submissionHeaders,
} from '../src/trace.js';

const TLS = { version: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', group: 'x25519' } as TlsSessionInfo;
const DATE = new Date(Date.UTC(2026, 10, 23, 8, 0, 0));

describe('smtp trace headers', function () {
  it('writes a folded Received header naming TLS, protocol, id, recipient and date', () => {
    const h = receivedHeader({
      hostname: 'mx.example.org',
      heloName: 'client.example.net',
      remoteAddress: '192.0.2.7',
      tls: TLS,
      authenticated: true,
      id: 'abc',
      recipients: ['bob@example.org'],
      smtputf8: false,
      date: DATE,
    });
    assert.equal(
      h,
      'Received: from client.example.net ([192.0.2.7])\r\n\tby mx.example.org (Postern) with ESMTPSA id abc' +
        '\r\n\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 group x25519)\r\n\tfor <bob@example.org>;' +
        '\r\n\tMon, 23 Nov 2026 08:00:00 +0000\r\n',
    );
    for (const line of h.split('\r\n').slice(0, -1)) assert.ok(line.length <= 998, 'RFC 5322 §2.1.1');
  });

  it('names the protocol per RFC 3848 / RFC 6531 and leaves out `for` with several recipients', () => {
    const base = { hostname: 'h', heloName: 'c', remoteAddress: '2001:db8::1', id: 'i', date: DATE };
    const plain = receivedHeader({
      ...base,
      tls: undefined,
      authenticated: false,
      recipients: ['a@x', 'b@x'],
      smtputf8: false,
    });
    assert.match(plain, /with ESMTP id i;/);
    assert.doesNotMatch(plain, /for </);
    assert.match(plain, /\(\[IPv6:2001:db8::1\]\)/);
    const utf8 = receivedHeader({
      ...base,
      tls: TLS,
      authenticated: false,
      recipients: ['a@x'],
      smtputf8: true,
    });
    assert.match(utf8, /with UTF8SMTPS id/);
  });

  it('names the authenticated user in a comment of the from clause, quoting what a comment cannot hold', () => {
    const base = {
      hostname: 'mx.example.org',
      heloName: 'c',
      remoteAddress: '192.0.2.7',
      id: 'i',
      date: DATE,
    };
    const h = receivedHeader({
      ...base,
      tls: undefined,
      authenticated: true,
      authenticatedUser: 'alice@example.org',
      recipients: ['a@x', 'b@x'],
      smtputf8: false,
    });
    assert.equal(
      h,
      'Received: from c ([192.0.2.7])\r\n\t(Authenticated sender: alice@example.org)' +
        '\r\n\tby mx.example.org (Postern) with ESMTPA id i;\r\n\tMon, 23 Nov 2026 08:00:00 +0000\r\n',
    );
    const odd = receivedHeader({
      ...base,
      tls: undefined,
      authenticated: true,
      authenticatedUser: 'a(b)\\c\r\nX-Injected: 1',
      recipients: [],
      smtputf8: false,
    });
    assert.match(odd, /\(Authenticated sender: a\\\(b\\\)\\\\c\?\?X-Injected: 1\)/);
    assert.equal(odd.split('\r\n').filter((l) => l.startsWith('X-Injected')).length, 0);
  });

  it('gives queue ids of 9 random octets, never twice, across refills of the random pool', () => {
    const ids = Array.from({ length: 5000 }, () => newMessageId());
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{12}$/);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('encodes ids as Buffer base64url does, for any octets', () => {
    const octets = Buffer.concat([Buffer.alloc(9), Buffer.alloc(9, 0xff), randomBytes(9 * 2000)]);
    for (let at = 0; at + 9 <= octets.length; at += 9)
      assert.equal(base64url(octets, at), octets.toString('base64url', at, at + 9));
  });

  it('formats each date for itself, including dates within and across the same second', () => {
    const a = new Date(Date.UTC(2026, 10, 23, 8, 0, 0, 100));
    const b = new Date(Date.UTC(2026, 10, 23, 8, 0, 0, 900));
    const c = new Date(Date.UTC(2026, 10, 23, 8, 0, 1, 0));
    const d = new Date(Date.UTC(1999, 0, 1, 0, 0, 0));
    assert.equal(rfc5322Date(a), 'Mon, 23 Nov 2026 08:00:00 +0000');
    assert.equal(rfc5322Date(b), 'Mon, 23 Nov 2026 08:00:00 +0000');
    assert.equal(rfc5322Date(c), 'Mon, 23 Nov 2026 08:00:01 +0000');
    assert.equal(rfc5322Date(d), 'Fri, 01 Jan 1999 00:00:00 +0000');
    assert.equal(rfc5322Date(a), 'Mon, 23 Nov 2026 08:00:00 +0000');
  });

  it('writes address literals (RFC 5321 §4.1.3)', () => {
    assert.equal(addressLiteral('192.0.2.1'), '[192.0.2.1]');
    assert.equal(addressLiteral('::ffff:192.0.2.1'), '[192.0.2.1]');
    assert.equal(addressLiteral('::1'), '[IPv6:::1]');
    // The last answer is remembered: the same address again, then others, then back.
    for (const [a, lit] of [
      ['::1', '[IPv6:::1]'],
      ['192.0.2.1', '[192.0.2.1]'],
      ['192.0.2.1', '[192.0.2.1]'],
      ['::ffff:192.0.2.1', '[192.0.2.1]'],
      ['::1', '[IPv6:::1]'],
    ])
      assert.equal(addressLiteral(a!), lit);
  });

  it('adds Message-ID and Date only when missing, whatever their case', () => {
    const both = submissionHeaders(
      Buffer.from('message-id: <x@y>\r\nDATE: Mon, 1 Jan 2026 00:00:00 +0000\r\n\r\nbody\r\n'),
      'h',
      DATE,
    );
    assert.equal(both, '');
    const none = submissionHeaders(
      Buffer.from('Subject: s\r\n\r\nMessage-ID: <in the body>\r\n'),
      'mx.example.org',
      DATE,
    );
    assert.match(
      none,
      /^Message-ID: <[0-9a-f]+@mx\.example\.org>\r\nDate: Mon, 23 Nov 2026 08:00:00 \+0000\r\n$/,
    );
  });
});
