/**
 * RFC 8448 traces reproduced with the RFC's own randomness and keys (values as kept
 * machine-readable by Botan's transcripts.vec, which carries the RFC's numbers).
 *
 * Client side, §3 and §5: every byte our client sends equals the RFC's, through the Finished
 * record, application data and close_notify. Server side, §3: the ServerHello record and the
 * handshake traffic secrets equal the RFC's. (The RFC's server signs with RSA-PSS, whose salt is
 * random, so its later server records cannot be reproduced by any implementation.)
 */
import assert from 'node:assert/strict';
import { CertificateStore, generateSelfSigned } from '../src/index.js';
import { TlsConnection, type TlsEvent } from '../src/tls/connection.js';
import { CIPHER_SUITES } from '../src/tls/constants.js';
import type { Extension } from '../src/tls/messages.js';
import { nodeProvider, nobleProvider } from '../src/crypto/default-provider.js';
import type { CryptoProvider } from '../src/crypto/provider.js';

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
  return (ours: Extension[]) => template.map((t) => ours.find((o) => o.type === t.type && (t.type === 51 || t.type === 44)) ?? t);
}

const suitesInRfcOrder = [CIPHER_SUITES[0]!, CIPHER_SUITES[2]!, CIPHER_SUITES[1]!];
const RFC_NOW = () => new Date(1651826546000);

const S3 = {
  clientPool: 'cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece749af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005',
  serverPool: 'a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21efad6aac5',
  clientHello:
    '16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001',
  serverHello:
    '160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304',
  serverFlight:
    '17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13bd9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd610928d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e750edc53370d2b',
  clientFinished: '170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546',
  newSessionTicket:
    '17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d41d6af8f6b580dcf3d11d63c758db289a015940252f55713e061dc13e078891a38efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e09c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406f16e3fc181a77ca475840025db2f0a77f81b5ab05b94c01346755f69232c86519d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf15985684f',
  appData: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031',
  clientAppRecord: '1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4',
  serverAppRecord: '17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d',
  clientCloseNotify: '1703030013c9872760655666b74d7ff1153efd6db6d0b0e3',
  serverCloseNotify: '1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9',
  // RFC 8448 §3, "derive secret for handshake ... tls13 c hs traffic / s hs traffic".
  clientHsSecret: 'b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21',
  serverHsSecret: 'b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38',
};

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
  clientFinished: '1703030035d74f1923c662fd34137c6f502f3dd2b93d951d1b3bc97e42afe23c31abea92fe91b474999e85e3b791ce252fe8c3e9f939a4120cb2',
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

for (const [name, provider] of [['node', nodeProvider], ['noble', nobleProvider]] as const) {
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
      assert.ok(keyLog.includes(`CLIENT_HANDSHAKE_TRAFFIC_SECRET ${S3.clientHello.slice(22, 86)} ${S3.clientHsSecret}`));
      assert.ok(keyLog.includes(`SERVER_HANDSHAKE_TRAFFIC_SECRET ${S3.clientHello.slice(22, 86)} ${S3.serverHsSecret}`));
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

    it('§3 simple 1-RTT, server side: the ServerHello record and handshake secrets equal the RFC', async () => {
      const key = await generateSelfSigned({ hostname: 'server' });
      const keyLog: string[] = [];
      const s = new TlsConnection({
        role: 'server',
        provider,
        random: pool(S3.serverPool),
        keyLog: (l) => keyLog.push(l),
        server: {
          certificates: new CertificateStore([key]),
          groups: ['x25519'],
          // The RFC's server lists key_share before supported_versions.
          extensionHook: (point, exts) => (point === 'ServerHello' ? [...exts].sort((a, b) => (a.type === 51 ? -1 : b.type === 51 ? 1 : 0)) : exts),
        },
      });
      s.receive(h(S3.clientHello));
      assert.equal(fatalOf(events(s)), undefined);
      const out = s.takeOutput();
      assert.equal(hx(out[0]!), S3.serverHello);
      const random = S3.clientHello.slice(22, 86);
      assert.ok(keyLog.includes(`CLIENT_HANDSHAKE_TRAFFIC_SECRET ${random} ${S3.clientHsSecret}`));
      assert.ok(keyLog.includes(`SERVER_HANDSHAKE_TRAFFIC_SECRET ${random} ${S3.serverHsSecret}`));
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
