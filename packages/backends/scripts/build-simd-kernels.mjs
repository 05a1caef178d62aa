#!/usr/bin/env node
// Writes src/kernels/simd/kernels.wat (the WebAssembly text of the hand-written SIMD kernels) and
// src/kernels/simd/kernels-wasm.ts (its binary, base64, in two variants: for the shared memory of
// tfjs-backend-wasm's threaded build and for the unshared memory of the single-threaded one), compiling
// the text with wabt. Run after editing this generator: `node scripts/build-simd-kernels.mjs`;
// `--check` exits 1 when the files on disk differ from what it would write (a test runs it).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtFactory from 'wabt';

const lanes = (v) => Array.from({ length: v }, (_, i) => i);

/**
 * filterRows{V}: the filter gradient's rows for few input channels, V vectors (4V output channels) at a
 * time. Row r of dW ([kh*kw*ci, co], row-major) is the sum over images b and output positions (y, x) of
 * xPad[offs[r] + (b*plane + y*wp + x)*4] * dy[b, y, x, :], where xPad is x laid out on the zero-padded
 * grid (wp columns, plane floats per image) so that each row of dW reads one window of it at a fixed
 * byte offset. Sums are added to `out` (the caller zeroes it). co must be a multiple of 4V.
 */
function filterRows(v) {
  const accs = lanes(v)
    .map((i) => `(local $acc${i} v128)`)
    .join(' ');
  const zero = lanes(v)
    .map((i) => `(local.set $acc${i} (v128.const i32x4 0 0 0 0))`)
    .join('\n            ');
  const fma = lanes(v)
    .map(
      (i) =>
        `(local.set $acc${i} (f32x4.add (local.get $acc${i}) (f32x4.mul (local.get $s) (v128.load offset=${16 * i} (local.get $q)))))`,
    )
    .join('\n                ');
  const store = lanes(v)
    .map(
      (i) =>
        `(v128.store offset=${16 * i} (local.get $o) (f32x4.add (v128.load offset=${16 * i} (local.get $o)) (local.get $acc${i})))`,
    )
    .join('\n            ');
  return `
  (func (export "filterRows${v}")
    (param $xp i32) (param $offs i32) (param $rows i32) (param $dy i32) (param $co i32)
    (param $n i32) (param $oh i32) (param $ow i32) (param $wp i32) (param $plane i32) (param $out i32)
    (local $b i32) (local $r i32) (local $cb i32) (local $y i32) (local $xo i32) (local $xend i32)
    (local $q i32) (local $coBytes i32) (local $off i32) (local $o i32) (local $s v128) ${accs}
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    (block $doneB (loop $loopB
      (br_if $doneB (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $r (i32.const 0))
      (block $doneR (loop $loopR
        (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $off (i32.add (local.get $xp) (i32.load (i32.add (local.get $offs) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $cb (i32.const 0))
        (block $doneCb (loop $loopCb
          (br_if $doneCb (i32.ge_u (local.get $cb) (local.get $coBytes)))
            ${zero}
          (local.set $y (i32.const 0))
          (block $doneY (loop $loopY
            (br_if $doneY (i32.ge_u (local.get $y) (local.get $oh)))
            (local.set $xo (i32.add (local.get $off)
              (i32.shl (i32.add (i32.mul (local.get $b) (local.get $plane)) (i32.mul (local.get $y) (local.get $wp))) (i32.const 2))))
            (local.set $xend (i32.add (local.get $xo) (i32.shl (local.get $ow) (i32.const 2))))
            (local.set $q (i32.add (i32.add (local.get $dy) (local.get $cb))
              (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $y)) (local.get $ow)) (local.get $coBytes))))
            (block $doneX (loop $loopX
              (br_if $doneX (i32.ge_u (local.get $xo) (local.get $xend)))
                (local.set $s (f32x4.splat (f32.load (local.get $xo))))
                ${fma}
              (local.set $xo (i32.add (local.get $xo) (i32.const 4)))
              (local.set $q (i32.add (local.get $q) (local.get $coBytes)))
              (br $loopX)))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $loopY)))
          (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $coBytes))) (local.get $cb)))
            ${store}
          (local.set $cb (i32.add (local.get $cb) (i32.const ${16 * v})))
          (br $loopCb)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $loopR)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $loopB)))
  )`;
}

/**
 * maxPoolGrad2x2: the gradient of a 2x2, stride-2, unpadded max pooling (NHWC, c a multiple of 4), four
 * channels at a time. Every window writes all four of its input positions: dy to its first maximum in
 * row-major order (as TensorFlow and the tfjs cpu backend choose it), zero to the others. Rows and columns
 * that no window covers (odd sizes) are not written. A NaN in a window sends its dy to the window's last
 * position.
 */
const maxPoolGrad = `
  (func (export "maxPoolGrad2x2")
    (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32)
    (param $c i32) (param $oh i32) (param $ow i32)
    (local $b i32) (local $oy i32) (local $rowBytes i32) (local $cBytes i32) (local $k i32) (local $kEnd i32)
    (local $wEnd i32) (local $pa i32) (local $pd i32)
    (local $va v128) (local $vb v128) (local $vc v128) (local $vd v128) (local $m v128) (local $g v128)
    (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $t v128)
    (local.set $rowBytes (i32.shl (i32.mul (local.get $w) (local.get $c)) (i32.const 2)))
    (local.set $cBytes (i32.shl (local.get $c) (i32.const 2)))
    (block $doneB (loop $loopB
      (br_if $doneB (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $oy (i32.const 0))
      (block $doneY (loop $loopY
        (br_if $doneY (i32.ge_u (local.get $oy) (local.get $oh)))
        (local.set $k (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.shl (local.get $oy) (i32.const 1)))
          (local.get $rowBytes)))
        (local.set $kEnd (i32.add (local.get $k) (i32.mul (local.get $ow) (i32.shl (local.get $cBytes) (i32.const 1)))))
        (block $doneX (loop $loopX
          (br_if $doneX (i32.ge_u (local.get $k) (local.get $kEnd)))
          (local.set $wEnd (i32.add (local.get $k) (local.get $cBytes)))
          (block $doneC (loop $loopC
            (br_if $doneC (i32.ge_u (local.get $k) (local.get $wEnd)))
            (local.set $pa (i32.add (local.get $x) (local.get $k)))
            (local.set $va (v128.load (local.get $pa)))
            (local.set $vb (v128.load (i32.add (local.get $pa) (local.get $cBytes))))
            (local.set $vc (v128.load (i32.add (local.get $pa) (local.get $rowBytes))))
            (local.set $vd (v128.load (i32.add (i32.add (local.get $pa) (local.get $rowBytes)) (local.get $cBytes))))
            (local.set $g (v128.load (local.get $dy)))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
            (local.set $m (f32x4.max (f32x4.max (local.get $va) (local.get $vb)) (f32x4.max (local.get $vc) (local.get $vd))))
            (local.set $e0 (f32x4.eq (local.get $va) (local.get $m)))
            (local.set $e1 (v128.andnot (f32x4.eq (local.get $vb) (local.get $m)) (local.get $e0)))
            (local.set $t (v128.or (local.get $e0) (local.get $e1)))
            (local.set $e2 (v128.andnot (f32x4.eq (local.get $vc) (local.get $m)) (local.get $t)))
            (local.set $t (v128.or (local.get $t) (local.get $e2)))
            (local.set $pd (i32.add (local.get $dx) (local.get $k)))
            (v128.store (local.get $pd) (v128.and (local.get $g) (local.get $e0)))
            (v128.store (i32.add (local.get $pd) (local.get $cBytes)) (v128.and (local.get $g) (local.get $e1)))
            (v128.store (i32.add (local.get $pd) (local.get $rowBytes)) (v128.and (local.get $g) (local.get $e2)))
            (v128.store (i32.add (i32.add (local.get $pd) (local.get $rowBytes)) (local.get $cBytes))
              (v128.andnot (local.get $g) (local.get $t)))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $loopC)))
          (local.set $k (i32.add (local.get $k) (local.get $cBytes)))
          (br $loopX)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $loopY)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $loopB)))
  )`;

const memory = (shared) => `(import "env" "memory" (memory 1${shared ? ' 65536 shared' : ''}))`;
const text = (shared) =>
  `;; Generated by scripts/build-simd-kernels.mjs; edit that file, not this one.\n(module\n  ${memory(shared)}\n${maxPoolGrad}\n${[8, 4, 1].map(filterRows).join('\n')}\n)\n`;

const wabt = await wabtFactory();
const features = { simd: true, threads: true };
const compile = (source) => {
  const parsed = wabt.parseWat('kernels.wat', source, features);
  parsed.validate(features);
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  return Buffer.from(buffer).toString('base64');
};
const here = (p) => fileURLToPath(new URL(`../src/kernels/simd/${p}`, import.meta.url));
const wat = text(false);
const ts = `// Generated by scripts/build-simd-kernels.mjs from kernels.wat; edit the generator, not this file.
/** The SIMD kernels for tfjs-backend-wasm's shared (threaded build) memory, base64. */
export const SIMD_KERNELS_SHARED =
  '${compile(text(true))}';
/** The same kernels for the unshared memory of the single-threaded build, base64. */
export const SIMD_KERNELS_UNSHARED =
  '${compile(wat)}';
`;
const files = [
  ['kernels.wat', wat],
  ['kernels-wasm.ts', ts],
];
if (process.argv.includes('--check')) {
  const stale = files.filter(([name, body]) => {
    try {
      return readFileSync(here(name), 'utf8') !== body;
    } catch {
      return true;
    }
  });
  if (stale.length > 0) {
    console.error(`stale: ${stale.map(([n]) => n).join(', ')}; run node scripts/build-simd-kernels.mjs`);
    process.exit(1);
  }
} else {
  for (const [name, body] of files) {
    writeFileSync(`${here(name)}.tmp`, body);
    renameSync(`${here(name)}.tmp`, here(name));
  }
  console.log('wrote src/kernels/simd/kernels.wat and src/kernels/simd/kernels-wasm.ts');
}
