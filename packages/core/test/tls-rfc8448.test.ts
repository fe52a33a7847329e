/**
 * RFC 8448 traces reproduced with the RFC's own randomness and keys (values as kept
 * machine-readable by Botan's transcripts.vec, which carries the RFC's numbers).
 *
 * Client side, §3 and §5: every byte our client sends equals the RFC's, through the Finished
 * record, application data and close_notify. Server side, §3: with the RFC's certificate and RSA
 * key (§2), its CertificateVerify salt recovered from its signature and reused by a test-only
 * signer (RSA-PSS is randomized), and its ticket bytes and NewSessionTicket early_data extension
 * injected (a test ticketer and the extension hook; the ticket lifetime is configuration, its
 * age_add comes from the RFC's random pool), every record the RFC's server sends equals ours byte
 * for byte: ServerHello, the encrypted flight, NewSessionTicket, application data, close_notify.
 *
 * §4 (resumption with 0-RTT): we never send or accept early data. Our client, given the ticket
 * it kept from §3 and the RFC's clock, sends the RFC's resumption ClientHello byte for byte (its
 * early_data and padding extensions come from the RFC's message through the extension hook; the
 * PSK, obfuscated age and binder are ours), accepts the RFC's server flight, and sends the RFC's
 * application data and close_notify records byte for byte. It leaves out the RFC's 0-RTT record
 * and EndOfEarlyData, so its Finished, whose transcript would include EndOfEarlyData, differs in
 * verify_data alone. Our server answers the RFC's ClientHello with the RFC's ServerHello, skips
 * the 0-RTT records, and resumes without early_data in EncryptedExtensions.
 */
import assert from 'node:assert/strict';
import {
  X509Certificate,
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { CertificateStore } from '../src/index.js';
import type { CertifiedKey } from '../src/tls/engine.js';
import type { SessionTicketer, TicketState } from '../src/tls/session-ticket.js';
import type { ClientHandshakeConfig } from '../src/tls/client-handshake.js';
import { KeySchedule } from '../src/tls/key-schedule.js';
import { MemorySessionCache } from '../src/tls/session-cache.js';
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

/** Our generated key_share, cookie and pre_shared_key, everything else as the RFC's hello had it. */
function rfcOrder(template: Extension[]) {
  return (ours: Extension[]) =>
    template.map(
      (t) => ours.find((o) => o.type === t.type && (t.type === 51 || t.type === 44 || t.type === 41)) ?? t,
    );
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
  // RFC 8448 §3, "{server} construct a NewSessionTicket handshake message": lifetime 30 s, age_add
  // fad6aac5, nonce 0000, the ticket, and early_data allowing 1024 bytes.
  newSessionTicketMessage:
    '040000c90000001efad6aac502000000b2' +
    '2c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357' +
    '0008002a000400000400',
  ticket:
    '2c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357',
  // RFC 8448 §3, "{server} derive secret for resumption ... PSK" (nonce 0000).
  resumptionPsk: '4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3',
};

/**
 * Stands in for our ticket sealing in the RFC's traces: the RFC's ticket is opaque bytes of its
 * server's, so seal hands them out (and keeps the state it was asked to seal), and open maps them
 * back to the state §3 issued.
 */
class RfcTicketer implements SessionTicketer {
  readonly sealed: TicketState[] = [];
  constructor(private readonly opens: TicketState | undefined = undefined) {}
  seal(state: TicketState): Uint8Array {
    this.sealed.push(state);
    return h(S3.ticket);
  }
  open(ticket: Uint8Array): TicketState | undefined {
    return hx(ticket) === S3.ticket ? this.opens : undefined;
  }
}

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

function rfcClient(
  provider: CryptoProvider,
  randomPool: string,
  template: Extension[],
  keyLog?: string[],
  extra: Pick<ClientHandshakeConfig, 'sessionCache' | 'now'> = {},
) {
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
      ...extra,
    },
  });
}

/** RFC 8448 §4, "Resumed 0-RTT Handshake", 6 ms after §3's ticket arrived. */
const S4 = {
  now: () => new Date(RFC_NOW().getTime() + 6),
  clientPool:
    '1bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d95bff91188283846dd6a2134ef7180ca2b0b14fb10dce707b5098c0dddc813b2df',
  serverPool:
    '3ccfd2dec890222763472ae8136777c9d7358777bb66e91ea5122495f559ea2dde5b4476e7b490b2652d338acbf2948066f255f9440e23b98fc69835298dc107',
  clientHello:
    '1603010200010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d95000006130113031302010001cd0000000b0009000006736572766572ff01000100000a00140012001d00170018001901000101010201030104003300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b002a0000002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c0002400100150057' +
    '00'.repeat(0x57) +
    '002900dd00b800b2' +
    S3.ticket +
    'fad6aacb' +
    '0021203add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d',
  // RFC 8448 §4, "{client} compute resumption binder ... binder".
  binder: '3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d',
  clientEarlyData: '1703030017ab1df420e75c457a7cc5d2844f76d5aee4b4edbf049be0',
  serverHello:
    '16030300600200005c03033ccfd2dec890222763472ae8136777c9d7358777bb66e91ea5122495f559ea2d00130100003400290002000000330024001d0020121761ee42c333e1b9e77b60dd57c2053cd94512ab47f115e86eff50942cea31002b00020304',
  serverFlight:
    '1703030061dc48237b4b879f50d0d4d262ea8b4716eb40ddc1eb957e11126e8a7149c2d012d37a7115957e64ce30008b9e0323f2c05a9c1c77b4f37849a695ab255060a33fee770ca95cb8486bfd0843b87024865ca35cc41c4e515c64dcb1369f98635bc7a5',
  encryptedExtensions:
    '080000280026000a00140012001d00170018001901000101010201030104001c0002400100000000002a0000',
  serverFinished: '1400002048d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0dd1a34b2',
  /** Under the client's early traffic key: EndOfEarlyData, which we never send. */
  clientEndOfEarlyData: '1703030015aca6fc944841298df99593725f9bf9754429b12f09',
  clientFinished:
    '170303003500f8b467d14cf22a4b3f0b6ae0d8e6cc8d08e0db3515ef5c2bdf1922eafbb70009964716d834fb70c3d2a56c5b1f5f6bdba6c333cf',
  clientAppRecord:
    '1703030043b1cebce242aa201be9ae5e1cb2a9aa4b33d4e866af1edb068919237741aa031d7a74d491c99b9d4e232b74206bc6fbaa04fe78be44a9b4f54320a17eb76992afac3103',
  serverAppRecord:
    '1703030043275e9f20acff57bc000657d3867df039cccf79047884cf75771746f740b5a83f462a0954c3581393a203a25a7dd14141ef1a37900cdb62ff62dee1ba39ab2590cbf194',
  clientCloseNotify: '17030300130facce3246bdfc6369838d6a82ae6de5d422dc',
  serverCloseNotify: '17030300135b18af444e8e1eec7158fb62d8f2577d37ba5d',
};

/** The state §3's server sealed into its ticket, as our ticketer would open it. */
const S3_TICKET_STATE: TicketState = {
  psk: h(S3.resumptionPsk),
  suite: 0x1301,
  issuedAt: RFC_NOW().getTime(),
  ageAdd: 0xfad6aac5,
  lifetime: 30,
  serverName: 'server',
};

/** Seals one TLS 1.3 AES-128-GCM record (RFC 8446 §5.2) with node:crypto, independently of ours. */
function sealRecord(key: Uint8Array, iv: Uint8Array, seq: number, type: number, content: Uint8Array) {
  const nonce = Uint8Array.from(iv);
  for (let i = 0; i < 8; i++) nonce[11 - i] ^= Number((BigInt(seq) >> BigInt(8 * i)) & 0xffn);
  const header = Uint8Array.of(23, 3, 3, 0, content.length + 1 + 16);
  const c = createCipheriv('aes-128-gcm', key, nonce);
  c.setAAD(header);
  const body = Buffer.concat([c.update(content), c.update(Uint8Array.of(type)), c.final(), c.getAuthTag()]);
  return Buffer.concat([header, body]);
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

    it('§3 simple 1-RTT, server side: every record the RFC server sends equals ours byte for byte, NewSessionTicket, application data and close_notify included', () => {
      const keyLog: string[] = [];
      const ticketer = new RfcTicketer();
      const s = new TlsConnection({
        role: 'server',
        provider,
        random: pool(S3.serverPool),
        keyLog: (l) => keyLog.push(l),
        server: {
          certificates: new CertificateStore([rfcServerKey()]),
          groups: ['x25519'],
          now: RFC_NOW,
          // The RFC's ticket lives 30 s; its bytes come from the test ticketer.
          sessionTickets: { lifetimeSeconds: 30, ticketer },
          extensionHook: (point, exts) => {
            // The RFC's server lists key_share before supported_versions.
            if (point === 'ServerHello')
              return [...exts].sort((a, b) => (a.type === 51 ? -1 : b.type === 51 ? 1 : 0));
            // Its EncryptedExtensions also carry supported_groups (RFC 8446 §4.2.7), and come first.
            if (point === 'EncryptedExtensions') return rfcServerOrder(S3.encryptedExtensions, 4)(exts);
            // Its ticket allows 1024 bytes of early data; ours never carry early_data.
            if (point === 'NewSessionTicket') return [...exts, { type: 42, data: h('00000400') }];
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

      // The RFC's client Finished is accepted; the NewSessionTicket follows, under the server's
      // application key (sequence number 0), as the RFC's: with its PSK, age_add, nonce and ticket.
      s.receive(h(S3.clientFinished));
      let evs = events(s);
      assert.equal(fatalOf(evs), undefined, JSON.stringify(fatalOf(evs)));
      assert.ok(evs.some((e) => e.type === 'established'));
      const ticketRecord = s.takeOutput();
      assert.deepEqual(openRecords(S3.serverApKey, S3.serverApIv, Buffer.concat(ticketRecord)), [
        { type: 22, content: S3.newSessionTicketMessage },
      ]);
      assert.equal(hx(Buffer.concat(ticketRecord)), S3.newSessionTicket);
      assert.equal(ticketer.sealed.length, 1);
      assert.equal(hx(ticketer.sealed[0]!.psk), S3.resumptionPsk);
      assert.equal(ticketer.sealed[0]!.ageAdd, 0xfad6aac5);
      assert.equal(ticketer.sealed[0]!.issuedAt, RFC_NOW().getTime());
      assert.equal(ticketer.sealed[0]!.serverName, 'server');
      s.receive(h(S3.clientAppRecord));
      evs = events(s);
      assert.equal(fatalOf(evs), undefined, JSON.stringify(fatalOf(evs)));
      assert.deepEqual(
        evs.filter((e) => e.type === 'data').map((e) => hx((e as Extract<TlsEvent, { type: 'data' }>).data)),
        [S3.appData],
      );

      // Our application data and close_notify open under the RFC's server application key to the
      // RFC's bytes at the RFC's sequence numbers (after the NewSessionTicket), and equal its records.
      s.send(h(S3.appData));
      const appRecord = Buffer.concat(s.takeOutput());
      s.close();
      const closeRecord = Buffer.concat(s.takeOutput());
      const tail = openRecords(S3.serverApKey, S3.serverApIv, Buffer.concat([appRecord, closeRecord]), 1);
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
      assert.equal(hx(appRecord), S3.serverAppRecord);
      assert.equal(hx(closeRecord), S3.serverCloseNotify);

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

    it("§4 resumption: our binder over the RFC's truncated ClientHello equals the RFC's", () => {
      const hello = h(S4.clientHello).subarray(5);
      assert.equal(hx(hello.subarray(hello.length - 32)), S4.binder);
      // RFC 8446 §4.2.11.2: the binders list (u16 length, u8 length, 32 bytes) is cut off.
      const truncated = hello.subarray(0, hello.length - (2 + 1 + 32));
      const schedule = new KeySchedule(provider, CIPHER_SUITES[0]!);
      assert.equal(hx(schedule.binder(h(S3.resumptionPsk), schedule.hash(truncated))), S4.binder);
      // Another PSK, or a ClientHello one byte different, gives another binder.
      const other = Uint8Array.from(truncated);
      other[40] ^= 1;
      assert.notEqual(hx(schedule.binder(h(S3.resumptionPsk), schedule.hash(other))), S4.binder);
      assert.notEqual(hx(schedule.binder(new Uint8Array(32), schedule.hash(truncated))), S4.binder);
    });

    it("§3 then §4, client side: §3's ticket is kept with the RFC's PSK; the resumed handshake sends the RFC's ClientHello, application data and close_notify, and a Finished that differs only by the EndOfEarlyData it does not send", () => {
      const cache = new MemorySessionCache();
      const first = rfcClient(provider, S3.clientPool, extensionsOf(h(S3.clientHello)), undefined, {
        sessionCache: cache,
      });
      first.start();
      assert.equal(hx(Buffer.concat(first.takeOutput())), S3.clientHello);
      first.receive(h(S3.serverHello));
      first.receive(h(S3.serverFlight));
      first.receive(h(S3.newSessionTicket));
      assert.equal(fatalOf(events(first)), undefined);
      assert.equal(cache.size, 1);
      const kept = cache.take('server', RFC_NOW().getTime())!;
      assert.equal(hx(kept.psk), S3.resumptionPsk);
      assert.equal(hx(kept.ticket), S3.ticket);
      assert.equal(kept.ageAdd, 0xfad6aac5);
      assert.equal(kept.lifetimeSeconds, 30);
      assert.equal(kept.cipherSuite, 0x1301);
      assert.equal(kept.receivedAt, RFC_NOW().getTime());
      cache.put(kept);

      const keyLog: string[] = [];
      // Early_data and padding come from the RFC's ClientHello through the hook: ours sends no
      // early_data by itself. Everything else, pre_shared_key with the obfuscated age and the
      // binder included, is ours; the age is 6 ms on the RFC's clock.
      const c = rfcClient(provider, S4.clientPool, extensionsOf(h(S4.clientHello)), keyLog, {
        sessionCache: cache,
        now: S4.now,
      });
      c.start();
      assert.equal(cache.size, 0, 'a ticket is used once');
      assert.equal(hx(Buffer.concat(c.takeOutput())), S4.clientHello);
      c.receive(h(S4.serverHello));
      c.receive(h(S4.serverFlight));
      const evs = events(c);
      assert.equal(fatalOf(evs), undefined, JSON.stringify(fatalOf(evs)));
      const est = evs.find((e) => e.type === 'established') as Extract<TlsEvent, { type: 'established' }>;
      assert.equal(est.result.resumed, true);
      assert.equal(
        hx(est.result.peerCertificates[0]!),
        hx(rfcCertificateDer()),
        "the original session's certificate",
      );
      // The RFC's client sends EndOfEarlyData under its early traffic key, then a Finished whose
      // transcript includes it (RFC 8446 §4.4.1). We sent no 0-RTT: our Finished goes under the
      // same key and sequence number, over the transcript through the server Finished.
      const finished = Buffer.concat(c.takeOutput());
      const secret = (label: string) =>
        h(keyLog.find((l) => l.startsWith(`${label} ${S4.clientHello.slice(22, 86)} `))!.split(' ')[2]!);
      const schedule = new KeySchedule(provider, CIPHER_SUITES[0]!);
      const clientHsSecret = secret('CLIENT_HANDSHAKE_TRAFFIC_SECRET');
      const clientHs = schedule.trafficKeys(clientHsSecret);
      const transcript = createHash('sha256')
        .update(h(S4.clientHello).subarray(5))
        .update(h(S4.serverHello).subarray(5))
        .update(h(S4.encryptedExtensions + S4.serverFinished));
      const verifyData = (hash: Buffer) =>
        hx(schedule.finishedVerifyData(clientHsSecret, new Uint8Array(hash)));
      assert.deepEqual(openRecords(hx(clientHs.key), hx(clientHs.iv), finished), [
        { type: 22, content: '14000020' + verifyData(transcript.copy().digest()) },
      ]);
      assert.deepEqual(openRecords(hx(clientHs.key), hx(clientHs.iv), h(S4.clientFinished)), [
        { type: 22, content: '14000020' + verifyData(transcript.update(h('05000000')).digest()) },
      ]);
      assert.equal(finished.subarray(0, 9).toString('hex'), S4.clientFinished.slice(0, 18));
      c.receive(h(S4.serverAppRecord));
      const data = events(c).find((e) => e.type === 'data') as Extract<TlsEvent, { type: 'data' }>;
      assert.equal(hx(data.data), S3.appData);
      c.send(h(S3.appData));
      assert.equal(hx(Buffer.concat(c.takeOutput())), S4.clientAppRecord);
      c.close();
      assert.equal(hx(Buffer.concat(c.takeOutput())), S4.clientCloseNotify);
      c.receive(h(S4.serverCloseNotify));
      assert.ok(events(c).some((e) => e.type === 'peer-closed'));
      // Key-log lines of the resumed session: the secrets that open the RFC's records.
      const hsKeys = schedule.trafficKeys(secret('SERVER_HANDSHAKE_TRAFFIC_SECRET'));
      assert.deepEqual(openRecords(hx(hsKeys.key), hx(hsKeys.iv), h(S4.serverFlight)), [
        { type: 22, content: S4.encryptedExtensions + S4.serverFinished },
      ]);
      const apKeys = schedule.trafficKeys(secret('CLIENT_TRAFFIC_SECRET_0'));
      assert.deepEqual(openRecords(hx(apKeys.key), hx(apKeys.iv), h(S4.clientAppRecord)), [
        { type: 23, content: S3.appData },
      ]);
    });

    it("§4, server side: the RFC's resumption ClientHello gets the RFC's ServerHello; the 0-RTT records are skipped and the handshake resumes without early_data", () => {
      const keyLog: string[] = [];
      const s = new TlsConnection({
        role: 'server',
        provider,
        random: pool(S4.serverPool),
        keyLog: (l) => keyLog.push(l),
        server: {
          certificates: new CertificateStore([rfcServerKey()]),
          groups: ['x25519'],
          now: S4.now,
          // The RFC's §4 server sends no NewSessionTicket.
          sessionTickets: { count: 0, ticketer: new RfcTicketer(S3_TICKET_STATE) },
          extensionHook: (point, exts) => {
            // The RFC's order: pre_shared_key, key_share, supported_versions.
            const order = [41, 51, 43];
            if (point === 'ServerHello')
              return [...exts].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
            // The RFC's EncryptedExtensions but for early_data, which we never accept.
            if (point === 'EncryptedExtensions') return rfcServerOrder(S3.encryptedExtensions, 4)(exts);
            return exts;
          },
        },
      });
      s.receive(h(S4.clientHello));
      s.receive(h(S4.clientEarlyData));
      assert.equal(fatalOf(events(s)), undefined);
      const out = s.takeOutput();
      assert.equal(hx(out[0]!), S4.serverHello);
      const secret = (label: string) =>
        h(keyLog.find((l) => l.startsWith(`${label} ${S4.clientHello.slice(22, 86)} `))!.split(' ')[2]!);
      const schedule = new KeySchedule(provider, CIPHER_SUITES[0]!);
      // Our handshake key is the RFC's: it opens the RFC's flight...
      const serverHs = schedule.trafficKeys(secret('SERVER_HANDSHAKE_TRAFFIC_SECRET'));
      assert.deepEqual(openRecords(hx(serverHs.key), hx(serverHs.iv), h(S4.serverFlight)), [
        { type: 22, content: S4.encryptedExtensions + S4.serverFinished },
      ]);
      // ...and ours carries EncryptedExtensions without early_data, no Certificate, then Finished.
      const ours = openRecords(hx(serverHs.key), hx(serverHs.iv), Buffer.concat(out.slice(1)));
      const flight = ours.map((r) => r.content).join('');
      assert.ok(ours.every((r) => r.type === 22));
      assert.ok(flight.startsWith(S3.encryptedExtensions), 'EncryptedExtensions without early_data');
      assert.equal(
        flight.length,
        S3.encryptedExtensions.length + S4.serverFinished.length,
        'then Finished only',
      );
      assert.equal(
        flight.slice(S3.encryptedExtensions.length, S3.encryptedExtensions.length + 8),
        '14000020',
      );

      // The RFC client's EndOfEarlyData, under its early key, is skipped like its 0-RTT data.
      s.receive(h(S4.clientEndOfEarlyData));
      assert.deepEqual(events(s), []);
      // A client Finished over our transcript, under the RFC's client handshake key, completes it.
      const clientHsSecret = secret('CLIENT_HANDSHAKE_TRAFFIC_SECRET');
      const transcript = createHash('sha256')
        .update(h(S4.clientHello).subarray(5))
        .update(h(S4.serverHello).subarray(5))
        .update(h(flight))
        .digest();
      const verify = schedule.finishedVerifyData(clientHsSecret, new Uint8Array(transcript));
      const clientHs = schedule.trafficKeys(clientHsSecret);
      s.receive(sealRecord(clientHs.key, clientHs.iv, 0, 22, Buffer.concat([h('14000020'), verify])));
      const evs = events(s);
      assert.equal(fatalOf(evs), undefined, JSON.stringify(fatalOf(evs)));
      const est = evs.find((e) => e.type === 'established') as Extract<TlsEvent, { type: 'established' }>;
      assert.equal(est.result.resumed, true);
      assert.equal(est.result.signatureScheme, undefined);
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
