import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { hkdf32, openAesGcm, sealAesGcm } from './aead.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// NIST SP 800-38D AES-256-GCM known answers: test cases 13-16 of McGrew & Viega,
// "The Galois/Counter Mode of Operation (GCM)" (the 256-bit-key, 96-bit-IV cases).
const K15 = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308';
const IV15 = 'cafebabefacedbaddecaf888';
const P15 =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
  '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
const C15 =
  '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
  '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad';
const VECTORS = [
  {
    name: 'test case 13 (empty plaintext)',
    key: '0'.repeat(64),
    iv: '0'.repeat(24),
    plaintext: '',
    aad: '',
    ciphertext: '',
    tag: '530f8afbc74536b9a963b4f1c4cb738b',
  },
  {
    name: 'test case 14 (one zero block)',
    key: '0'.repeat(64),
    iv: '0'.repeat(24),
    plaintext: '0'.repeat(32),
    aad: '',
    ciphertext: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    name: 'test case 15 (64 bytes, no AAD)',
    key: K15,
    iv: IV15,
    plaintext: P15,
    aad: '',
    ciphertext: C15,
    tag: 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    name: 'test case 16 (60 bytes with AAD)',
    key: K15,
    iv: IV15,
    plaintext: P15.slice(0, 120),
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    ciphertext: C15.slice(0, 120),
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
] as const;

describe('AES-256-GCM seal/open (the helper every encrypted frame uses)', () => {
  for (const v of VECTORS) {
    it(`matches NIST SP 800-38D ${v.name}`, () => {
      const sealed = sealAesGcm(hex(v.key), hex(v.iv), hex(v.plaintext), hex(v.aad));
      expect(sealed.toString('hex')).toBe(v.ciphertext + v.tag);
      expect(openAesGcm(hex(v.key), hex(v.iv), sealed, hex(v.aad)).toString('hex')).toBe(
        v.plaintext,
      );
    });
  }

  it('rejects a flipped bit anywhere (ciphertext, tag, AAD, nonce, key) with no plaintext', () => {
    const v = VECTORS[3];
    const sealed = hex(v.ciphertext + v.tag);
    const cases: [Buffer, Buffer, Buffer, Buffer][] = [];
    for (const at of [0, 30, sealed.length - 16, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 1;
      cases.push([hex(v.key), hex(v.iv), bad, hex(v.aad)]);
    }
    const badAad = hex(v.aad);
    badAad[0]! ^= 0x80;
    cases.push([hex(v.key), hex(v.iv), sealed, badAad]);
    const badIv = hex(v.iv);
    badIv[11]! ^= 1;
    cases.push([hex(v.key), badIv, sealed, hex(v.aad)]);
    const badKey = hex(v.key);
    badKey[31]! ^= 1;
    cases.push([badKey, hex(v.iv), sealed, hex(v.aad)]);
    cases.push([hex(v.key), hex(v.iv), sealed.subarray(0, 10), hex(v.aad)]);
    for (const [key, iv, data, aad] of cases) {
      let result: unknown;
      try {
        result = openAesGcm(key, iv, data, aad);
      } catch (error) {
        result = error;
      }
      expect(isMajraError(result, 'ERR_IPC_AUTH_FAILED')).toBe(true);
    }
  });

  it('round-trips the reference test vector (key 32 x 0x2A, zero nonce)', () => {
    const key = Buffer.alloc(32, 0x2a);
    const nonce = Buffer.alloc(12);
    const text = Buffer.from('hello encrypted world');
    const sealed = sealAesGcm(key, nonce, text);
    expect(sealed.length).toBe(text.length + 16);
    expect(openAesGcm(key, nonce, sealed).equals(text)).toBe(true);
  });
});

describe('HKDF-SHA256', () => {
  it('matches RFC 5869 test case 1 (first 32 bytes of the OKM)', () => {
    const okm = hkdf32(
      Buffer.alloc(22, 0x0b),
      hex('000102030405060708090a0b0c'),
      hex('f0f1f2f3f4f5f6f7f8f9'),
    );
    expect(okm.toString('hex')).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf',
    );
  });
});
