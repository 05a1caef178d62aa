/**
 * Turns a drawing into an MNIST-style digit, the way the MNIST images were made: the ink's bounding
 * box is scaled (keeping its aspect ratio) to fit 20x20, then placed in a 28x28 image so its centre of
 * mass sits at the centre.
 *
 * @param ink `width * height` intensities in [0, 255], row-major (white ink on black, as in MNIST)
 * @returns 784 bytes, or undefined when nothing is drawn
 */
export function drawingToMnist(
  ink: ArrayLike<number>,
  width: number,
  height: number,
): Uint8Array | undefined {
  if (ink.length !== width * height) {
    throw new RangeError(`drawingToMnist: ink has ${ink.length} values, expected ${width} x ${height}`);
  }
  const threshold = 16;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! > threshold) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return undefined;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = 20 / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale));
  const th = Math.max(1, Math.round(bh * scale));
  // Area-average the source box into tw x th.
  const small = new Float64Array(tw * th);
  for (let ty = 0; ty < th; ty++) {
    const sy0 = y0 + Math.floor((ty * bh) / th);
    const sy1 = Math.max(sy0 + 1, y0 + Math.floor(((ty + 1) * bh) / th));
    for (let tx = 0; tx < tw; tx++) {
      const sx0 = x0 + Math.floor((tx * bw) / tw);
      const sx1 = Math.max(sx0 + 1, x0 + Math.floor(((tx + 1) * bw) / tw));
      let s = 0;
      for (let y = sy0; y < sy1; y++) for (let x = sx0; x < sx1; x++) s += ink[y * width + x]!;
      small[ty * tw + tx] = s / ((sy1 - sy0) * (sx1 - sx0));
    }
  }
  // Centre of mass of the scaled digit.
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x]!;
      mass += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
    }
  }
  cx /= mass;
  cy /= mass;
  const ox = Math.min(28 - tw, Math.max(0, Math.round(14 - cx)));
  const oy = Math.min(28 - th, Math.max(0, Math.round(14 - cy)));
  const out = new Uint8Array(784);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) out[(y + oy) * 28 + x + ox] = Math.round(Math.min(255, small[y * tw + x]!));
  }
  return out;
}

/** The red channel of RGBA pixels (the drawing canvas is white on black). */
export function rgbaToInk(rgba: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.floor(rgba.length / 4));
  for (let i = 0; i < out.length; i++) out[i] = rgba[i * 4]!;
  return out;
}
