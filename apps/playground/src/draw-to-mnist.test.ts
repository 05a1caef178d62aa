import { describe, expect, it } from 'vitest';
import { drawingToMnist, rgbaToInk } from './draw-to-mnist.js';

function canvas(w: number, h: number, paint: (x: number, y: number) => boolean): Uint8Array {
  const a = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) a[y * w + x] = paint(x, y) ? 255 : 0;
  return a;
}

function bbox(img: Uint8Array) {
  let x0 = 28;
  let x1 = -1;
  let y0 = 28;
  let y1 = -1;
  img.forEach((v, i) => {
    if (v > 0) {
      x0 = Math.min(x0, i % 28);
      x1 = Math.max(x1, i % 28);
      y0 = Math.min(y0, Math.floor(i / 28));
      y1 = Math.max(y1, Math.floor(i / 28));
    }
  });
  return { w: x1 - x0 + 1, h: y1 - y0 + 1, x0, y0 };
}

describe('drawingToMnist', () => {
  it('returns undefined for an empty drawing', () => {
    expect(drawingToMnist(new Uint8Array(280 * 280), 280, 280)).toBeUndefined();
  });

  it('scales a tall stroke in the corner to 20 px high and centres it', () => {
    // a vertical bar 20 px wide, 200 px tall, in the top-left corner of a 280x280 canvas
    const img = drawingToMnist(
      canvas(280, 280, (x, y) => x >= 10 && x < 30 && y >= 5 && y < 205),
      280,
      280,
    )!;
    const b = bbox(img);
    expect(b.h).toBe(20);
    expect(b.w).toBe(2);
    expect(b.y0).toBe(4);
    expect(b.x0).toBe(13);
    expect(Math.max(...img)).toBe(255);
  });

  it('keeps the aspect ratio of a wide stroke', () => {
    const img = drawingToMnist(
      canvas(100, 100, (x, y) => x >= 0 && x < 100 && y >= 40 && y < 50),
      100,
      100,
    )!;
    const b = bbox(img);
    expect(b.w).toBe(20);
    expect(b.h).toBe(2);
  });

  it('refuses a size mismatch', () => {
    expect(() => drawingToMnist(new Uint8Array(10), 4, 4)).toThrow(/expected 4 x 4/);
  });
});

describe('rgbaToInk', () => {
  it('takes the red channel', () => {
    expect([...rgbaToInk([10, 20, 30, 255, 200, 0, 0, 255])]).toEqual([10, 200]);
  });
});
