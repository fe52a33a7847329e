/**
 * RFC 8448 traces reproduced with the RFC's own randomness and keys (values as kept
 * machine-readable by Botan's transcripts.vec, which carries the RFC's numbers).
 *
 * Client side, §3 and §5: every byte our client sends equals the RFC's, through the Finished
 * record, application data and close_notify. Server side, §3: with the RFC's certificate and RSA
 * key (§2), and its CertificateVerify salt recovered from its signature and reused by a test-only
 * signer (RSA-PSS is randomized), the ServerHello record equals the RFC's, and every protected
 * record we send opens under the RFC's traffic keys to the RFC's bytes: EncryptedExtensions,
 * Certificate, CertificateVerify and Finished, then application data and close_notify.
 *
 * Two differences remain at the record level, both of framing, not of content: the RFC's server
 * coalesces its four encrypted handshake messages into one record, ours sends one record per
 * message; and the RFC's server sends a NewSessionTicket (sequence number 0 under its application
 * key) before its application data, ours issues no tickets, so its application data and
 * close_notify go out under sequence numbers 0 and 1 where the RFC's used 1 and 2.
 */
import assert from 'node:assert/strict';
import {
  X509Certificate,
  constants,
  createDecipheriv,
  createHash,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { CertificateStore } from '../src/index.js';
import type { CertifiedKey } from '../src/tls/engine.js';
import { certificateVerifyContent } from '../src/tls/handshake-common.js';
import { TlsConnection, type TlsEvent } from '../src/tls/connection.js';
import { CIPHER_SUITES } from '../src/tls/constants.js';
import type { Extension } from '../src/tls/messages.js';
import { nodeProvider, nobleProvider } from '../src/crypto/default-provider.js';
import type { CryptoProvider } from '../src/crypto/provider.js';
import { RFC8448_SERVER_KEY, derToPem, rfc8448ServerKeyPem } from './helpers/rfc8448-server-key.js';
import { fixedSaltPssSigner, recoverPssSalt, signPssWithSalt } from './helpers/rsa-pss-fixed-salt.js';

const h = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const hx = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Hands out the RFC's random pool in order. */
function pool(hex: string): (n: number) => Uint8Array {
  const bytes = h(hex);
  let off = 0;
  return (n) => {
    if (off + n > bytes.length) throw new Error('random pool exhausted');
    const out = bytes.slice(off, off + n);
    off += n;
    return out;
  };
}

/** The extensions of an RFC ClientHello, so our hook can send the same list in the same order. */
function extensionsOf(record: Uint8Array): Extension[] {
  let p = 5 + 4 + 2 + 32;
  p += 1 + record[p]!;
  p += 2 + ((record[p]! << 8) | record[p + 1]!);
  p += 1 + record[p]!;
  return extensionsAt(record, p);
}

/** The extension list (u16 length, then entries) that starts at `p`. */
function extensionsAt(record: Uint8Array, p: number): Extension[] {
  const end = p + 2 + ((record[p]! << 8) | record[p + 1]!);
  p += 2;
  const out: Extension[] = [];
  while (p < end) {
    const type = (record[p]! << 8) | record[p + 1]!;
    const len = (record[p + 2]! << 8) | record[p + 3]!;
    out.push({ type, data: record.slice(p + 4, p + 4 + len) });
    p += 4 + len;
  }
  return out;
}

/** Our generated key_share and cookie, everything else as the RFC's hello had it. */
function rfcOrder(template: Extension[]) {
  return (ours: Extension[]) =>
    template.map((t) => ours.find((o) => o.type === t.type && (t.type === 51 || t.type === 44)) ?? t);
}

const suitesInRfcOrder = [CIPHER_SUITES[0]!, CIPHER_SUITES[2]!, CIPHER_SUITES[1]!];
const RFC_NOW = () => new Date(1651826546000);

const S3 = {
  clientPool:
    'cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece749af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005',
  serverPool:
    'a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21efad6aac5',
  clientHello:
    '16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001',
  serverHello:
    '160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304',
  serverFlight:
    '17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13bd9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd610928d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e750edc53370d2b',
  clientFinished:
    '170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546',
  newSessionTicket:
    '17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d41d6af8f6b580dcf3d11d63c758db289a015940252f55713e061dc13e078891a38efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e09c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406f16e3fc181a77ca475840025db2f0a77f81b5ab05b94c01346755f69232c86519d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf15985684f',
  appData:
    '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031',
  clientAppRecord:
    '1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4',
  serverAppRecord:
    '17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d',
  clientCloseNotify: '1703030013c9872760655666b74d7ff1153efd6db6d0b0e3',
  serverCloseNotify: '1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9',
  // RFC 8448 §3, "derive secret for handshake ... tls13 c hs traffic / s hs traffic".
  clientHsSecret: 'b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21',
  serverHsSecret: 'b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38',
  // RFC 8448 §3, "{server} derive write traffic keys for handshake data" and "... for application data".
  serverHsKey: '3fce516009c21727d0f2e4e86ee403bc',
  serverHsIv: '5d313eb2671276ee13000b30',
  serverApKey: '9f02283b6c9c07efc26bb9f2ac92e356',
  serverApIv: 'cf782b88dd83549aadf1e984',
  // RFC 8448 §3, the plaintext of the server's encrypted handshake messages.
  encryptedExtensions: '080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000',
  certificate:
    '0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b0603551d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de10000',
  certificateVerify:
    '0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3',
  serverFinished: '140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718',
};

/** The RFC's server certificate: the one entry of its Certificate message (RFC 8446 §4.4.2). */
const rfcCertificateDer = () => h(S3.certificate).slice(4 + 1 + 3 + 3, 4 + 1 + 3 + 3 + 0x1b0);

/** The content the RFC's server signed in CertificateVerify: ClientHello through Certificate. */
function rfcCertificateVerifyContent(): Uint8Array {
  const transcript = createHash('sha256')
    .update(h(S3.clientHello).subarray(5))
    .update(h(S3.serverHello).subarray(5))
    .update(h(S3.encryptedExtensions))
    .update(h(S3.certificate))
    .digest();
  return certificateVerifyContent('server', new Uint8Array(transcript));
}
const rfcSignature = () => h(S3.certificateVerify).subarray(8);

/** RFC 8448 §2's certificate and key, signing with §3's CertificateVerify salt. */
function rfcServerKey(): CertifiedKey {
  const salt = recoverPssSalt(RFC8448_SERVER_KEY, 'sha256', rfcCertificateVerifyContent(), rfcSignature());
  return {
    certificateChainPem: derToPem('CERTIFICATE', rfcCertificateDer()),
    privateKeyPem: rfc8448ServerKeyPem(),
    signingKey: fixedSaltPssSigner(RFC8448_SERVER_KEY, salt),
  };
}

/**
 * Opens TLS 1.3 AES-128-GCM records (RFC 8446 §5.2) with node:crypto, independently of our record
 * layer: sequence numbers from `seq` on; returns each record's inner content type and content.
 */
function openRecords(
  keyHex: string,
  ivHex: string,
  records: Uint8Array,
  seq = 0,
): { type: number; content: string }[] {
  const out: { type: number; content: string }[] = [];
  for (let off = 0; off < records.length; seq++) {
    const len = (records[off + 3]! << 8) | records[off + 4]!;
    const header = records.subarray(off, off + 5);
    const body = records.subarray(off + 5, off + 5 + len);
    assert.equal(hx(header.subarray(0, 3)), '170303', 'protected records are application_data, 0x0303');
    const nonce = h(ivHex);
    for (let i = 0; i < 8; i++) nonce[11 - i] ^= Number((BigInt(seq) >> BigInt(8 * i)) & 0xffn);
    const d = createDecipheriv('aes-128-gcm', h(keyHex), nonce);
    d.setAAD(header);
    d.setAuthTag(body.subarray(len - 16));
    const inner = Buffer.concat([d.update(body.subarray(0, len - 16)), d.final()]);
    let end = inner.length - 1;
    while (end > 0 && inner[end] === 0) end--;
    out.push({ type: inner[end]!, content: hx(inner.subarray(0, end)) });
    off += 5 + len;
  }
  return out;
}

/** Our extensions in the order of an RFC message's; the RFC's own where we send none of that type. */
function rfcServerOrder(rfcMessage: string, offset: number) {
  const template = extensionsAt(h(rfcMessage), offset);
  return (ours: Extension[]) => {
    const foreign = ours.filter((o) => !template.some((t) => t.type === o.type));
    assert.deepEqual(foreign, [], "we send extensions the RFC's message lacks");
    return template.map((t) => ours.find((o) => o.type === t.type) ?? t);
  };
}

const S5 = {
  clientPool:
    'b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f0ed02f8e8117efc75ca7ac32aa7e34eda64cdc0ddad154a5e85289f959f63204ab5473467e19346ceb0a0414e41da21d4d2445bc3025afe97c4e8dc8d513da39',
  clientHello1:
    '16030100b4010000b00303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f000006130113031302010000810000000b0009000006736572766572ff01000100000a00080006001d00170018003300260024001d0020e8e8e3f3b93a25ed97a14a7dcacb8a272c6288e585c6484d05262fcad062ad1f002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001',
  helloRetryRequest:
    '16030300b0020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c001301000084003300020017002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aacad365dd0030953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934b0002b00020304',
  clientHello2:
    '1603030200010001fc0303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f000006130113031302010001cd0000000b0009000006736572766572ff01000100000a00080006001d001700180033004700450017004104a6da7392ec591e17abfd535964b99894d13befb221b3def2ebe3830eac8f0151812677c4d6d2237e85cf01d6910cfb83954e76ba7352830534159897e8065780002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aacad365dd0030953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934b0002d00020101001c00024001001500af' +
    '00'.repeat(0xaf),
  serverHello:
    '160303007b020000770303bb341d847fd789c47c387172dc0c9bf147fccacb5043d86ca4c598d3ff571b9800130100004f003300450017004104583e054b7a66672ae020ad9d2686fcc85b5ad41a134a0f03ee72b893052bd85b4c8de6776f5b04ac07d83540eab3e3d9c547bc6528c4317d294686093a6cad7d002b00020304',
  serverFlight:
    '170303029699bee20baf5b7fc727bfab6223928a381e6d0cf9c4da653f9d2a7b23f7de11cce842d5cf75631763450ffb8b0cc1d238e658af7a12adc86243114ab14a1da2fae42621ce483fb6242eabfaad52566b02b31d2eddedefeb80e66a9900d5f973b40c4fdf74719ecf1b68d7f9c3b6ceb903ca13dd1bb8f8187ae33417e1d152522c5822a1a03ad52c838c55953d610222874cce8e1790b229a2aa0b53c8d377ee720182951dc6181dc5d90bd1f0105ed1e84aa5f75957c6661897079e5ea5007449e3197bdc7c9beeedddeafdd844afa5c315ecfe65e576afe909812880620ec7048b42d7f5c78d76f299d6d82534bdd8f512febc0ed3814aca470cd8000d3e1cb9962b052fbb950df683a52c2ba77ed3713b122937a6e5170964e2ab7969dcd980b3db9b458da7603124d6dc005e4d6e04b4d0c4baf3275db827dbba0a6db09672171fc057b3851d7e026841e2978fbd2346bbefdd0376bb1108fe9acc92189f5650aa5e85d8e8c7b67ac510dba003d3d7e16350bb66d45013efd44c9b607c0d318c4c7d1a1f5cbc57e20611804e3787d7b4a4b5f08ed8fd70bdaeade02260b12ab842ef690b4a3ee7911e841b374ecd5ebbbc2a54d047b600336dd7d0c88b4bc10e58ee6cb656de7247fa20d8e91deb84628608cf80615b62e96c1491c7ac3755eb6901405d3474fe1ac79d106a0cee56c2577fc88480f96cb6b8c681b7b68b53c146093908f350888175bdfb0b1e31ad61e30ba0adfe6d223aa03c0783b5001a57587c328a9afcfcfb978d1cd4328f7d9d60530e630befd96c0c816ee20b0100768ae2a6df51fc68f172740a79af11398ee3be1252491fa9c693479e877f94ab7c5f8cad480203e6ab7b87dd71e8a0729113df17f5eee86ce108d1d72007ec1cd13c85a6c149621e77b7d78d805a30f0be030c315e54',
  clientFinished:
    '1703030035d74f1923c662fd34137c6f502f3dd2b93d951d1b3bc97e42afe23c31abea92fe91b474999e85e3b791ce252fe8c3e9f939a4120cb2',
  clientCloseNotify: '17030300132ea6cdf749196023e2b3a49491695536426047',
};

function rfcClient(provider: CryptoProvider, randomPool: string, template: Extension[], keyLog?: string[]) {
  let hello = 0;
  const firstTemplate = template;
  return new TlsConnection({
    role: 'client',
    provider,
    random: pool(randomPool),
    keyLog: keyLog ? (l) => keyLog.push(l) : undefined,
    client: {
      serverName: 'server',
      rejectUnauthorized: false,
      suites: suitesInRfcOrder,
      groups: ['x25519', 'secp256r1', 'secp384r1'],
      middleboxCompat: false,
      minRsaBits: 1024,
      now: RFC_NOW,
      extensionHook: (point, exts) => {
        if (point !== 'ClientHello') return exts;
        hello++;
        if (hello === 1) return rfcOrder(firstTemplate)(exts);
        return rfcOrder(extensionsOf(h(S5.clientHello2)))(exts);
      },
    },
  });
}

const events = (c: TlsConnection) => c.takeEvents();
const fatalOf = (evs: TlsEvent[]) => evs.find((e) => e.type === 'fatal');

for (const [name, provider] of [
  ['node', nodeProvider],
  ['noble', nobleProvider],
] as const) {
  describe(`RFC 8448 traces (${name} provider)`, function () {
    it('§3 simple 1-RTT, client side: every record we send equals the RFC', () => {
      const keyLog: string[] = [];
      const c = rfcClient(provider, S3.clientPool, extensionsOf(h(S3.clientHello)), keyLog);
      c.start();
      assert.equal(hx(Buffer.concat(c.takeOutput())), S3.clientHello);
      c.receive(h(S3.serverHello));
      c.receive(h(S3.serverFlight));
      const evs = events(c);
      assert.equal(fatalOf(evs), undefined, JSON.stringify(fatalOf(evs)));
      assert.ok(evs.some((e) => e.type === 'established'));
      assert.equal(hx(Buffer.concat(c.takeOutput())), S3.clientFinished);
      assert.ok(
        keyLog.includes(
          `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${S3.clientHello.slice(22, 86)} ${S3.clientHsSecret}`,
        ),
      );
      assert.ok(
        keyLog.includes(
          `SERVER_HANDSHAKE_TRAFFIC_SECRET ${S3.clientHello.slice(22, 86)} ${S3.serverHsSecret}`,
        ),
      );
      c.receive(h(S3.newSessionTicket));
      c.receive(h(S3.serverAppRecord));
      const data = events(c).find((e) => e.type === 'data') as Extract<TlsEvent, { type: 'data' }>;
      assert.equal(hx(data.data), S3.appData);
      c.send(h(S3.appData));
      assert.equal(hx(Buffer.concat(c.takeOutput())), S3.clientAppRecord);
      c.close();
      assert.equal(hx(Buffer.concat(c.takeOutput())), S3.clientCloseNotify);
      c.receive(h(S3.serverCloseNotify));
      assert.ok(events(c).some((e) => e.type === 'peer-closed'));
    });

    it('§3 simple 1-RTT, server side: ServerHello and the encrypted flight equal the RFC byte for byte; later records open to the RFC bytes', () => {
      const keyLog: string[] = [];
      const s = new TlsConnection({
        role: 'server',
        provider,
        random: pool(S3.serverPool),
        keyLog: (l) => keyLog.push(l),
        server: {
          certificates: new CertificateStore([rfcServerKey()]),
          groups: ['x25519'],
          extensionHook: (point, exts) => {
            // The RFC's server lists key_share before supported_versions.
            if (point === 'ServerHello')
              return [...exts].sort((a, b) => (a.type === 51 ? -1 : b.type === 51 ? 1 : 0));
            // Its EncryptedExtensions also carry supported_groups (RFC 8446 §4.2.7), and come first.
            if (point === 'EncryptedExtensions') return rfcServerOrder(S3.encryptedExtensions, 4)(exts);
            return exts;
          },
        },
      });
      s.receive(h(S3.clientHello));
      assert.equal(fatalOf(events(s)), undefined);
      const out = s.takeOutput();
      assert.equal(hx(out[0]!), S3.serverHello);
      const random = S3.clientHello.slice(22, 86);
      assert.ok(keyLog.includes(`CLIENT_HANDSHAKE_TRAFFIC_SECRET ${random} ${S3.clientHsSecret}`));
      assert.ok(keyLog.includes(`SERVER_HANDSHAKE_TRAFFIC_SECRET ${random} ${S3.serverHsSecret}`));

      // The encrypted flight: under the RFC's handshake key, our records carry the RFC's
      // EncryptedExtensions, Certificate, CertificateVerify (same salt, same signature) and Finished.
      const rfcFlight = S3.encryptedExtensions + S3.certificate + S3.certificateVerify + S3.serverFinished;
      const theirs = openRecords(S3.serverHsKey, S3.serverHsIv, h(S3.serverFlight));
      assert.deepEqual(theirs, [{ type: 22, content: rfcFlight }]);
      const ours = openRecords(S3.serverHsKey, S3.serverHsIv, Buffer.concat(out.slice(1)));
      assert.ok(ours.length >= 1);
      assert.ok(ours.every((r) => r.type === 22));
      assert.equal(ours.map((r) => r.content).join(''), rfcFlight);
      // The flight goes out as one record, as the RFC's server sends it: byte for byte.
      assert.equal(hx(Buffer.concat(out.slice(1))), S3.serverFlight);

      // The RFC's client Finished and application data are accepted.
      s.receive(h(S3.clientFinished));
      let evs = events(s);
      assert.equal(fatalOf(evs), undefined, JSON.stringify(fatalOf(evs)));
      assert.ok(evs.some((e) => e.type === 'established'));
      s.receive(h(S3.clientAppRecord));
      evs = events(s);
      assert.equal(fatalOf(evs), undefined, JSON.stringify(fatalOf(evs)));
      assert.deepEqual(
        evs.filter((e) => e.type === 'data').map((e) => hx((e as Extract<TlsEvent, { type: 'data' }>).data)),
        [S3.appData],
      );

      // Our application data and close_notify open under the RFC's server application key to the
      // RFC's bytes; the RFC's records sit one sequence number later (after its NewSessionTicket).
      s.send(h(S3.appData));
      s.close();
      const tail = openRecords(S3.serverApKey, S3.serverApIv, Buffer.concat(s.takeOutput()));
      const rfcTail = openRecords(
        S3.serverApKey,
        S3.serverApIv,
        h(S3.serverAppRecord + S3.serverCloseNotify),
        1,
      );
      assert.deepEqual(rfcTail, [
        { type: 23, content: S3.appData },
        { type: 21, content: '0100' },
      ]);
      assert.deepEqual(tail, rfcTail);

      s.receive(h(S3.clientCloseNotify));
      evs = events(s);
      assert.equal(fatalOf(evs), undefined, JSON.stringify(fatalOf(evs)));
      assert.ok(evs.some((e) => e.type === 'peer-closed'));
    });

    it('§5 HelloRetryRequest, client side: both ClientHellos and the Finished equal the RFC', () => {
      const c = rfcClient(provider, S5.clientPool, extensionsOf(h(S5.clientHello1)));
      c.start();
      assert.equal(hx(Buffer.concat(c.takeOutput())), S5.clientHello1);
      c.receive(h(S5.helloRetryRequest));
      assert.equal(fatalOf(events(c)), undefined);
      assert.equal(hx(Buffer.concat(c.takeOutput())), S5.clientHello2);
      c.receive(h(S5.serverHello));
      c.receive(h(S5.serverFlight));
      const evs = events(c);
      assert.equal(fatalOf(evs), undefined, JSON.stringify(fatalOf(evs)));
      assert.equal(hx(Buffer.concat(c.takeOutput())), S5.clientFinished);
      c.close();
      assert.equal(hx(Buffer.concat(c.takeOutput())), S5.clientCloseNotify);
    });
  });
}

describe('RFC 8448 §3 test signer (fixed-salt RSA-PSS)', function () {
  it("recovers the RFC's CertificateVerify salt, reproduces the RFC's signature with it, and verifies with node:crypto", () => {
    const content = rfcCertificateVerifyContent();
    const publicKey = new X509Certificate(rfcCertificateDer()).publicKey;
    const pss = { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    assert.ok(
      verify('sha256', content, pss, rfcSignature()),
      "the RFC's signature verifies with node:crypto",
    );
    const salt = recoverPssSalt(RFC8448_SERVER_KEY, 'sha256', content, rfcSignature());
    assert.equal(salt.length, 32);
    assert.equal(hx(signPssWithSalt(RFC8448_SERVER_KEY, 'sha256', content, salt)), hx(rfcSignature()));
    // The signer with other salts: node:crypto verifies its signatures, and the salt comes back out.
    const message = randomBytes(100);
    for (let i = 0; i < 20; i++) {
      const otherSalt = randomBytes(32);
      const signer = fixedSaltPssSigner(RFC8448_SERVER_KEY, otherSalt);
      assert.deepEqual(signer.schemes, ['rsa_pss_rsae_sha256']);
      const sig = signer.sign('rsa_pss_rsae_sha256', message);
      assert.ok(verify('sha256', message, pss, sig));
      assert.equal(hx(recoverPssSalt(RFC8448_SERVER_KEY, 'sha256', message, sig)), hx(otherSalt));
      assert.ok(!verify('sha256', randomBytes(100), pss, sig));
    }
    // node:crypto's own PSS signature with the PEM built from the RFC's integers decodes too.
    const nodeSig = sign('sha256', message, {
      key: rfc8448ServerKeyPem(),
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    });
    assert.equal(recoverPssSalt(RFC8448_SERVER_KEY, 'sha256', message, nodeSig).length, 32);
    assert.throws(
      () => recoverPssSalt(RFC8448_SERVER_KEY, 'sha256', randomBytes(100), nodeSig),
      /inconsistent/,
    );
  });
});
