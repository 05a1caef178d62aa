import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CHECKSUM_TRAILER_BYTES, openChecksum, sealChecksum, sha256Hex } from './checksum.js';
import { InvalidFileError } from './errors.js';

describe('sealChecksum / openChecksum', () => {
  const payload = new TextEncoder().encode('some checkpoint bytes, 0123456789');

  it('round-trips, and the trailer holds the sha256 that sha256sum would print', async () => {
    const sealed = await sealChecksum(payload);
    expect(sealed.length).toBe(payload.length + CHECKSUM_TRAILER_BYTES);
    expect(Array.from(await openChecksum(sealed, 'f.bin'))).toEqual(Array.from(payload));
    const hex = createHash('sha256').update(payload).digest('hex');
    expect(await sha256Hex(payload)).toBe(hex);
    // chunks hash as their concatenation
    expect(await sha256Hex([payload.subarray(0, 7), payload.subarray(7, 7), payload.subarray(7)])).toBe(hex);
    expect(Buffer.from(sealed.subarray(payload.length, payload.length + 32)).toString('hex')).toBe(hex);
  });

  it('refuses every single flipped byte and a truncation, naming the file', async () => {
    const sealed = await sealChecksum(payload);
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i]! ^= 0x01;
      await expect(openChecksum(bad, '/run/ckpt-1.djsckpt')).rejects.toThrow(/^\/run\/ckpt-1\.djsckpt: /);
    }
    const cut = openChecksum(sealed.subarray(0, sealed.length - 5), 'cut.bin');
    await expect(cut).rejects.toBeInstanceOf(InvalidFileError);
    await expect(openChecksum(sealed.subarray(0, 3), 'cut.bin')).rejects.toThrow(/cut\.bin: no sha256/);
    await expect(openChecksum(payload, 'raw.bin')).rejects.toThrow(/raw\.bin: no sha256 checksum/);
  });
});
