import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = -1;
let lastRandom = new Uint8Array(10);

/** A ULID: 26 characters, sortable by creation time, monotonic within one millisecond. */
export function ulid(now: number = Date.now()): string {
  if (now === lastTime) {
    for (let i = lastRandom.length - 1; i >= 0; i--) {
      lastRandom[i] = ((lastRandom[i] ?? 0) + 1) & 0xff;
      if (lastRandom[i] !== 0) break;
    }
  } else {
    lastTime = now;
    lastRandom = new Uint8Array(randomBytes(10));
  }
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  // 80 random bits as 16 characters of 5 bits, most significant first: each pair of
  // characters takes 10 bits, read from two neighbouring bytes (no BigInt: it is slow).
  let random = '';
  for (let bit = 0; bit < 80; bit += 5) {
    const byte = bit >> 3;
    const pair = ((lastRandom[byte] ?? 0) << 8) | (lastRandom[byte + 1] ?? 0);
    random += ALPHABET[(pair >> (11 - (bit & 7))) & 31];
  }
  return time + random;
}
