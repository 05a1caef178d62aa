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
 * `acc + a * b` in float32 lanes: with `relaxed`, WebAssembly relaxed SIMD's `f32x4.relaxed_madd` (a fused
 * multiply-add where the CPU has one: one instruction, one rounding), else a product and a sum.
 */
const madd = (relaxed, acc, a, b) =>
  relaxed ? `(f32x4.relaxed_madd ${a} ${b} ${acc})` : `(f32x4.add ${acc} (f32x4.mul ${a} ${b}))`;

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
        `(local.set $acc${i} ${madd(false, `(local.get $acc${i})`, '(local.get $s)', `(v128.load offset=${16 * i} (local.get $q))`)})`,
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
                (local.set $s (v128.load32_splat (local.get $xo)))
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
 * that no window covers (odd sizes) are not written. The maximum is a running `f32x4.pmax` from -Infinity
 * (one instruction on x86, where `f32x4.max`'s NaN rules take several), so NaN inputs are skipped as the
 * cpu backend's `pixel > max` skips them; a window of NaNs sends its dy to its last position.
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
            (local.set $m (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (v128.const f32x4 -inf -inf -inf -inf)
              (local.get $va)) (local.get $vb)) (local.get $vc)) (local.get $vd)))
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

/**
 * maxPool2x2: a 2x2, stride-2, unpadded max pooling (NHWC, c a multiple of 4), four channels at a time:
 * out[b, oy, ox, :] = max over the window's four positions in row-major order, starting from -Infinity,
 * each step `f32x4.pmax` (the larger, the running maximum kept when either is NaN), so a NaN is skipped as
 * the tfjs cpu backend's `pixel > max` skips it. Rows and columns no window covers (odd sizes) are not read.
 */
const maxPool2x2 = `
  (func (export "maxPool2x2")
    (param $x i32) (param $out i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $oh i32) (param $ow i32)
    (local $b i32) (local $oy i32) (local $rowBytes i32) (local $cBytes i32) (local $k i32) (local $kEnd i32)
    (local $wEnd i32) (local $pa i32) (local $m v128)
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
            (local.set $m (f32x4.pmax (v128.const f32x4 -inf -inf -inf -inf) (v128.load (local.get $pa))))
            (local.set $m (f32x4.pmax (local.get $m) (v128.load (i32.add (local.get $pa) (local.get $cBytes)))))
            (local.set $pa (i32.add (local.get $pa) (local.get $rowBytes)))
            (local.set $m (f32x4.pmax (local.get $m) (v128.load (local.get $pa))))
            (local.set $m (f32x4.pmax (local.get $m) (v128.load (i32.add (local.get $pa) (local.get $cBytes)))))
            (v128.store (local.get $out) (local.get $m))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $loopC)))
          (local.set $k (i32.add (local.get $k) (local.get $cBytes)))
          (br $loopX)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $loopY)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $loopB)))
  )`;

/**
 * colSums{V}: column sums of a row-major [rows, cols] float32 matrix (cols a multiple of 4V), added to the
 * float64 accumulators at `acc` ([cols]). Blocks of 64 rows are summed in float32 registers, V vectors of
 * 4 columns at a time, then added to the float64 accumulators, so each block of rows is read while it is
 * in the L1 cache and the rounding error grows with 64, not with `rows`.
 *
 * colSqDevSums{V} (`squaredDeviations`): the same sums of `(x - mean)^2` per column, with `mean` float32
 * [cols]; each difference and square rounded to float32 as `Sub` and `Square` round them, so the sums are
 * those of `colSums` over `square(x - mean)`, bit for bit, without writing either.
 */
function colSums(v, squaredDeviations = false) {
  const accs = lanes(v)
    .map((i) => `(local $a${i} v128)`)
    .join(' ');
  const means = squaredDeviations
    ? `${lanes(v)
        .map((i) => `(local $m${i} v128)`)
        .join(' ')} (local $d v128)`
    : '';
  const zero = lanes(v)
    .map((i) => `(local.set $a${i} (v128.const i32x4 0 0 0 0))`)
    .join(' ');
  const loadMeans = squaredDeviations
    ? lanes(v)
        .map(
          (i) =>
            `(local.set $m${i} (v128.load offset=${16 * i} (i32.add (local.get $mean) (local.get $cb))))`,
        )
        .join(' ')
    : '';
  const add = lanes(v)
    .map((i) =>
      squaredDeviations
        ? `(local.set $d (f32x4.sub (v128.load offset=${16 * i} (local.get $p)) (local.get $m${i})))
            (local.set $a${i} (f32x4.add (local.get $a${i}) (f32x4.mul (local.get $d) (local.get $d))))`
        : `(local.set $a${i} (f32x4.add (local.get $a${i}) (v128.load offset=${16 * i} (local.get $p))))`,
    )
    .join('\n            ');
  const flush = lanes(v)
    .map((i) => addF64(`(i32.add (local.get $q) (i32.const ${32 * i}))`, `(local.get $a${i})`))
    .join('\n          ');
  return `
  (func (export "${squaredDeviations ? 'colSqDevSums' : 'colSums'}${v}")
    (param $x i32) (param $rows i32) (param $cols i32) (param $acc i32)${squaredDeviations ? ' (param $mean i32)' : ''}
    (local $rb i32) (local $rEnd i32) (local $cb i32) (local $p i32) (local $pEnd i32) (local $rowBytes i32)
    (local $q i32) ${accs} ${means}
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (block $doneRb (loop $loopRb
      (br_if $doneRb (i32.ge_u (local.get $rb) (local.get $rows)))
      (local.set $rEnd (select (local.get $rows) (i32.add (local.get $rb) (i32.const 64))
        (i32.lt_u (local.get $rows) (i32.add (local.get $rb) (i32.const 64)))))
      (local.set $cb (i32.const 0))
      (block $doneCb (loop $loopCb
        (br_if $doneCb (i32.ge_u (local.get $cb) (local.get $rowBytes)))
        ${zero}
        ${loadMeans}
        (local.set $p (i32.add (i32.add (local.get $x) (local.get $cb)) (i32.mul (local.get $rb) (local.get $rowBytes))))
        (local.set $pEnd (i32.add (i32.add (local.get $x) (local.get $cb)) (i32.mul (local.get $rEnd) (local.get $rowBytes))))
        (block $doneP (loop $loopP
          (br_if $doneP (i32.ge_u (local.get $p) (local.get $pEnd)))
            ${add}
          (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
          (br $loopP)))
        (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $cb) (i32.const 1))))
          ${flush}
        (local.set $cb (i32.add (local.get $cb) (i32.const ${16 * v})))
        (br $loopCb)))
      (local.set $rb (local.get $rEnd))
      (br $loopRb)))
  )`;
}

/** Adds the four float32 lanes of `vec` to the four float64 values at byte address `addr`. */
function addF64(addr, vec) {
  return `(v128.store ${addr} (f64x2.add (v128.load ${addr}) (f64x2.promote_low_f32x4 ${vec})))
          (v128.store offset=16 ${addr} (f64x2.add (v128.load offset=16 ${addr})
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${vec} ${vec}))))`;
}

/**
 * batchNormApply: out[r, k] = (x[r, k] - mean[k]) * factor[k] + offset[k] over a row-major [rows, c]
 * float32 matrix (c a multiple of 4); mean, factor and offset are float32 [c]. With factor =
 * scale / sqrt(variance + epsilon) this is FusedBatchNorm. batchNormApplyRelu: the same followed by a ReLU
 * in the same pass, `y < 0 ? 0 : y` (f32x4.pmax with zero: NaN stays NaN and -0 stays -0, as tfjs's cpu
 * Relu); see batchNormMaskedDy for its gradient's mask, which recomputes y with the same instructions.
 */
const batchNormApplyFn = (relu) => {
  const y = `(f32x4.add
            (f32x4.mul
              (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $k))) (v128.load (i32.add (local.get $mean) (local.get $k))))
              (v128.load (i32.add (local.get $factor) (local.get $k))))
            (v128.load (i32.add (local.get $offset) (local.get $k))))`;
  return `
  (func (export "batchNormApply${relu ? 'Relu' : ''}")
    (param $x i32) (param $out i32) (param $rows i32) (param $c i32) (param $mean i32) (param $factor i32)
    (param $offset i32)
    (local $end i32) (local $k i32) (local $rowBytes i32) (local $rowEnd i32)
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $doneR (loop $loopR
      (br_if $doneR (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $k (i32.const 0))
      (block $doneK (loop $loopK
        (br_if $doneK (i32.ge_u (local.get $k) (local.get $rowBytes)))
        (v128.store (i32.add (local.get $out) (local.get $k))
          ${relu ? `(f32x4.pmax ${y} (v128.const i32x4 0 0 0 0))` : y})
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $loopK)))
      (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
      (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
      (br $loopR)))
  )`;
};
const batchNormApply = `${batchNormApplyFn(false)}\n${batchNormApplyFn(true)}`;

/**
 * The incoming gradient of a batch norm followed by a ReLU, masked as the ReLU's gradient masks it:
 * dy * step(y) (step 1 for y > 0, 0 otherwise, NaN for NaN, as reluGrad), where y = xc * f + o, xc being
 * x - mean, is recomputed with batchNormApplyRelu's instructions (the same float32 operations, so the same
 * y and the same mask as the forward pass, without reading its output). Uses the v128 local $y.
 */
const batchNormMaskedDy = (dy, xc, f, o) => `(block (result v128)
            (local.set $y (f32x4.add (f32x4.mul ${xc} ${f}) ${o}))
            (f32x4.mul ${dy}
              (v128.or
                (v128.and (f32x4.gt (local.get $y) (v128.const i32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
                (f32x4.ne (local.get $y) (local.get $y)))))`;

/**
 * batchNormSums: per channel k of row-major [rows, c] float32 matrices x and dy (c a multiple of 4), adds
 * sum(dy[:, k]) to the float64 acc[k] and sum(dy[:, k] * (x[:, k] - mean[k])) to acc[c + k]. As in
 * colSums, blocks of 64 rows are summed in float32 registers, four channels at a time. batchNormSumsRelu
 * (two more parameters, the forward pass's factor and offset, float32 [c]): the same sums of dy masked by
 * the ReLU that followed the batch norm (batchNormMaskedDy).
 */
const batchNormSumsFn = (relu) => `
  (func (export "batchNormSums${relu ? 'Relu' : ''}")
    (param $x i32) (param $dy i32) (param $rows i32) (param $c i32) (param $mean i32) (param $acc i32)${relu ? '\n    (param $factor i32) (param $offset i32)' : ''}
    (local $rb i32) (local $rEnd i32) (local $cb i32) (local $p i32) (local $pEnd i32) (local $rowBytes i32)
    (local $q i32) (local $d i32) (local $m v128) (local $g v128) (local $s0 v128) (local $s1 v128)${relu ? '\n    (local $f v128) (local $o v128) (local $xc v128) (local $y v128)' : ''}
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $d (i32.sub (local.get $dy) (local.get $x)))
    (block $doneRb (loop $loopRb
      (br_if $doneRb (i32.ge_u (local.get $rb) (local.get $rows)))
      (local.set $rEnd (select (local.get $rows) (i32.add (local.get $rb) (i32.const 64))
        (i32.lt_u (local.get $rows) (i32.add (local.get $rb) (i32.const 64)))))
      (local.set $cb (i32.const 0))
      (block $doneCb (loop $loopCb
        (br_if $doneCb (i32.ge_u (local.get $cb) (local.get $rowBytes)))
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $m (v128.load (i32.add (local.get $mean) (local.get $cb))))${
          relu
            ? `
        (local.set $f (v128.load (i32.add (local.get $factor) (local.get $cb))))
        (local.set $o (v128.load (i32.add (local.get $offset) (local.get $cb))))`
            : ''
        }
        (local.set $p (i32.add (i32.add (local.get $x) (local.get $cb)) (i32.mul (local.get $rb) (local.get $rowBytes))))
        (local.set $pEnd (i32.add (i32.add (local.get $x) (local.get $cb)) (i32.mul (local.get $rEnd) (local.get $rowBytes))))
        (block $doneP (loop $loopP
          (br_if $doneP (i32.ge_u (local.get $p) (local.get $pEnd)))
          ${
            relu
              ? `(local.set $xc (f32x4.sub (v128.load (local.get $p)) (local.get $m)))
          (local.set $g ${batchNormMaskedDy('(v128.load (i32.add (local.get $p) (local.get $d)))', '(local.get $xc)', '(local.get $f)', '(local.get $o)')})
          (local.set $s0 (f32x4.add (local.get $s0) (local.get $g)))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $g) (local.get $xc))))`
              : `(local.set $g (v128.load (i32.add (local.get $p) (local.get $d))))
          (local.set $s0 (f32x4.add (local.get $s0) (local.get $g)))
          (local.set $s1 (f32x4.add (local.get $s1)
            (f32x4.mul (local.get $g) (f32x4.sub (v128.load (local.get $p)) (local.get $m)))))`
          }
          (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
          (br $loopP)))
        (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $cb) (i32.const 1))))
        ${addF64('(local.get $q)', '(local.get $s0)')}
        (local.set $q (i32.add (local.get $q) (i32.shl (local.get $rowBytes) (i32.const 1))))
        ${addF64('(local.get $q)', '(local.get $s1)')}
        (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
        (br $loopCb)))
      (local.set $rb (local.get $rEnd))
      (br $loopRb)))
  )`;
const batchNormSums = `${batchNormSumsFn(false)}\n${batchNormSumsFn(true)}`;

/**
 * The four positions of a 2x2 pooling window (x at $pa: +0, +$cBytes, +$rowBytes, +$rowBytes+$cBytes), four
 * channels at a time: sets $c0..$c3 to x - mean and $r0..$r3 to relu(batchNorm(x)) with batchNormApplyRelu's
 * instructions ($m mean, $f factor, $o offset), and $mx to their maximum with maxPool2x2's instructions.
 */
const poolOffsets = [
  '',
  '(local.get $cBytes)',
  '(local.get $rowBytes)',
  '(i32.add (local.get $rowBytes) (local.get $cBytes))',
];
const poolWindow = `${poolOffsets
  .map(
    (
      off,
      i,
    ) => `(local.set $c${i} (f32x4.sub (v128.load ${off === '' ? '(local.get $pa)' : `(i32.add (local.get $pa) ${off})`}) (local.get $m)))
            (local.set $r${i} (f32x4.pmax (f32x4.add (f32x4.mul (local.get $c${i}) (local.get $f)) (local.get $o)) (v128.const i32x4 0 0 0 0)))`,
  )
  .join('\n            ')}
            (local.set $mx (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (v128.const f32x4 -inf -inf -inf -inf)
              (local.get $r0)) (local.get $r1)) (local.get $r2)) (local.get $r3)))`;
/**
 * After poolWindow, with the pooled output's incoming gradient in $g: sets $g0..$g3 to the gradient of
 * each window position through the pooling and the ReLU: the window's dy at its first maximum (row-major,
 * maxPoolGrad2x2's selection, on the same values), zero elsewhere, then masked as batchNormMaskedDy masks
 * it (y recomputed as xc * f + o: NaN where y is NaN).
 */
const poolWindowGrad = `(local.set $e0 (f32x4.eq (local.get $r0) (local.get $mx)))
            (local.set $e1 (v128.andnot (f32x4.eq (local.get $r1) (local.get $mx)) (local.get $e0)))
            (local.set $t (v128.or (local.get $e0) (local.get $e1)))
            (local.set $e2 (v128.andnot (f32x4.eq (local.get $r2) (local.get $mx)) (local.get $t)))
            (local.set $t (v128.or (local.get $t) (local.get $e2)))
            ${[
              '(v128.and (local.get $g) (local.get $e0))',
              '(v128.and (local.get $g) (local.get $e1))',
              '(v128.and (local.get $g) (local.get $e2))',
              '(v128.andnot (local.get $g) (local.get $t))',
            ]
              .map(
                (g, i) =>
                  `(local.set $g${i} ${batchNormMaskedDy(g, `(local.get $c${i})`, '(local.get $f)', '(local.get $o)')})`,
              )
              .join('\n            ')}`;
const poolLocals = `(local $m v128) (local $f v128) (local $o v128) (local $y v128) (local $mx v128) (local $g v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $r0 v128) (local $r1 v128)
    (local $r2 v128) (local $r3 v128) (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $t v128)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128)`;
/**
 * Loops over the 2x2 windows of `prows` pooled rows (NHWC with even h and w: pooled row j reads input rows
 * 2j and 2j + 1 of the [n * h, w, c] image rows), the window's pooled position at $q (bytes from the
 * pooled output's start), four channels at a time (byte $cb), the window's x at $pa; `perChannel` runs
 * when $cb changes (channel loop outermost within a pooled row when `channelsOuter`).
 */
const poolLoops = (body, perChannel, channelsOuter) => {
  const setup = `(local.set $m (v128.load (i32.add (local.get $mean) (local.get $cb))))
          (local.set $f (v128.load (i32.add (local.get $factor) (local.get $cb))))
          (local.set $o (v128.load (i32.add (local.get $offset) (local.get $cb))))`;
  const windowAt = `(local.set $pa (i32.add (i32.add (local.get $x) (i32.mul (local.get $j) (i32.shl (local.get $rowBytes) (i32.const 1))))
              (i32.add (i32.shl (local.get $ox) (i32.const 1)) (local.get $cb))))
            (local.set $q (i32.add (i32.mul (local.get $j) (i32.shr_u (local.get $rowBytes) (i32.const 1)))
              (i32.add (local.get $ox) (local.get $cb))))`;
  const loopOx = (inner) => `(local.set $ox (i32.const 0))
          (block $doneX (loop $loopX
            (br_if $doneX (i32.ge_u (local.get $ox) (local.get $halfRow)))
            ${inner}
            (local.set $ox (i32.add (local.get $ox) (local.get $cBytes)))
            (br $loopX)))`;
  const loopC = (inner) => `(local.set $cb (i32.const 0))
          (block $doneC (loop $loopC
            (br_if $doneC (i32.ge_u (local.get $cb) (local.get $cBytes)))
            ${inner}
            (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
            (br $loopC)))`;
  const core = `${windowAt}
            ${poolWindow}
            ${body}`;
  const rowBody = channelsOuter
    ? loopC(`${setup}
          ${perChannel.start}
          ${loopOx(core)}
          ${perChannel.end}`)
    : loopOx(loopC(`${setup}\n            ${core}`));
  return `(local.set $rowBytes (i32.shl (i32.mul (local.get $w) (local.get $c)) (i32.const 2)))
    (local.set $cBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $halfRow (i32.shr_u (local.get $rowBytes) (i32.const 1)))
    (block $doneJ (loop $loopJ
      (br_if $doneJ (i32.ge_u (local.get $j) (local.get $prows)))
      ${rowBody}
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $loopJ)))`;
};
const poolIndexLocals = `(local $j i32) (local $ox i32) (local $cb i32) (local $pa i32) (local $q i32) (local $rowBytes i32)
    (local $cBytes i32) (local $halfRow i32)`;
/**
 * batchNormApplyReluPool: batchNormApplyRelu followed by maxPool2x2 in one pass (NHWC, even h and w, c a
 * multiple of 4), writing only the pooled output: out = max over each window of relu(batchNorm(x)), with
 * the instructions of those two kernels, so the same bits. `prows` = n * h / 2 pooled rows.
 */
const batchNormApplyReluPool = `
  (func (export "batchNormApplyReluPool")
    (param $x i32) (param $out i32) (param $prows i32) (param $w i32) (param $c i32) (param $mean i32)
    (param $factor i32) (param $offset i32)
    ${poolIndexLocals}
    ${poolLocals}
    ${poolLoops('(v128.store (i32.add (local.get $out) (local.get $q)) (local.get $mx))', undefined, false)}
  )`;
/**
 * batchNormSumsReluPool: batchNormSumsRelu of the gradient that reaches the batch norm through the ReLU and
 * a 2x2 max pooling (poolWindowGrad), from the pooled dy ([prows, w / 2, c]): per channel, sum(g) to acc[0,
 * c) and sum(g * (x - mean)) to acc[c, 2c) (float64), each pooled row summed in float32 registers first.
 */
const batchNormSumsReluPool = `
  (func (export "batchNormSumsReluPool")
    (param $x i32) (param $dy i32) (param $prows i32) (param $w i32) (param $c i32) (param $mean i32)
    (param $acc i32) (param $factor i32) (param $offset i32)
    ${poolIndexLocals} (local $s0 v128) (local $s1 v128) (local $a i32)
    ${poolLocals}
    ${poolLoops(
      `(local.set $g (v128.load (i32.add (local.get $dy) (local.get $q))))
            ${poolWindowGrad}
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.add (f32x4.add (local.get $g0) (local.get $g1))
              (f32x4.add (local.get $g2) (local.get $g3)))))
            (local.set $s1 (f32x4.add (local.get $s1) (f32x4.add
              (f32x4.add (f32x4.mul (local.get $g0) (local.get $c0)) (f32x4.mul (local.get $g1) (local.get $c1)))
              (f32x4.add (f32x4.mul (local.get $g2) (local.get $c2)) (f32x4.mul (local.get $g3) (local.get $c3))))))`,
      {
        start: `(local.set $s0 (v128.const i32x4 0 0 0 0))
          (local.set $s1 (v128.const i32x4 0 0 0 0))`,
        end: `(local.set $a (i32.add (local.get $acc) (i32.shl (local.get $cb) (i32.const 1))))
          ${addF64('(local.get $a)', '(local.get $s0)')}
          (local.set $a (i32.add (local.get $a) (i32.shl (local.get $cBytes) (i32.const 1))))
          ${addF64('(local.get $a)', '(local.get $s1)')}`,
      },
      true,
    )}
  )`;
/**
 * batchNormTrainDxReluPool: batchNormTrainDxRelu of the gradient through the ReLU and a 2x2 max pooling
 * (poolWindowGrad) from the pooled dy: dx = a * g + b * (x - mean) + d at each of the window's four
 * positions; `params` as batchNormTrainDxRelu's (mean, a, b, d, factor, offset, each [c]).
 */
const batchNormTrainDxReluPool = (() => {
  const param = (i) =>
    `(v128.load (i32.add (local.get $params) (i32.add (local.get $cb) (i32.mul (local.get $cBytes) (i32.const ${i})))))`;
  const offs = [
    '',
    ' (local.get $cBytes)',
    ' (local.get $rowBytes)',
    ' (i32.add (local.get $rowBytes) (local.get $cBytes))',
  ];
  return `
  (func (export "batchNormTrainDxReluPool")
    (param $x i32) (param $dy i32) (param $out i32) (param $prows i32) (param $w i32) (param $c i32)
    (param $params i32)
    ${poolIndexLocals} (local $mean i32) (local $factor i32) (local $offset i32) (local $pd i32)
    (local $va v128) (local $vb v128) (local $vd v128)
    ${poolLocals}
    (local.set $mean (local.get $params))
    (local.set $factor (i32.add (local.get $params) (i32.shl (i32.shl (local.get $c) (i32.const 2)) (i32.const 2))))
    (local.set $offset (i32.add (local.get $factor) (i32.shl (local.get $c) (i32.const 2))))
    ${poolLoops(
      `(local.set $g (v128.load (i32.add (local.get $dy) (local.get $q))))
            ${poolWindowGrad}
            (local.set $va ${param(1)})
            (local.set $vb ${param(2)})
            (local.set $vd ${param(3)})
            (local.set $pd (i32.add (local.get $out) (i32.sub (local.get $pa) (local.get $x))))
            ${offs
              .map(
                (off, i) => `(v128.store ${off === '' ? '(local.get $pd)' : `(i32.add (local.get $pd)${off})`}
              (f32x4.add (f32x4.add (f32x4.mul (local.get $g${i}) (local.get $va)) (f32x4.mul (local.get $c${i}) (local.get $vb)))
                (local.get $vd)))`,
              )
              .join('\n            ')}`,
      undefined,
      false,
    )}
  )`;
})();

/**
 * reluGrad: out[i] = dy[i] * step(x[i]) for `size` floats (a multiple of 4), where step is 1 for x > 0, 0
 * otherwise and NaN for NaN (as tfjs's Step kernel), so a NaN input still poisons its gradient.
 */
const reluGrad = `
  (func (export "reluGrad") (param $dy i32) (param $x i32) (param $out i32) (param $size i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $size) (i32.const 2))))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (v128.store (local.get $out)
        (f32x4.mul (v128.load (local.get $dy))
          (v128.or
            (v128.and (f32x4.gt (local.get $v) (v128.const i32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
            (f32x4.ne (local.get $v) (local.get $v)))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $loop)))
  )`;

/**
 * toChannelMajor: copies an NHWC block of x (`n` images of `rows` x `cols` positions, `ci` channels; byte
 * strides xImage and xRow between images and rows) into a channel-major grid: x[b, i, j, c] goes to byte
 * dst + c*rcBytes + b*sBytes + i*wpBytes + j*4. Positions of the grid that no element goes to are not
 * written.
 */
const toChannelMajor = `
  (func $toChannelMajor (export "toChannelMajor")
    (param $x i32) (param $n i32) (param $rows i32) (param $cols i32) (param $ci i32) (param $xImage i32)
    (param $xRow i32) (param $dst i32) (param $rcBytes i32) (param $sBytes i32) (param $wpBytes i32)
    (local $b i32) (local $i i32) (local $p i32) (local $pEnd i32) (local $d i32) (local $dc i32)
    (local $cEnd i32) (local $rowDst i32) (local $rowEnd i32)
    (block $doneB (loop $loopB
      (br_if $doneB (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $i (i32.const 0))
      (block $doneI (loop $loopI
        (br_if $doneI (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $p (i32.add (local.get $x) (i32.add (i32.mul (local.get $b) (local.get $xImage))
          (i32.mul (local.get $i) (local.get $xRow)))))
        (local.set $rowDst (i32.add (local.get $dst) (i32.add (i32.mul (local.get $b) (local.get $sBytes))
          (i32.mul (local.get $i) (local.get $wpBytes)))))
        (local.set $rowEnd (i32.add (local.get $rowDst) (i32.shl (local.get $cols) (i32.const 2))))
        (block $doneJ (loop $loopJ
          (br_if $doneJ (i32.ge_u (local.get $rowDst) (local.get $rowEnd)))
          (local.set $dc (local.get $rowDst))
          (local.set $cEnd (i32.add (local.get $p) (i32.shl (local.get $ci) (i32.const 2))))
          (block $doneC (loop $loopC
            (br_if $doneC (i32.ge_u (local.get $p) (local.get $cEnd)))
            (f32.store (local.get $dc) (f32.load (local.get $p)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $dc (i32.add (local.get $dc) (local.get $rcBytes)))
            (br $loopC)))
          (local.set $rowDst (i32.add (local.get $rowDst) (i32.const 4)))
          (br $loopJ)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $loopI)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $loopB)))
  )`;

/**
 * The start of a chunked kernel's loop $loopK: takes chunk k from the shared counter at `counter` (an atomic
 * add) and sets images [b, b1) of `chunk` images each (the last may be shorter); leaves $doneK when the
 * chunks are used up.
 */
const claimChunk = `(local.set $k (i32.atomic.rmw.add (local.get $counter) (i32.const 1)))
      (local.set $b (i32.mul (local.get $k) (local.get $chunk)))
      (br_if $doneK (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $b1 (select (local.get $n) (i32.add (local.get $b) (local.get $chunk))
        (i32.lt_u (local.get $n) (i32.add (local.get $b) (local.get $chunk)))))`;

/**
 * filterTaps: the filter gradient of a stride-1 convolution read in place from NHWC x and dy, with no
 * padded copies and no wasted products, over chunks of `chunk` images. Each caller takes the next chunk
 * k from the shared counter at `counter` (an atomic add) until none are left, and adds, for each of
 * `taps` entries of the table at `tab` (six i32 each: shift, the tap's offset into x in floats,
 * ((ky - top) * w + kx - left) * ci; y0, y1, x0, x1, the output rows and columns whose input position is
 * inside the image; row, the tap's first row of dW, tap * ci),
 *   sum over b in chunk k, y, x of x[b, y + ky - top, x + kx - left, c] * dy[b, y, x, o]
 * to row + c, column o of chunk k's partial dW at `out + k * partBytes` (zeroed by the caller, who sums
 * the partials in chunk order, so the result does not depend on which thread took which chunk). Blocks of
 * 4 input by 8 output channels (ci a multiple of 4, co of 8) in 8 accumulator registers, one image at a
 * time so that its x and dy stay in cache.
 */
const filterTaps = (relaxed) => `
  (func (export "filterTaps")
    (param $x i32) (param $dy i32) (param $out i32) (param $n i32) (param $h i32) (param $w i32)
    (param $ci i32) (param $oh i32) (param $ow i32) (param $co i32) (param $tab0 i32) (param $taps i32)
    (param $counter i32) (param $chunk i32) (param $partBytes i32) (param $rowBlock i32)
    (local $yb i32) (local $yb1 i32) (local $ya i32) (local $yz i32)
    (local $k i32) (local $b1 i32) (local $part i32) (local $tab i32) (local $cTo i32) (local $t i32) (local $shift i32) (local $y0 i32) (local $y1 i32) (local $x0 i32) (local $x1 i32)
    (local $row i32) (local $b i32) (local $cb i32) (local $ob i32) (local $obEnd i32) (local $y i32)
    (local $xp i32) (local $dp i32) (local $dEnd i32) (local $ciBytes i32) (local $coBytes i32) (local $o i32)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $ciBytes (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    (local.set $obEnd (local.get $coBytes))
    (local.set $cTo (i32.shr_u (local.get $ci) (i32.const 2)))
    (block $doneK (loop $loopK
      ${claimChunk}
      (local.set $part (i32.add (local.get $out) (i32.mul (local.get $k) (local.get $partBytes))))
    (block $doneB (loop $loopB
      (br_if $doneB (i32.ge_u (local.get $b) (local.get $b1)))
    ;; blocks of $rowBlock output rows, so that their x and dy stay in the L1 cache while every tap and
    ;; channel block passes over them
    (local.set $yb (i32.const 0))
    (block $doneYb (loop $loopYb
      (br_if $doneYb (i32.ge_u (local.get $yb) (local.get $oh)))
      (local.set $yb1 (i32.add (local.get $yb) (local.get $rowBlock)))
    (local.set $tab (local.get $tab0))
    (local.set $t (i32.const 0))
    (block $doneT (loop $loopT
      (br_if $doneT (i32.ge_u (local.get $t) (local.get $taps)))
      (local.set $shift (i32.load (local.get $tab)))
      ;; the tap's rows inside the image, within this block
      (local.set $ya (i32.load offset=4 (local.get $tab)))
      (local.set $yz (i32.load offset=8 (local.get $tab)))
      (local.set $y0 (select (local.get $ya) (local.get $yb) (i32.gt_u (local.get $ya) (local.get $yb))))
      (local.set $y1 (select (local.get $yz) (local.get $yb1) (i32.lt_u (local.get $yz) (local.get $yb1))))
      (local.set $x0 (i32.load offset=12 (local.get $tab)))
      (local.set $x1 (i32.load offset=16 (local.get $tab)))
      (local.set $row (i32.load offset=20 (local.get $tab)))
        ;; (no rows of this tap in the block: no channel blocks)
        (local.set $cb (select (i32.const 0) (local.get $cTo) (i32.lt_u (local.get $y0) (local.get $y1))))
        (block $doneC (loop $loopC
          (br_if $doneC (i32.ge_u (local.get $cb) (local.get $cTo)))
          (local.set $ob (i32.const 0))
          (block $doneO (loop $loopO
            (br_if $doneO (i32.ge_u (local.get $ob) (local.get $obEnd)))
            ;; accumulators: rows row + 4cb .. row + 4cb + 3 of dW, bytes ob .. ob + 32 of each
            (local.set $o (i32.add (i32.add (local.get $part) (local.get $ob))
              (i32.mul (i32.add (local.get $row) (i32.shl (local.get $cb) (i32.const 2))) (local.get $coBytes))))
            (local.set $a00 (v128.load (local.get $o)))
            (local.set $a01 (v128.load offset=16 (local.get $o)))
            (local.set $a10 (v128.load (i32.add (local.get $o) (local.get $coBytes))))
            (local.set $a11 (v128.load offset=16 (i32.add (local.get $o) (local.get $coBytes))))
            (local.set $a20 (v128.load (i32.add (local.get $o) (i32.shl (local.get $coBytes) (i32.const 1)))))
            (local.set $a21 (v128.load offset=16 (i32.add (local.get $o) (i32.shl (local.get $coBytes) (i32.const 1)))))
            (local.set $a30 (v128.load (i32.add (local.get $o) (i32.mul (local.get $coBytes) (i32.const 3)))))
            (local.set $a31 (v128.load offset=16 (i32.add (local.get $o) (i32.mul (local.get $coBytes) (i32.const 3)))))
            (local.set $y (local.get $y0))
            (block $doneY (loop $loopY
              (br_if $doneY (i32.ge_u (local.get $y) (local.get $y1)))
              ;; dy[b, y, x0, ob] and x[b, y + ky - top, x0 + kx - left, 4cb]
              (local.set $dp (i32.add (i32.add (local.get $dy) (local.get $ob))
                (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $y)) (local.get $ow))
                  (local.get $x0)) (local.get $coBytes))))
              (local.set $dEnd (i32.add (local.get $dp) (i32.mul (i32.sub (local.get $x1) (local.get $x0)) (local.get $coBytes))))
              (local.set $xp (i32.add (local.get $x)
                (i32.shl (i32.add (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $y))
                  (local.get $w)) (local.get $x0)) (local.get $ci)) (local.get $shift))
                  (i32.shl (local.get $cb) (i32.const 2))) (i32.const 2))))
              (block $doneX (loop $loopX
                (br_if $doneX (i32.ge_u (local.get $dp) (local.get $dEnd)))
                (local.set $d0 (v128.load (local.get $dp)))
                (local.set $d1 (v128.load offset=16 (local.get $dp)))
                ${lanes(4)
                  .map(
                    (l) => `(local.set $s (v128.load32_splat offset=${4 * l} (local.get $xp)))
                (local.set $a${l}0 ${madd(relaxed, `(local.get $a${l}0)`, '(local.get $s)', '(local.get $d0)')})
                (local.set $a${l}1 ${madd(relaxed, `(local.get $a${l}1)`, '(local.get $s)', '(local.get $d1)')})`,
                  )
                  .join('\n                ')}
                (local.set $xp (i32.add (local.get $xp) (local.get $ciBytes)))
                (local.set $dp (i32.add (local.get $dp) (local.get $coBytes)))
                (br $loopX)))
              (local.set $y (i32.add (local.get $y) (i32.const 1)))
              (br $loopY)))
            (v128.store (local.get $o) (local.get $a00))
            (v128.store offset=16 (local.get $o) (local.get $a01))
            (v128.store (i32.add (local.get $o) (local.get $coBytes)) (local.get $a10))
            (v128.store offset=16 (i32.add (local.get $o) (local.get $coBytes)) (local.get $a11))
            (v128.store (i32.add (local.get $o) (i32.shl (local.get $coBytes) (i32.const 1))) (local.get $a20))
            (v128.store offset=16 (i32.add (local.get $o) (i32.shl (local.get $coBytes) (i32.const 1))) (local.get $a21))
            (v128.store (i32.add (local.get $o) (i32.mul (local.get $coBytes) (i32.const 3))) (local.get $a30))
            (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $coBytes) (i32.const 3))) (local.get $a31))
            (local.set $ob (i32.add (local.get $ob) (i32.const 32)))
            (br $loopO)))
          (local.set $cb (i32.add (local.get $cb) (i32.const 1)))
          (br $loopC)))
      (local.set $tab (i32.add (local.get $tab) (i32.const 24)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $loopT)))
      (local.set $yb (local.get $yb1))
      (br $loopYb)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $loopB)))
      (br $loopK)))
  )`;

/**
 * convDirect: a stride-1 convolution (NHWC), out[b, y, x, o] = bias[o] + sum over ky, kx, c of
 * xp[b, y + ky, x + kx, c] * wt[ky, kx, c, o], on an input `xp` already padded ([n, hp, wp, ci]); output
 * [n, oh, ow, co], co a multiple of 8; `relu` non-zero clamps at zero. Blocks of 4 output positions (a row
 * of at least 4 whose width 4 does not divide ends with a block that overlaps the one before, so no
 * position runs in a slow block of one; rows of 1 to 3 run single positions) by 8 output channels in 8
 * accumulators: per input channel one
 * broadcast load of x per position, two loads of the filter row, 8 multiply-adds. Each caller takes chunks
 * of `chunk` images from the shared counter at `counter` (an atomic add) until none are left; every output
 * element is written by one caller, so the result does not depend on which thread took which chunk.
 */
/**
 * The inner step of convDirect and convWino: for rows i < r (output positions, or tiles), one broadcast
 * load of the float at `base + i * ci * 4` (locals $ciBytes, $ci2Bytes, $ci3Bytes) and two multiply-adds
 * into accumulators $a{i}0 and $a{i}1 with the vectors $w0 and $w1.
 */
function broadcastMadds(base, r, relaxed) {
  const at = (i) =>
    i === 0 ? `(local.get ${base})` : `(i32.add (local.get ${base}) (local.get $ci${i === 1 ? '' : i}Bytes))`;
  return lanes(r)
    .map(
      (i) => `(local.set $s (v128.load32_splat ${at(i)}))
              (local.set $a${i}0 ${madd(relaxed, `(local.get $a${i}0)`, '(local.get $s)', '(local.get $w0)')})
              (local.set $a${i}1 ${madd(relaxed, `(local.get $a${i}1)`, '(local.get $s)', '(local.get $w1)')})`,
    )
    .join('\n              ');
}

function convPositions(p, relaxed) {
  const ps = lanes(p);
  const init = ps
    .map((i) => `(local.set $a${i}0 (local.get $b0v)) (local.set $a${i}1 (local.get $b1v))`)
    .join(' ');
  const body = broadcastMadds('$xq', p, relaxed);
  const clamp = ps
    .map(
      (i) =>
        `(local.set $a${i}0 (f32x4.max (local.get $a${i}0) (v128.const i32x4 0 0 0 0))) (local.set $a${i}1 (f32x4.max (local.get $a${i}1) (v128.const i32x4 0 0 0 0)))`,
    )
    .join(' ');
  const store = ps
    .map(
      (i) =>
        `(v128.store (i32.add (local.get $o) (i32.mul (i32.const ${i}) (local.get $coBytes))) (local.get $a${i}0))
          (v128.store offset=16 (i32.add (local.get $o) (i32.mul (i32.const ${i}) (local.get $coBytes))) (local.get $a${i}1))`,
    )
    .join('\n          ');
  return `
      (block $doneX${p} (loop $loopX${p}
        ${
          p === 1
            ? `(br_if $doneX${p} (i32.ge_u (local.get $x) (local.get $ow)))`
            : `(br_if $doneX${p} (i32.or (i32.ge_u (local.get $x) (local.get $ow)) (i32.lt_u (local.get $ow) (i32.const ${p}))))
        ;; the last block of a row overlaps the one before when ${p} does not divide ow: its first positions
        ;; are computed again, the same way, to the same values
        (if (i32.gt_u (i32.add (local.get $x) (i32.const ${p})) (local.get $ow))
          (then (local.set $x (i32.sub (local.get $ow) (i32.const ${p})))))`
        }
          ${init}
          (local.set $wq (i32.add (local.get $wt) (local.get $ob)))
          (local.set $ky (i32.const 0))
          (block $doneKy${p} (loop $loopKy${p}
            (br_if $doneKy${p} (i32.ge_u (local.get $ky) (local.get $kh)))
            (local.set $xq (i32.add (local.get $img)
              (i32.mul (i32.add (i32.mul (i32.add (local.get $y) (local.get $ky)) (local.get $wp)) (local.get $x)) (local.get $ciBytes))))
            (local.set $wEnd (i32.add (local.get $wq) (local.get $tapRowBytes)))
            ;; the kx taps of a filter row read consecutive input positions: one run of kw * ci channels
            (block $doneC${p} (loop $loopC${p}
              (br_if $doneC${p} (i32.ge_u (local.get $wq) (local.get $wEnd)))
              (local.set $w0 (v128.load (local.get $wq)))
              (local.set $w1 (v128.load offset=16 (local.get $wq)))
              ${body}
              (local.set $xq (i32.add (local.get $xq) (i32.const 4)))
              (local.set $wq (i32.add (local.get $wq) (local.get $coBytes)))
              (br $loopC${p})))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $loopKy${p})))
          (if (local.get $relu) (then ${clamp}))
          (local.set $o (i32.add (i32.add (local.get $outImg) (local.get $ob))
            (i32.mul (i32.add (i32.mul (local.get $y) (local.get $ow)) (local.get $x)) (local.get $coBytes))))
          ${store}
        (local.set $x (i32.add (local.get $x) (i32.const ${p})))
        (br $loopX${p})))`;
}

/**
 * Lays image $b of the NHWC input at $src out on the zero-padded grid at $img ($hp rows of $rowBytes, $top
 * rows and $leftBytes before the data), unless $src is $xp (no padding); for convDirect and convWino, in
 * the thread that then convolves the image, while it is in that thread's cache.
 */
const padImage = `;; the image laid out on the zero-padded grid at $xp (unless $src is $xp: no padding), by the thread
        ;; that reads it next, while it is in that thread's cache
        (if (i32.ne (local.get $src) (local.get $xp))
          (then
            (local.set $yp (i32.const 0))
            (block $donePad (loop $loopPad
              (br_if $donePad (i32.ge_u (local.get $yp) (local.get $hp)))
              (local.set $dst (i32.add (local.get $img) (i32.mul (local.get $yp) (local.get $rowBytes))))
              (if (i32.or (i32.lt_u (local.get $yp) (local.get $top))
                    (i32.ge_u (local.get $yp) (i32.add (local.get $top) (local.get $h))))
                (then (memory.fill (local.get $dst) (i32.const 0) (local.get $rowBytes)))
                (else
                  (memory.fill (local.get $dst) (i32.const 0) (local.get $leftBytes))
                  (memory.copy (i32.add (local.get $dst) (local.get $leftBytes))
                    (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h))
                      (i32.sub (local.get $yp) (local.get $top))) (local.get $srcRowBytes)))
                    (local.get $srcRowBytes))
                  (memory.fill (i32.add (i32.add (local.get $dst) (local.get $leftBytes)) (local.get $srcRowBytes))
                    (i32.const 0) (i32.sub (i32.sub (local.get $rowBytes) (local.get $leftBytes)) (local.get $srcRowBytes)))))
              (local.set $yp (i32.add (local.get $yp) (i32.const 1)))
              (br $loopPad)))))`;

const convDirect = (relaxed) => `
  (func (export "convDirect")
    (param $xp i32) (param $wt i32) (param $bias i32) (param $out i32) (param $n i32) (param $hp i32)
    (param $wp i32) (param $ci i32) (param $oh i32) (param $ow i32) (param $co i32) (param $kh i32)
    (param $kw i32) (param $counter i32) (param $chunk i32) (param $relu i32) (param $src i32) (param $h i32)
    (param $w i32) (param $top i32) (param $left i32)
    (local $yp i32) (local $dst i32) (local $rowBytes i32) (local $leftBytes i32) (local $srcRowBytes i32)
    (local $k i32) (local $b i32) (local $b1 i32) (local $y i32) (local $x i32) (local $ob i32) (local $ky i32)
    (local $xq i32) (local $wq i32) (local $wEnd i32) (local $o i32) (local $img i32) (local $outImg i32)
    (local $ciBytes i32) (local $ci2Bytes i32) (local $ci3Bytes i32) (local $coBytes i32) (local $tapRowBytes i32)
    (local $w0 v128) (local $w1 v128) (local $s v128) (local $b0v v128) (local $b1v v128)
    ${lanes(4)
      .map((i) => `(local $a${i}0 v128) (local $a${i}1 v128)`)
      .join(' ')}
    (local.set $ciBytes (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $ci2Bytes (i32.shl (local.get $ciBytes) (i32.const 1)))
    (local.set $ci3Bytes (i32.mul (local.get $ciBytes) (i32.const 3)))
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    ;; one filter row (kw taps of ci channels): kw * ci rows of co floats
    (local.set $tapRowBytes (i32.mul (i32.mul (local.get $kw) (local.get $ci)) (local.get $coBytes)))
    (local.set $rowBytes (i32.mul (local.get $wp) (local.get $ciBytes)))
    (local.set $leftBytes (i32.mul (local.get $left) (local.get $ciBytes)))
    (local.set $srcRowBytes (i32.mul (local.get $w) (local.get $ciBytes)))
    (block $doneK (loop $loopK
      ${claimChunk}
      (block $doneB (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $img (i32.add (local.get $xp) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $hp)) (local.get $wp)) (local.get $ciBytes))))
        ${padImage}
        (local.set $outImg (i32.add (local.get $out) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $oh)) (local.get $ow)) (local.get $coBytes))))
        (local.set $y (i32.const 0))
        (block $doneY (loop $loopY
          (br_if $doneY (i32.ge_u (local.get $y) (local.get $oh)))
          ;; 8 output channels at a time along the row, so that their slice of the filter stays in cache
          (local.set $ob (i32.const 0))
          (block $doneO (loop $loopO
            (br_if $doneO (i32.ge_u (local.get $ob) (local.get $coBytes)))
            (local.set $b0v (v128.load (i32.add (local.get $bias) (local.get $ob))))
            (local.set $b1v (v128.load offset=16 (i32.add (local.get $bias) (local.get $ob))))
            (local.set $x (i32.const 0))
            ${convPositions(4, relaxed)}
            ${convPositions(1, relaxed)}
            (local.set $ob (i32.add (local.get $ob) (i32.const 32)))
            (br $loopO)))
          (local.set $y (i32.add (local.get $y) (i32.const 1)))
          (br $loopY)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB)))
      (br $loopK)))
  )`;

/**
 * convFew: a stride-1 convolution with few input channels (a network's first layer), out[b, y, x, o] =
 * bias[o] + sum over the `taps` rows t = (ky, kx, c) of the filter ([taps, co], i.e. [kh, kw, ci, co]
 * in place) of xp[b, c, y + ky, x + kx] * wt[t, o], clamped at zero when `relu` is non-zero. The input
 * `xp` is channel-major per image on the zero-padded grid (image b at xp + b*imgBytes, channel c at
 * + c*hp*wpBytes, row at + y*wpBytes, column at + 4x), so the P output positions of a block read one tap
 * at P consecutive floats; the table at `tab` holds each tap's byte offset (c*hp + ky)*wpBytes + 4kx.
 * Each image is laid out there from the NHWC input at `src` ([n, h, w, ci]) by the thread that takes it
 * (`fewPadImage`; dstOff = (top*wp + left)*4 bytes).
 * Output [n, oh, ow, co], co a multiple of 8. Blocks of P positions (then single positions for the rest of
 * a row) by 8 output channels in 2P accumulators: per tap one offset load, two loads of the filter row,
 * P broadcast loads of x, 2P multiply-adds. Each caller takes chunks of `chunk` images from the shared
 * counter at `counter` (an atomic add) until none are left; every output element is written by one caller.
 */
function convFewBlock(p, relaxed) {
  const ps = lanes(p);
  const init = ps
    .map((i) => `(local.set $a${i}0 (local.get $b0v)) (local.set $a${i}1 (local.get $b1v))`)
    .join(' ');
  const body = ps
    .map(
      (i) => `(local.set $s (v128.load32_splat offset=${4 * i} (local.get $q)))
            (local.set $a${i}0 ${madd(relaxed, `(local.get $a${i}0)`, '(local.get $s)', '(local.get $w0)')})
            (local.set $a${i}1 ${madd(relaxed, `(local.get $a${i}1)`, '(local.get $s)', '(local.get $w1)')})`,
    )
    .join('\n            ');
  const clamp = ps
    .map(
      (i) =>
        `(local.set $a${i}0 (f32x4.max (local.get $a${i}0) (v128.const i32x4 0 0 0 0))) (local.set $a${i}1 (f32x4.max (local.get $a${i}1) (v128.const i32x4 0 0 0 0)))`,
    )
    .join(' ');
  const store = ps
    .map(
      (i) => `(v128.store (local.get $o) (local.get $a${i}0))
          (v128.store offset=16 (local.get $o) (local.get $a${i}1))
          (local.set $o (i32.add (local.get $o) (local.get $coBytes)))`,
    )
    .join('\n          ');
  return `
      (block $doneX${p} (loop $loopX${p}
        (br_if $doneX${p} (i32.gt_u (i32.add (local.get $x) (i32.const ${p})) (local.get $ow)))
        (local.set $px (i32.add (local.get $row) (i32.shl (local.get $x) (i32.const 2))))
        (local.set $ob (i32.const 0))
        (block $doneO${p} (loop $loopO${p}
          (br_if $doneO${p} (i32.ge_u (local.get $ob) (local.get $coBytes)))
          (local.set $b0v (v128.load (i32.add (local.get $bias) (local.get $ob))))
          (local.set $b1v (v128.load offset=16 (i32.add (local.get $bias) (local.get $ob))))
          ${init}
          (local.set $tp (local.get $tab))
          (local.set $wq (i32.add (local.get $wt) (local.get $ob)))
          (loop $loopT${p}
            (local.set $q (i32.add (local.get $px) (i32.load (local.get $tp))))
            (local.set $w0 (v128.load (local.get $wq)))
            (local.set $w1 (v128.load offset=16 (local.get $wq)))
            ${body}
            (local.set $tp (i32.add (local.get $tp) (i32.const 4)))
            (local.set $wq (i32.add (local.get $wq) (local.get $coBytes)))
            (br_if $loopT${p} (i32.lt_u (local.get $tp) (local.get $tEnd))))
          (if (local.get $relu) (then ${clamp}))
          (local.set $o (i32.add (i32.add (local.get $outRow) (local.get $ob))
            (i32.mul (local.get $x) (local.get $coBytes))))
          ${store}
          (local.set $ob (i32.add (local.get $ob) (i32.const 32)))
          (br $loopO${p})))
        (local.set $x (i32.add (local.get $x) (i32.const ${p})))
        (br $loopX${p})))`;
}

/**
 * Lays image $b of the NHWC input at `src` ([n, h, w, ci]) out channel-major on the zero-padded grid at
 * $row (the image's start in xp, `imgBytes` long): zeros, then each channel's plane through toChannelMajor,
 * starting `dstOff` bytes in (the top and left padding). Used by convFew and filterFew, so that each
 * thread lays out the images it takes.
 */
const fewPadImage = `(memory.fill (local.get $row) (i32.const 0) (local.get $imgBytes))
        (call $toChannelMajor
          (i32.add (local.get $src) (i32.mul (local.get $b) (i32.mul (i32.mul (local.get $h) (local.get $w)) (i32.shl (local.get $ci) (i32.const 2)))))
          (i32.const 1) (local.get $h) (local.get $w) (local.get $ci)
          (i32.mul (i32.mul (local.get $h) (local.get $w)) (i32.shl (local.get $ci) (i32.const 2)))
          (i32.mul (local.get $w) (i32.shl (local.get $ci) (i32.const 2)))
          (i32.add (local.get $row) (local.get $dstOff))
          (i32.div_u (local.get $imgBytes) (local.get $ci)) (local.get $imgBytes) (local.get $wpBytes))`;

/**
 * Positions per block of {@link convFewBlock}, then single positions for the rest of a row: 2P
 * accumulators, two filter vectors and one broadcast. Measured on the Xeon host, blocks of 5 or 6 positions
 * ran 1.2-1.6x slower than 4 (more live vectors than x64 has registers).
 */
const CONV_FEW_POSITIONS = 4;

const convFew = (relaxed) => `
  (func (export "convFew")
    (param $xp i32) (param $wt i32) (param $bias i32) (param $out i32) (param $tab i32) (param $taps i32)
    (param $n i32) (param $imgBytes i32) (param $wpBytes i32) (param $oh i32) (param $ow i32) (param $co i32)
    (param $counter i32) (param $chunk i32) (param $relu i32) (param $src i32) (param $h i32) (param $w i32)
    (param $ci i32) (param $dstOff i32)
    (local $k i32) (local $b i32) (local $b1 i32) (local $y i32) (local $x i32) (local $ob i32) (local $row i32)
    (local $px i32) (local $q i32) (local $tp i32) (local $tEnd i32) (local $wq i32) (local $o i32)
    (local $outRow i32) (local $coBytes i32)
    (local $w0 v128) (local $w1 v128) (local $s v128) (local $b0v v128) (local $b1v v128)
    ${lanes(CONV_FEW_POSITIONS)
      .map((i) => `(local $a${i}0 v128) (local $a${i}1 v128)`)
      .join(' ')}
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    (local.set $tEnd (i32.add (local.get $tab) (i32.shl (local.get $taps) (i32.const 2))))
    (block $doneK (loop $loopK
      ${claimChunk}
      (block $doneB (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $row (i32.add (local.get $xp) (i32.mul (local.get $b) (local.get $imgBytes))))
        ${fewPadImage}
        (local.set $outRow (i32.add (local.get $out) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $oh)) (local.get $ow)) (local.get $coBytes))))
        (local.set $y (i32.const 0))
        (block $doneY (loop $loopY
          (br_if $doneY (i32.ge_u (local.get $y) (local.get $oh)))
          (local.set $x (i32.const 0))
          ${convFewBlock(CONV_FEW_POSITIONS, relaxed)}
          ${convFewBlock(1, relaxed)}
          (local.set $row (i32.add (local.get $row) (local.get $wpBytes)))
          (local.set $outRow (i32.add (local.get $outRow) (i32.mul (local.get $ow) (local.get $coBytes))))
          (local.set $y (i32.add (local.get $y) (i32.const 1)))
          (br $loopY)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB)))
      (br $loopK)))
  )`;

/**
 * convWino: a stride-1 3x3 convolution (NHWC) by Winograd's minimal filtering F(2x2, 3x3): each 2x2 block
 * of outputs ("tile") is A^T [sum over c of (G g G^T)[c] . (B^T d B)[c]] A, where d is the tile's 4x4
 * input window, so the products per output are 16 / 4 = 4 per channel pair instead of 9 (2.25x fewer
 * multiply-adds; the transforms are additions). `u` holds the filter already transformed by the caller,
 * U[xi][c][o] = (G g[., ., c, o] G^T)[xi] (float32 [16, ci, co]). Image by image (each laid out on the
 * padded grid first, as in convDirect), tile row by tile row: the input transform of the row's T = ow / 2
 * tiles goes to V[xi][t][c] in the caller's scratch slot (one per chunk: `scratch + k * slotBytes`); then
 * for 8 output channels at a time and blocks of 4 tiles (the last overlapping the one before when 4 does
 * not divide T), 16 products M[xi] = V[xi] (4 tiles x ci) . U[xi] (ci x 8) in 8 accumulators, as
 * convDirect's inner loop (4 broadcast loads, two loads of U, 8 multiply-adds per channel), stored to the
 * slot; then the output transform, bias and ReLU. Needs oh and ow even, T >= 4, ci a multiple of 4, co of
 * 8. Chunks of images from the counter at `counter`; each output element is written by one caller.
 */
function winoGemm(relaxed, planes = 16) {
  const body = broadcastMadds('$pv', 4, relaxed);
  const zero = lanes(4)
    .map(
      (t) => `(local.set $a${t}0 (v128.const i32x4 0 0 0 0)) (local.set $a${t}1 (v128.const i32x4 0 0 0 0))`,
    )
    .join(' ');
  const store = lanes(4)
    .map(
      (t) =>
        `(v128.store offset=${32 * t} (local.get $pm) (local.get $a${t}0)) (v128.store offset=${32 * t + 16} (local.get $pm) (local.get $a${t}1))`,
    )
    .join('\n              ');
  return `
            (local.set $xi (i32.const 0))
            (block $doneXi (loop $loopXi
              (br_if $doneXi (i32.ge_u (local.get $xi) (i32.const ${planes})))
              ${zero}
              (local.set $pu (i32.add (i32.add (local.get $u) (local.get $ob)) (i32.mul (local.get $xi) (local.get $uXiBytes))))
              (local.set $pv (i32.add (i32.add (local.get $vs) (i32.mul (local.get $xi) (local.get $xiStride))) (i32.mul (local.get $tb) (local.get $ciBytes))))
              (local.set $pEnd (i32.add (local.get $pv) (local.get $ciBytes)))
              (block $doneC (loop $loopC
                (br_if $doneC (i32.ge_u (local.get $pv) (local.get $pEnd)))
                (local.set $w0 (v128.load (local.get $pu)))
                (local.set $w1 (v128.load offset=16 (local.get $pu)))
                ${body}
                (local.set $pv (i32.add (local.get $pv) (i32.const 4)))
                (local.set $pu (i32.add (local.get $pu) (local.get $coBytes)))
                (br $loopC)))
              (local.set $pm (i32.add (local.get $ms) (i32.shl (local.get $xi) (i32.const 7))))
              ${store}
              (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
              (br $loopXi)))`;
}

/** The input transform of one tile: 16 loads of 4 channels, B^T d B, 16 stores to V. */
const winoInput = (() => {
  const ij = (f) => lanes(4).flatMap((i) => lanes(4).map((j) => f(i, j)));
  const rowBase = (i) =>
    i === 0 ? '(local.get $pd)' : `(i32.add (local.get $pd) (local.get $row${i}Bytes))`;
  const colOff = (j) => (j === 0 ? '' : ` (local.get $ci${j === 1 ? '' : j}Bytes)`);
  const load = ij(
    (i, j) =>
      `(local.set $d${i}${j} (v128.load ${j === 0 ? rowBase(i) : `(i32.add ${rowBase(i)}${colOff(j)})`}))`,
  ).join('\n              ');
  // rows: t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3 (in place, column by column)
  const rows = lanes(4)
    .map(
      (j) => `(local.set $e0 (f32x4.sub (local.get $d0${j}) (local.get $d2${j})))
              (local.set $e1 (f32x4.add (local.get $d1${j}) (local.get $d2${j})))
              (local.set $e2 (f32x4.sub (local.get $d2${j}) (local.get $d1${j})))
              (local.set $d3${j} (f32x4.sub (local.get $d1${j}) (local.get $d3${j})))
              (local.set $d0${j} (local.get $e0)) (local.set $d1${j} (local.get $e1)) (local.set $d2${j} (local.get $e2))`,
    )
    .join('\n              ');
  const cols = lanes(4)
    .map(
      (i) => `(local.set $e0 (f32x4.sub (local.get $d${i}0) (local.get $d${i}2)))
              (local.set $e1 (f32x4.add (local.get $d${i}1) (local.get $d${i}2)))
              (local.set $e2 (f32x4.sub (local.get $d${i}2) (local.get $d${i}1)))
              (local.set $d${i}3 (f32x4.sub (local.get $d${i}1) (local.get $d${i}3)))
              (local.set $d${i}0 (local.get $e0)) (local.set $d${i}1 (local.get $e1)) (local.set $d${i}2 (local.get $e2))`,
    )
    .join('\n              ');
  const stores = ij(
    (i, j) =>
      `(v128.store (i32.add (local.get $pvs) (i32.mul (i32.const ${4 * i + j}) (local.get $xiStride))) (local.get $d${i}${j}))`,
  ).join('\n              ');
  return `${load}\n              ${rows}\n              ${cols}\n              ${stores}`;
})();

/** The output transform of tile t of the block for 4 output channels at byte $vo of the 8: A^T M A. */
const winoOutput = (() => {
  const m = (i, j) => `(v128.load offset=${(4 * i + j) * 128} (local.get $pm))`;
  // r0[j] = m0j + m1j + m2j, r1[j] = m1j - m2j - m3j; y0 = r0 A, y1 = r1 A
  const r = lanes(4)
    .map(
      (j) => `(local.set $e${j} (f32x4.add (f32x4.add ${m(0, j)} ${m(1, j)}) ${m(2, j)}))
              (local.set $d1${j} (f32x4.sub (f32x4.sub ${m(1, j)} ${m(2, j)}) ${m(3, j)}))`,
    )
    .join('\n              ');
  const y = (src) => [
    `(f32x4.add (f32x4.add (f32x4.add ${src(0)} ${src(1)}) ${src(2)}) (local.get $bv))`,
    `(f32x4.add (f32x4.sub (f32x4.sub ${src(1)} ${src(2)}) ${src(3)}) (local.get $bv))`,
  ];
  const [y00, y01] = y((j) => `(local.get $e${j})`);
  const [y10, y11] = y((j) => `(local.get $d1${j})`);
  const relu = (v) =>
    `(if (result v128) (local.get $relu) (then (f32x4.max ${v} (v128.const i32x4 0 0 0 0))) (else ${v}))`;
  return `${r}
              (v128.store (local.get $po) ${relu(y00)})
              (v128.store (i32.add (local.get $po) (local.get $coBytes)) ${relu(y01)})
              (v128.store (i32.add (local.get $po) (local.get $outRowBytes)) ${relu(y10)})
              (v128.store (i32.add (i32.add (local.get $po) (local.get $outRowBytes)) (local.get $coBytes)) ${relu(y11)})`;
})();

const convWino = (relaxed) => `
  (func (export "convWino")
    (param $xp i32) (param $u i32) (param $bias i32) (param $out i32) (param $n i32) (param $hp i32)
    (param $wp i32) (param $ci i32) (param $oh i32) (param $ow i32) (param $co i32) (param $counter i32)
    (param $chunk i32) (param $relu i32) (param $src i32) (param $h i32) (param $w i32) (param $top i32)
    (param $left i32) (param $scratch i32) (param $slotBytes i32)
    (local $yp i32) (local $dst i32) (local $rowBytes i32) (local $leftBytes i32) (local $srcRowBytes i32)
    (local $k i32) (local $b i32) (local $b1 i32) (local $img i32) (local $outImg i32) (local $vs i32) (local $ms i32)
    (local $tiles i32) (local $ty i32) (local $tx i32) (local $cg i32) (local $pd i32) (local $pvs i32) (local $xiStride i32)
    (local $ob i32) (local $tb i32) (local $xi i32) (local $pu i32) (local $pv i32) (local $pEnd i32) (local $pm i32)
    (local $t i32) (local $vo i32) (local $po i32) (local $uXiBytes i32) (local $outRowBytes i32)
    (local $ciBytes i32) (local $ci2Bytes i32) (local $ci3Bytes i32) (local $coBytes i32)
    (local $row1Bytes i32) (local $row2Bytes i32) (local $row3Bytes i32)
    (local $w0 v128) (local $w1 v128) (local $s v128) (local $bv v128)
    (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128)
    ${lanes(4)
      .flatMap((i) => lanes(4).map((j) => `(local $d${i}${j} v128)`))
      .join(' ')}
    ${lanes(4)
      .map((i) => `(local $a${i}0 v128) (local $a${i}1 v128)`)
      .join(' ')}
    (local.set $ciBytes (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $ci2Bytes (i32.shl (local.get $ciBytes) (i32.const 1)))
    (local.set $ci3Bytes (i32.mul (local.get $ciBytes) (i32.const 3)))
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $wp) (local.get $ciBytes)))
    (local.set $row1Bytes (local.get $rowBytes))
    (local.set $row2Bytes (i32.shl (local.get $rowBytes) (i32.const 1)))
    (local.set $row3Bytes (i32.mul (local.get $rowBytes) (i32.const 3)))
    (local.set $leftBytes (i32.mul (local.get $left) (local.get $ciBytes)))
    (local.set $srcRowBytes (i32.mul (local.get $w) (local.get $ciBytes)))
    (local.set $outRowBytes (i32.mul (local.get $ow) (local.get $coBytes)))
    (local.set $tiles (i32.shr_u (local.get $ow) (i32.const 1)))
    ;; one cache line more than the tiles need between the 16 planes of V: planes a power of two apart would
    ;; put the 16 stores of a tile's transform in one set of the L1 cache (4K aliasing)
    (local.set $xiStride (i32.add (i32.mul (local.get $tiles) (local.get $ciBytes)) (i32.const 64)))
    (local.set $uXiBytes (i32.mul (local.get $ci) (local.get $coBytes)))
    (block $doneK (loop $loopK
      ${claimChunk}
      ;; this chunk's scratch: V [16, tiles, ci], then M [16, 4 tiles, 8]
      (local.set $vs (i32.add (local.get $scratch) (i32.mul (local.get $k) (local.get $slotBytes))))
      (local.set $ms (i32.add (local.get $vs) (i32.shl (local.get $xiStride) (i32.const 4))))
      (block $doneB (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $img (i32.add (local.get $xp) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $hp)) (local.get $wp)) (local.get $ciBytes))))
        ${padImage}
        (local.set $outImg (i32.add (local.get $out) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $oh)) (local.get $ow)) (local.get $coBytes))))
        (local.set $ty (i32.const 0))
        (block $doneTy (loop $loopTy
          (br_if $doneTy (i32.ge_u (i32.shl (local.get $ty) (i32.const 1)) (local.get $oh)))
          ;; the input transform of the tile row
          (local.set $tx (i32.const 0))
          (block $doneTx (loop $loopTx
            (br_if $doneTx (i32.ge_u (local.get $tx) (local.get $tiles)))
            (local.set $cg (i32.const 0))
            (block $doneCg (loop $loopCg
              (br_if $doneCg (i32.ge_u (local.get $cg) (local.get $ciBytes)))
              (local.set $pd (i32.add (i32.add (local.get $img) (local.get $cg))
                (i32.add (i32.mul (i32.shl (local.get $ty) (i32.const 1)) (local.get $rowBytes))
                  (i32.mul (i32.shl (local.get $tx) (i32.const 1)) (local.get $ciBytes)))))
              (local.set $pvs (i32.add (i32.add (local.get $vs) (local.get $cg)) (i32.mul (local.get $tx) (local.get $ciBytes))))
              ${winoInput}
              (local.set $cg (i32.add (local.get $cg) (i32.const 16)))
              (br $loopCg)))
            (local.set $tx (i32.add (local.get $tx) (i32.const 1)))
            (br $loopTx)))
          (local.set $ob (i32.const 0))
          (block $doneO (loop $loopO
            (br_if $doneO (i32.ge_u (local.get $ob) (local.get $coBytes)))
            (local.set $tb (i32.const 0))
            (block $doneTb (loop $loopTb
              (br_if $doneTb (i32.ge_u (local.get $tb) (local.get $tiles)))
              ;; the last block overlaps the one before when 4 does not divide the tiles: the same values again
              (if (i32.gt_u (i32.add (local.get $tb) (i32.const 4)) (local.get $tiles))
                (then (local.set $tb (i32.sub (local.get $tiles) (i32.const 4)))))
              ${winoGemm(relaxed)}
              ;; the output transform of the block's 4 tiles, 4 channels at a time
              (local.set $t (i32.const 0))
              (block $doneT (loop $loopT
                (br_if $doneT (i32.ge_u (local.get $t) (i32.const 4)))
                (local.set $vo (i32.const 0))
                (block $doneV (loop $loopV
                  (br_if $doneV (i32.ge_u (local.get $vo) (i32.const 32)))
                  (local.set $pm (i32.add (i32.add (local.get $ms) (i32.shl (local.get $t) (i32.const 5))) (local.get $vo)))
                  (local.set $bv (v128.load (i32.add (i32.add (local.get $bias) (local.get $ob)) (local.get $vo))))
                  (local.set $po (i32.add (i32.add (i32.add (local.get $outImg) (local.get $ob)) (local.get $vo))
                    (i32.add (i32.mul (i32.shl (local.get $ty) (i32.const 1)) (local.get $outRowBytes))
                      (i32.mul (i32.shl (i32.add (local.get $tb) (local.get $t)) (i32.const 1)) (local.get $coBytes)))))
                  ${winoOutput}
                  (local.set $vo (i32.add (local.get $vo) (i32.const 16)))
                  (br $loopV)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $loopT)))
              (local.set $tb (i32.add (local.get $tb) (i32.const 4)))
              (br $loopTb)))
            (local.set $ob (i32.add (local.get $ob) (i32.const 32)))
            (br $loopO)))
          (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
          (br $loopTy)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB)))
      (br $loopK)))
  )`;

/**
 * F(4x4, 3x3)'s transforms along one axis, on six v128 expressions, into locals $f0..$f5 (input) or
 * $f0..$f3 (output). Input, B^T d (points 0, 1, -1, 2, -2, infinity):
 *   t0 = 4 (d0 - d2) + (d4 - d2), t1 = (d4 - 4 d2) + (d3 - 4 d1), t2 = (d4 - 4 d2) - (d3 - 4 d1),
 *   t3 = (d4 - d2) + 2 (d3 - d1), t4 = (d4 - d2) - 2 (d3 - d1), t5 = 4 (d1 - d3) + (d5 - d3).
 * Output, A^T m: with s = m1 + m2, d = m1 - m2, s2 = m3 + m4, d2 = m3 - m4:
 *   y0 = m0 + s + s2, y1 = d + 2 d2, y2 = s + 4 s2, y3 = d + 8 d2 + m5.
 */
const k4 = '(v128.const f32x4 4 4 4 4)';
const wino4In = (d) => `(local.set $g0 ${d[0]}) (local.set $g1 ${d[1]}) (local.set $g2 ${d[2]})
              (local.set $g3 ${d[3]}) (local.set $g4 ${d[4]}) (local.set $g5 ${d[5]})
              (local.set $c (f32x4.sub (local.get $g4) (local.get $g2)))
              (local.set $a (f32x4.sub (local.get $g4) (f32x4.mul (local.get $g2) ${k4})))
              (local.set $e (f32x4.sub (local.get $g3) (f32x4.mul (local.get $g1) ${k4})))
              (local.set $q (f32x4.sub (local.get $g3) (local.get $g1)))
              (local.set $q (f32x4.add (local.get $q) (local.get $q)))
              (local.set $f0 (f32x4.add (f32x4.mul (f32x4.sub (local.get $g0) (local.get $g2)) ${k4}) (local.get $c)))
              (local.set $f1 (f32x4.add (local.get $a) (local.get $e)))
              (local.set $f2 (f32x4.sub (local.get $a) (local.get $e)))
              (local.set $f3 (f32x4.add (local.get $c) (local.get $q)))
              (local.set $f4 (f32x4.sub (local.get $c) (local.get $q)))
              (local.set $f5 (f32x4.add (f32x4.mul (f32x4.sub (local.get $g1) (local.get $g3)) ${k4}) (f32x4.sub (local.get $g5) (local.get $g3))))`;
const wino4Out = (m) => `(local.set $g0 ${m[0]}) (local.set $g1 ${m[1]}) (local.set $g2 ${m[2]})
              (local.set $g3 ${m[3]}) (local.set $g4 ${m[4]}) (local.set $g5 ${m[5]})
              (local.set $c (f32x4.add (local.get $g1) (local.get $g2)))
              (local.set $a (f32x4.sub (local.get $g1) (local.get $g2)))
              (local.set $e (f32x4.add (local.get $g3) (local.get $g4)))
              (local.set $q (f32x4.sub (local.get $g3) (local.get $g4)))
              (local.set $f0 (f32x4.add (f32x4.add (local.get $g0) (local.get $c)) (local.get $e)))
              (local.set $f1 (f32x4.add (local.get $a) (f32x4.add (local.get $q) (local.get $q))))
              (local.set $f2 (f32x4.add (local.get $c) (f32x4.mul (local.get $e) ${k4})))
              (local.set $f3 (f32x4.add (f32x4.add (local.get $a) (f32x4.mul (local.get $q) (v128.const f32x4 8 8 8 8))) (local.get $g5)))`;

/**
 * A tile's transform to F(4x4, 3x3)'s 36 planes for 4 channels, in two passes: each of its n rows (at $pd,
 * `rowStep` bytes apart, columns `colBytes` apart) transformed along the row (`transform`: n values to 6)
 * into planes 6i + j, then each column of planes transformed along i in place. Planes are `stride` apart
 * from `base`. wino4Input: the 6x6 input window into V ($xiStride apart from $pvs); wino4Dy (below): the
 * 4x4 of dy into D.
 */
const wino4TwoPass = ({ transform, n, colBytes, stride, rowStep, base }) => {
  const col = (j) =>
    j === 0 ? '(local.get $pr)' : `(i32.add (local.get $pr) (local.get $${colBytes}${j}Bytes))`;
  const rowPass = lanes(n)
    .map(
      () => `${transform(lanes(n).map((j) => `(v128.load ${col(j)})`))}
              ${lanes(6)
                .map(
                  (j) =>
                    `(v128.store (local.get $pp) (local.get $f${j})) (local.set $pp (i32.add (local.get $pp) (local.get $${stride}Stride)))`,
                )
                .join('\n              ')}
              (local.set $pr (i32.add (local.get $pr) (local.get $${rowStep})))`,
    )
    .join('\n              ');
  const plane = (i) =>
    i === 0 ? '(local.get $pp)' : `(i32.add (local.get $pp) (local.get $${stride}${i}Stride))`;
  const colPass = lanes(6)
    .map(
      (
        j,
      ) => `(local.set $pp (i32.add (local.get $${base}) ${j === 0 ? '(i32.const 0)' : `(local.get $${stride}${j}Stride)`}))
              ${transform(lanes(n).map((i) => `(v128.load ${plane(6 * i)})`))}
              ${lanes(6)
                .map((i) => `(v128.store ${plane(6 * i)} (local.get $f${i}))`)
                .join('\n              ')}`,
    )
    .join('\n              ');
  return `(local.set $pr (local.get $pd)) (local.set $pp (local.get $${base}))
              ${rowPass}
              ${colPass}`;
};
const wino4Input = wino4TwoPass({
  transform: wino4In,
  n: 6,
  colBytes: 'ci',
  stride: 'xi',
  rowStep: 'rowBytes',
  base: 'pvs',
});

/**
 * The output transform of tile t of the block for 4 output channels at byte $vo of the 8 (M's slots at
 * $pm, plane xi at offset xi * 128): each column of M transformed along i in place (rows 0-3), then each
 * of those 4 rows along j into 4 outputs, plus bias, ReLU if asked, stored from $po.
 */
const wino4Output = (() => {
  const m = (i, j) => `offset=${(6 * i + j) * 128} (local.get $pm)`;
  const colPass = lanes(6)
    .map(
      (j) => `${wino4Out(lanes(6).map((i) => `(v128.load ${m(i, j)})`))}
              ${lanes(4)
                .map((i) => `(v128.store ${m(i, j)} (local.get $f${i}))`)
                .join(' ')}`,
    )
    .join('\n              ');
  const relu = (v) =>
    `(if (result v128) (local.get $relu) (then (f32x4.max ${v} (v128.const i32x4 0 0 0 0))) (else ${v}))`;
  const at = (x) => (x === 0 ? '(local.get $pr)' : `(i32.add (local.get $pr) (local.get $co${x}Bytes))`);
  const rowPass = lanes(4)
    .map(
      (r) => `${wino4Out(lanes(6).map((j) => `(v128.load ${m(r, j)})`))}
              ${lanes(4)
                .map((x) => `(v128.store ${at(x)} ${relu(`(f32x4.add (local.get $f${x}) (local.get $bv))`)})`)
                .join('\n              ')}
              (local.set $pr (i32.add (local.get $pr) (local.get $outRowBytes)))`,
    )
    .join('\n              ');
  return `${colPass}
              (local.set $pr (local.get $po))
              ${rowPass}`;
})();

/**
 * convWino4: convWino with Winograd's F(4x4, 3x3): each 4x4 block of outputs is A^T [sum over c of
 * (G g G^T)[c] . (B^T d B)[c]] A over its 6x6 input window d, 36 products per 16 outputs and channel pair
 * (2.25 instead of F(2x2, 3x3)'s 4 and direct's 9), the transforms being additions and multiplications by
 * 2, 4 and 8. `u` holds the filter transformed by the caller (float32 [36, ci, co]). Image by image
 * (padded in the kernel as in convDirect), in bands of `band` tiles (tiles numbered row by row, the last
 * band overlapping the one before when it does not divide the image's tiles): the input transform of the
 * band's tiles to V [36, band, ci] in the chunk's scratch slot, then for 8 output channels at a time and
 * blocks of 4 tiles (the last overlapping), 36 products M[xi] = V[xi] (4 tiles x ci) . U[xi] (ci x 8) as
 * in convWino, then the output transform, bias and ReLU. Needs oh and ow multiples of 4, 4 <= band <= the
 * image's tiles, ci a multiple of 4, co of 8.
 */
const convWino4 = (relaxed) => `
  (func (export "convWino4")
    (param $xp i32) (param $u i32) (param $bias i32) (param $out i32) (param $n i32) (param $hp i32)
    (param $wp i32) (param $ci i32) (param $oh i32) (param $ow i32) (param $co i32) (param $counter i32)
    (param $chunk i32) (param $relu i32) (param $src i32) (param $h i32) (param $w i32) (param $top i32)
    (param $left i32) (param $scratch i32) (param $slotBytes i32) (param $band i32)
    (local $yp i32) (local $dst i32) (local $rowBytes i32) (local $leftBytes i32) (local $srcRowBytes i32)
    (local $k i32) (local $b i32) (local $b1 i32) (local $img i32) (local $outImg i32) (local $vs i32) (local $ms i32)
    (local $tw i32) (local $tile i32) (local $tiles i32) (local $bs i32) (local $start i32) (local $g i32)
    (local $cg i32) (local $pd i32) (local $pvs i32) (local $pr i32) (local $pp i32) (local $xiStride i32)
    (local $ob i32) (local $tb i32) (local $xi i32) (local $pu i32) (local $pv i32) (local $pEnd i32) (local $pm i32)
    (local $t i32) (local $vo i32) (local $po i32) (local $uXiBytes i32) (local $outRowBytes i32)
    (local $ciBytes i32) (local $coBytes i32)
    ${[2, 3, 4, 5].map((j) => `(local $ci${j}Bytes i32)`).join(' ')} (local $ci1Bytes i32)
    ${[1, 2, 3].map((j) => `(local $co${j}Bytes i32)`).join(' ')}
    ${[1, 2, 3, 4, 5].map((j) => `(local $xi${j}Stride i32)`).join(' ')}
    ${[6, 12, 18, 24, 30].map((j) => `(local $xi${j}Stride i32)`).join(' ')}
    (local $w0 v128) (local $w1 v128) (local $s v128) (local $bv v128)
    (local $a v128) (local $c v128) (local $e v128) (local $q v128)
    ${lanes(6)
      .map((i) => `(local $g${i} v128) (local $f${i} v128)`)
      .join(' ')}
    ${lanes(4)
      .map((i) => `(local $a${i}0 v128) (local $a${i}1 v128)`)
      .join(' ')}
    (local.set $ciBytes (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $ci1Bytes (local.get $ciBytes))
    ${[2, 3, 4, 5].map((j) => `(local.set $ci${j}Bytes (i32.mul (local.get $ciBytes) (i32.const ${j})))`).join(' ')}
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    ${[1, 2, 3].map((j) => `(local.set $co${j}Bytes (i32.mul (local.get $coBytes) (i32.const ${j})))`).join(' ')}
    (local.set $rowBytes (i32.mul (local.get $wp) (local.get $ciBytes)))
    (local.set $leftBytes (i32.mul (local.get $left) (local.get $ciBytes)))
    (local.set $srcRowBytes (i32.mul (local.get $w) (local.get $ciBytes)))
    (local.set $outRowBytes (i32.mul (local.get $ow) (local.get $coBytes)))
    (local.set $tw (i32.shr_u (local.get $ow) (i32.const 2)))
    (local.set $tiles (i32.mul (local.get $tw) (i32.shr_u (local.get $oh) (i32.const 2))))
    ;; a cache line more than the band's tiles need between the 36 planes of V (see convWino)
    (local.set $xiStride (i32.add (i32.mul (local.get $band) (local.get $ciBytes)) (i32.const 64)))
    ${[1, 2, 3, 4, 5, 6, 12, 18, 24, 30]
      .map((j) => `(local.set $xi${j}Stride (i32.mul (local.get $xiStride) (i32.const ${j})))`)
      .join(' ')}
    (local.set $uXiBytes (i32.mul (local.get $ci) (local.get $coBytes)))
    (block $doneK (loop $loopK
      ${claimChunk}
      ;; this chunk's scratch: V [36, band, ci], then M [36, 4 tiles, 8]
      (local.set $vs (i32.add (local.get $scratch) (i32.mul (local.get $k) (local.get $slotBytes))))
      (local.set $ms (i32.add (local.get $vs) (i32.mul (local.get $xiStride) (i32.const 36))))
      (block $doneB (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $img (i32.add (local.get $xp) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $hp)) (local.get $wp)) (local.get $ciBytes))))
        ${padImage}
        (local.set $outImg (i32.add (local.get $out) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $oh)) (local.get $ow)) (local.get $coBytes))))
        (local.set $bs (i32.const 0))
        (block $doneBs (loop $loopBs
          (br_if $doneBs (i32.ge_u (local.get $bs) (local.get $tiles)))
          ;; the last band overlaps the one before when it does not divide the tiles: the same values again
          (local.set $start (select (i32.sub (local.get $tiles) (local.get $band)) (local.get $bs)
            (i32.gt_u (i32.add (local.get $bs) (local.get $band)) (local.get $tiles))))
          ;; the input transform of the band's tiles
          (local.set $t (i32.const 0))
          (block $doneTx (loop $loopTx
            (br_if $doneTx (i32.ge_u (local.get $t) (local.get $band)))
            (local.set $g (i32.add (local.get $start) (local.get $t)))
            ;; the tile's top-left input position
            (local.set $tile (i32.add (local.get $img)
              (i32.add (i32.mul (i32.shl (i32.div_u (local.get $g) (local.get $tw)) (i32.const 2)) (local.get $rowBytes))
                (i32.mul (i32.shl (i32.rem_u (local.get $g) (local.get $tw)) (i32.const 2)) (local.get $ciBytes)))))
            (local.set $cg (i32.const 0))
            (block $doneCg (loop $loopCg
              (br_if $doneCg (i32.ge_u (local.get $cg) (local.get $ciBytes)))
              (local.set $pd (i32.add (local.get $tile) (local.get $cg)))
              (local.set $pvs (i32.add (i32.add (local.get $vs) (local.get $cg)) (i32.mul (local.get $t) (local.get $ciBytes))))
              ${wino4Input}
              (local.set $cg (i32.add (local.get $cg) (i32.const 16)))
              (br $loopCg)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $loopTx)))
          (local.set $ob (i32.const 0))
          (block $doneO (loop $loopO
            (br_if $doneO (i32.ge_u (local.get $ob) (local.get $coBytes)))
            (local.set $tb (i32.const 0))
            (block $doneTb (loop $loopTb
              (br_if $doneTb (i32.ge_u (local.get $tb) (local.get $band)))
              (if (i32.gt_u (i32.add (local.get $tb) (i32.const 4)) (local.get $band))
                (then (local.set $tb (i32.sub (local.get $band) (i32.const 4)))))
              ${winoGemm(relaxed, 36)}
              ;; the output transform of the block's 4 tiles, 4 channels at a time
              (local.set $t (i32.const 0))
              (block $doneT (loop $loopT
                (br_if $doneT (i32.ge_u (local.get $t) (i32.const 4)))
                (local.set $g (i32.add (i32.add (local.get $start) (local.get $tb)) (local.get $t)))
                ;; the tile's top-left output position, for these 8 channels
                (local.set $tile (i32.add (i32.add (local.get $outImg) (local.get $ob))
                  (i32.add (i32.mul (i32.shl (i32.div_u (local.get $g) (local.get $tw)) (i32.const 2)) (local.get $outRowBytes))
                    (i32.mul (i32.shl (i32.rem_u (local.get $g) (local.get $tw)) (i32.const 2)) (local.get $coBytes)))))
                (local.set $vo (i32.const 0))
                (block $doneV (loop $loopV
                  (br_if $doneV (i32.ge_u (local.get $vo) (i32.const 32)))
                  (local.set $pm (i32.add (i32.add (local.get $ms) (i32.shl (local.get $t) (i32.const 5))) (local.get $vo)))
                  (local.set $bv (v128.load (i32.add (i32.add (local.get $bias) (local.get $ob)) (local.get $vo))))
                  (local.set $po (i32.add (local.get $tile) (local.get $vo)))
                  ${wino4Output}
                  (local.set $vo (i32.add (local.get $vo) (i32.const 16)))
                  (br $loopV)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $loopT)))
              (local.set $tb (i32.add (local.get $tb) (i32.const 4)))
              (br $loopTb)))
            (local.set $ob (i32.add (local.get $ob) (i32.const 32)))
            (br $loopO)))
          (local.set $bs (i32.add (local.get $bs) (local.get $band)))
          (br $loopBs)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB)))
      (br $loopK)))
  )`;

/**
 * filterFew: the filter gradient of a stride-1 convolution with few input channels, on the channel-major
 * padded input of convFew (image b at xp + b*imgBytes, tap t's byte offset in the table at `tab`; each
 * image laid out from `src` by the thread that takes it, as in convFew):
 *   dW[t, o] = sum over b, y, x of xp[b + tab[t] + y*wpBytes + 4x] * dy[b, y, x, o]
 * Each caller takes chunks of `chunk` images from the shared counter at `counter` until none are left and
 * adds chunk k's sums to its partial dW at out + k*partBytes ([taps, co], zeroed by the caller, who adds
 * the partials in chunk order, so the result does not depend on which thread took which chunk). Blocks of
 * R taps (4, then 3, 2 or 1 for the rest) by 8 output channels in 2R accumulators, over strips of `strip`
 * output rows (so that a strip of dy stays in the L1 cache while every block passes over it): per
 * position two loads of dy, R broadcast loads of x, 2R multiply-adds. co a multiple of 8.
 */
function filterFewBlock(r, relaxed) {
  const rs = lanes(r);
  const offs = rs.map((i) => `(local.set $t${i} (i32.load offset=${4 * i} (local.get $tp)))`).join(' ');
  const rowAddr = (i) =>
    i === 0 ? '(local.get $o)' : `(i32.add (local.get $o) (i32.mul (i32.const ${i}) (local.get $coBytes)))`;
  const load = rs
    .map(
      (i) =>
        `(local.set $a${i}0 (v128.load ${rowAddr(i)})) (local.set $a${i}1 (v128.load offset=16 ${rowAddr(i)}))`,
    )
    .join('\n              ');
  const store = rs
    .map(
      (i) =>
        `(v128.store ${rowAddr(i)} (local.get $a${i}0)) (v128.store offset=16 ${rowAddr(i)} (local.get $a${i}1))`,
    )
    .join('\n              ');
  const body = rs
    .map(
      (i) => `(local.set $s (v128.load32_splat (i32.add (local.get $px) (local.get $t${i}))))
                  (local.set $a${i}0 ${madd(relaxed, `(local.get $a${i}0)`, '(local.get $s)', '(local.get $d0)')})
                  (local.set $a${i}1 ${madd(relaxed, `(local.get $a${i}1)`, '(local.get $s)', '(local.get $d1)')})`,
    )
    .join('\n                  ');
  return `(block $doneR${r}
          ${offs}
          (local.set $ob (i32.const 0))
          (block $doneO${r} (loop $loopO${r}
            (br_if $doneO${r} (i32.ge_u (local.get $ob) (local.get $coBytes)))
            ;; accumulators: rows t .. t + ${r - 1} of the partial dW, bytes ob .. ob + 32 of each
            (local.set $o (i32.add (i32.add (local.get $part) (local.get $ob)) (i32.mul (local.get $t) (local.get $coBytes))))
              ${load}
            (local.set $y (local.get $y0))
            (block $doneY${r} (loop $loopY${r}
              (br_if $doneY${r} (i32.ge_u (local.get $y) (local.get $y1)))
              (local.set $px (i32.add (local.get $img) (i32.mul (local.get $y) (local.get $wpBytes))))
              (local.set $dp (i32.add (i32.add (local.get $dyImg) (local.get $ob)) (i32.mul (i32.mul (local.get $y) (local.get $ow)) (local.get $coBytes))))
              (local.set $dEnd (i32.add (local.get $dp) (i32.mul (local.get $ow) (local.get $coBytes))))
              (loop $loopX${r}
                (local.set $d0 (v128.load (local.get $dp)))
                (local.set $d1 (v128.load offset=16 (local.get $dp)))
                  ${body}
                (local.set $px (i32.add (local.get $px) (i32.const 4)))
                (local.set $dp (i32.add (local.get $dp) (local.get $coBytes)))
                (br_if $loopX${r} (i32.lt_u (local.get $dp) (local.get $dEnd))))
              (local.set $y (i32.add (local.get $y) (i32.const 1)))
              (br $loopY${r})))
              ${store}
            (local.set $ob (i32.add (local.get $ob) (i32.const 32)))
            (br $loopO${r})))
          (local.set $t (i32.add (local.get $t) (i32.const ${r})))
          (local.set $tp (i32.add (local.get $tp) (i32.const ${4 * r})))
          (br $nextT))`;
}

/**
 * Taps per block of {@link filterFewBlock} (then 3, 2 or 1 for the rest): 2R accumulators. Measured on the
 * Xeon host (one thread, cifar-vgg-small's first layer): 4 taps 8.9-9.1 ms, 3 taps 9.5-9.6, 5 taps 11-14.
 */
const FILTER_FEW_TAPS = 4;
const filterFew = (relaxed) => `
  (func (export "filterFew")
    (param $xp i32) (param $dy i32) (param $out i32) (param $tab i32) (param $taps i32) (param $n i32)
    (param $imgBytes i32) (param $wpBytes i32) (param $oh i32) (param $ow i32) (param $co i32)
    (param $strip i32) (param $counter i32) (param $chunk i32) (param $partBytes i32) (param $src i32)
    (param $h i32) (param $w i32) (param $ci i32) (param $dstOff i32)
    (local $k i32) (local $b i32) (local $b1 i32) (local $part i32) (local $img i32) (local $dyImg i32) (local $row i32)
    (local $y0 i32) (local $y1 i32) (local $y i32) (local $t i32) (local $tp i32) (local $ob i32) (local $o i32)
    (local $px i32) (local $dp i32) (local $dEnd i32) (local $coBytes i32) (local $d0 v128) (local $d1 v128) (local $s v128)
    ${lanes(FILTER_FEW_TAPS)
      .map((i) => `(local $a${i}0 v128) (local $a${i}1 v128) (local $t${i} i32)`)
      .join(' ')}
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    (block $doneK (loop $loopK
      ${claimChunk}
      (local.set $part (i32.add (local.get $out) (i32.mul (local.get $k) (local.get $partBytes))))
      (block $doneB (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $img (i32.add (local.get $xp) (i32.mul (local.get $b) (local.get $imgBytes))))
        (local.set $row (local.get $img))
        ${fewPadImage}
        (local.set $dyImg (i32.add (local.get $dy) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $oh)) (local.get $ow)) (local.get $coBytes))))
        (local.set $y0 (i32.const 0))
        (block $doneS (loop $loopS
          (br_if $doneS (i32.ge_u (local.get $y0) (local.get $oh)))
          (local.set $y1 (select (local.get $oh) (i32.add (local.get $y0) (local.get $strip))
            (i32.lt_u (local.get $oh) (i32.add (local.get $y0) (local.get $strip)))))
          (local.set $t (i32.const 0))
          (local.set $tp (local.get $tab))
          (block $doneT (loop $nextT
            (br_if $doneT (i32.ge_u (local.get $t) (local.get $taps)))
            (if (i32.ge_u (i32.sub (local.get $taps) (local.get $t)) (i32.const ${FILTER_FEW_TAPS})) (then ${filterFewBlock(FILTER_FEW_TAPS, relaxed)}))
            (if (i32.ge_u (i32.sub (local.get $taps) (local.get $t)) (i32.const 3)) (then ${filterFewBlock(3, relaxed)}))
            (if (i32.eq (i32.sub (local.get $taps) (local.get $t)) (i32.const 2)) (then ${filterFewBlock(2, relaxed)}))
            ${filterFewBlock(1, relaxed)}))
          (local.set $y0 (local.get $y1))
          (br $loopS)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB)))
      (br $loopK)))
  )`;

/**
 * filterWino: the filter gradient of a stride-1 3x3 convolution by Winograd's F(2x2, 3x3), the transpose of
 * convWino: with V = B^T d B each tile's input transform and D = A dy A^T its output gradient's (2x2 -> 4x4),
 *   P[xi][c][o] = sum over images and tiles of V[xi][tile][c] * D[xi][tile][o]
 * (2.25x fewer multiply-adds than summing x * dy per tap); the caller turns P into dW = G^T P G. Image by
 * image (padded in the kernel as in convDirect) and block of `rowsPerBlock` tile rows (so that the
 * transforms stay in the L2 cache), both transforms of the block's tiles go to the chunk's scratch slot
 * (`scratch + k * slotBytes`: V [16, tiles, ci], D [16, tiles, co]); then for each xi, blocks
 * of 4 input by 8 output channels in 8 accumulators walk the tiles (4 broadcast loads of V, two loads of D,
 * 8 multiply-adds), added to chunk k's partial P at `out + k * partBytes` (zeroed by the caller, who sums
 * the partials in chunk order). Needs oh and ow even, ci a multiple of 4, co of 8.
 */
const winoDyTransform = (() => {
  const rowBase = (i) => (i === 0 ? '(local.get $pd)' : '(i32.add (local.get $pd) (local.get $outRowBytes))');
  const load = lanes(2)
    .flatMap((i) =>
      lanes(2).map(
        (j) =>
          `(local.set $d${i}${j} (v128.load ${j === 0 ? rowBase(i) : `(i32.add ${rowBase(i)} (local.get $coBytes))`}))`,
      ),
    )
    .join('\n              ');
  // A y (4x2): rows y0, y0 + y1, y0 - y1, -y1 (columns j); then each row (p, q) -> (p, p + q, p - q, -q).
  const neg = (v) => `(f32x4.neg ${v})`;
  const rows = (j) => [
    `(local.get $d0${j})`,
    `(f32x4.add (local.get $d0${j}) (local.get $d1${j}))`,
    `(f32x4.sub (local.get $d0${j}) (local.get $d1${j}))`,
    neg(`(local.get $d1${j})`),
  ];
  const r0 = rows(0);
  const r1 = rows(1);
  const sets = lanes(4)
    .map(
      (i) => `(local.set $e0 ${r0[i]}) (local.set $e1 ${r1[i]})
              (local.set $d2${i} (local.get $e0))
              (local.set $d3${i} (f32x4.add (local.get $e0) (local.get $e1)))
              (local.set $a${i}0 (f32x4.sub (local.get $e0) (local.get $e1)))
              (local.set $a${i}1 ${neg('(local.get $e1)')})`,
    )
    .join('\n              ');
  // row i of D: d2i, d3i, a i0, a i1 -> xi = 4i + j
  const vals = (i) => [
    `(local.get $d2${i})`,
    `(local.get $d3${i})`,
    `(local.get $a${i}0)`,
    `(local.get $a${i}1)`,
  ];
  // the rows above are computed before any is stored; stores after all four rows
  const stores = lanes(4)
    .flatMap((i) =>
      lanes(4).map(
        (j) =>
          `(v128.store (i32.add (local.get $pds) (i32.mul (i32.const ${4 * i + j}) (local.get $dXiStride))) ${vals(i)[j]})`,
      ),
    )
    .join('\n              ');
  return `${load}\n              ${sets}\n              ${stores}`;
})();

/**
 * The Winograd filter gradients' transforms of a tile row $ty: for each of its $tiles tiles (2x2 or 4x4 of
 * outputs, `shift` = log2 of the tile), `input` (x's transform, from $pd into V at $pvs) for each 4 input
 * channels and `dy` (dy's, into D at $pds) for each 4 output channels, at tile $ti of the block.
 */
const filterTileTransforms = (shift, input, dy) => `          (local.set $tx (i32.const 0))
          (block $doneTx (loop $loopTx
            (br_if $doneTx (i32.ge_u (local.get $tx) (local.get $tiles)))
            (local.set $cg (i32.const 0))
            (block $doneCg (loop $loopCg
              (br_if $doneCg (i32.ge_u (local.get $cg) (local.get $ciBytes)))
              (local.set $pd (i32.add (i32.add (local.get $img) (local.get $cg))
                (i32.add (i32.mul (i32.shl (local.get $ty) (i32.const ${shift})) (local.get $rowBytes))
                  (i32.mul (i32.shl (local.get $tx) (i32.const ${shift})) (local.get $ciBytes)))))
              (local.set $pvs (i32.add (i32.add (local.get $vs) (local.get $cg)) (i32.mul (local.get $ti) (local.get $ciBytes))))
              ${input}
              (local.set $cg (i32.add (local.get $cg) (i32.const 16)))
              (br $loopCg)))
            (local.set $cg (i32.const 0))
            (block $doneDg (loop $loopDg
              (br_if $doneDg (i32.ge_u (local.get $cg) (local.get $coBytes)))
              (local.set $pd (i32.add (i32.add (local.get $dyImg) (local.get $cg))
                (i32.add (i32.mul (i32.shl (local.get $ty) (i32.const ${shift})) (local.get $outRowBytes))
                  (i32.mul (i32.shl (local.get $tx) (i32.const ${shift})) (local.get $coBytes)))))
              (local.set $pds (i32.add (i32.add (local.get $ds) (local.get $cg)) (i32.mul (local.get $ti) (local.get $coBytes))))
              ${dy}
              (local.set $cg (i32.add (local.get $cg) (i32.const 16)))
              (br $loopDg)))
            (local.set $ti (i32.add (local.get $ti) (i32.const 1)))
            (local.set $tx (i32.add (local.get $tx) (i32.const 1)))
            (br $loopTx)))`;

/**
 * The Winograd filter gradients' products: P[xi] += V[xi]^T D[xi] for the `planes` planes over the block's
 * $ti tiles, 4 input by 8 output channels at a time (`loadAcc` starts the accumulators of rows c .. c + 3 of
 * P[xi] at $o, `storeAcc` stores them, `body` is one tile's 8 multiply-adds).
 */
const filterWinoProducts = (
  planes,
  loadAcc,
  body,
  storeAcc,
) => `        ;; P[xi] += V[xi]^T D[xi], 4 input by 8 output channels at a time
        (local.set $xi (i32.const 0))
        (block $doneXi (loop $loopXi
          (br_if $doneXi (i32.ge_u (local.get $xi) (i32.const ${planes})))
          (local.set $cb (i32.const 0))
          (block $doneCb (loop $loopCb
            (br_if $doneCb (i32.ge_u (local.get $cb) (local.get $ciBytes)))
            (local.set $ob (i32.const 0))
            (block $doneOb (loop $loopOb
              (br_if $doneOb (i32.ge_u (local.get $ob) (local.get $coBytes)))
              ;; rows c .. c + 3 of P[xi], bytes ob .. ob + 32
              (local.set $o (i32.add (i32.add (local.get $part) (local.get $ob))
                (i32.mul (i32.add (i32.mul (local.get $xi) (local.get $ci)) (i32.shr_u (local.get $cb) (i32.const 2))) (local.get $coBytes))))
              ${loadAcc}
              (local.set $pv (i32.add (i32.add (local.get $vs) (local.get $cb)) (i32.mul (local.get $xi) (local.get $xiStride))))
              (local.set $pq (i32.add (i32.add (local.get $ds) (local.get $ob)) (i32.mul (local.get $xi) (local.get $dXiStride))))
              (local.set $pEnd (i32.add (local.get $pq) (i32.mul (local.get $ti) (local.get $coBytes))))
              (block $doneT (loop $loopT
                (br_if $doneT (i32.ge_u (local.get $pq) (local.get $pEnd)))
                  (local.set $w0 (v128.load (local.get $pq)))
                  (local.set $w1 (v128.load offset=16 (local.get $pq)))
                  ${body}
                (local.set $pv (i32.add (local.get $pv) (local.get $ciBytes)))
                (local.set $pq (i32.add (local.get $pq) (local.get $coBytes)))
                (br $loopT)))
              ${storeAcc}
              (local.set $ob (i32.add (local.get $ob) (i32.const 32)))
              (br $loopOb)))
            (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
            (br $loopCb)))
          (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
          (br $loopXi)))`;

const filterWino = (relaxed) => {
  const acc = lanes(4)
    .flatMap((i) => [0, 1].map((v) => `(local $a${i}${v} v128)`))
    .join(' ');
  const row = (i) => (i === 0 ? '(local.get $o)' : `(i32.add (local.get $o) (local.get $co${i}Bytes))`);
  const loadAcc = lanes(4)
    .map(
      (i) => `(local.set $a${i}0 (v128.load ${row(i)})) (local.set $a${i}1 (v128.load offset=16 ${row(i)}))`,
    )
    .join('\n                ');
  const storeAcc = lanes(4)
    .map(
      (i) =>
        `(v128.store ${row(i)} (local.get $a${i}0)) (v128.store offset=16 ${row(i)} (local.get $a${i}1))`,
    )
    .join('\n                ');
  const body = lanes(4)
    .map(
      (i) => `(local.set $s (v128.load32_splat offset=${4 * i} (local.get $pv)))
                  (local.set $a${i}0 ${madd(relaxed, `(local.get $a${i}0)`, '(local.get $s)', '(local.get $w0)')})
                  (local.set $a${i}1 ${madd(relaxed, `(local.get $a${i}1)`, '(local.get $s)', '(local.get $w1)')})`,
    )
    .join('\n                  ');
  return `
  (func (export "filterWino")
    (param $xp i32) (param $dy i32) (param $out i32) (param $n i32) (param $hp i32) (param $wp i32)
    (param $ci i32) (param $oh i32) (param $ow i32) (param $co i32) (param $counter i32) (param $chunk i32)
    (param $partBytes i32) (param $src i32) (param $h i32) (param $w i32) (param $top i32) (param $left i32)
    (param $scratch i32) (param $slotBytes i32) (param $rowsPerBlock i32)
    (local $ty0 i32) (local $ty1 i32) (local $tileRows i32)
    (local $yp i32) (local $dst i32) (local $rowBytes i32) (local $leftBytes i32) (local $srcRowBytes i32)
    (local $k i32) (local $b i32) (local $b1 i32) (local $img i32) (local $dyImg i32) (local $part i32)
    (local $vs i32) (local $ds i32) (local $tiles i32) (local $tilesImg i32) (local $ty i32) (local $tx i32)
    (local $ti i32) (local $cg i32) (local $pd i32) (local $pvs i32) (local $pds i32) (local $xiStride i32)
    (local $dXiStride i32) (local $xi i32) (local $cb i32) (local $ob i32) (local $o i32) (local $pv i32)
    (local $pq i32) (local $pEnd i32) (local $outRowBytes i32)
    (local $ciBytes i32) (local $ci2Bytes i32) (local $ci3Bytes i32) (local $coBytes i32)
    (local $co1Bytes i32) (local $co2Bytes i32) (local $co3Bytes i32)
    (local $row1Bytes i32) (local $row2Bytes i32) (local $row3Bytes i32)
    (local $w0 v128) (local $w1 v128) (local $s v128)
    (local $e0 v128) (local $e1 v128) (local $e2 v128)
    ${lanes(4)
      .flatMap((i) => lanes(4).map((j) => `(local $d${i}${j} v128)`))
      .join(' ')}
    ${acc}
    (local.set $ciBytes (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $ci2Bytes (i32.shl (local.get $ciBytes) (i32.const 1)))
    (local.set $ci3Bytes (i32.mul (local.get $ciBytes) (i32.const 3)))
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    (local.set $co1Bytes (local.get $coBytes))
    (local.set $co2Bytes (i32.shl (local.get $coBytes) (i32.const 1)))
    (local.set $co3Bytes (i32.mul (local.get $coBytes) (i32.const 3)))
    (local.set $rowBytes (i32.mul (local.get $wp) (local.get $ciBytes)))
    (local.set $row1Bytes (local.get $rowBytes))
    (local.set $row2Bytes (i32.shl (local.get $rowBytes) (i32.const 1)))
    (local.set $row3Bytes (i32.mul (local.get $rowBytes) (i32.const 3)))
    (local.set $leftBytes (i32.mul (local.get $left) (local.get $ciBytes)))
    (local.set $srcRowBytes (i32.mul (local.get $w) (local.get $ciBytes)))
    (local.set $outRowBytes (i32.mul (local.get $ow) (local.get $coBytes)))
    (local.set $tiles (i32.shr_u (local.get $ow) (i32.const 1)))
    (local.set $tileRows (i32.shr_u (local.get $oh) (i32.const 1)))
    ;; V and D hold the tiles of $rowsPerBlock tile rows (strides for that many; the last block may have fewer)
    (local.set $tilesImg (i32.mul (local.get $tiles) (local.get $rowsPerBlock)))
    ;; planes of V and D one cache line more apart than the tiles need: planes a power of two apart put the
    ;; 16 stores of a tile's transform in one set of the L1 cache (4K aliasing; 1.5-1.8x slower)
    (local.set $xiStride (i32.add (i32.mul (local.get $tilesImg) (local.get $ciBytes)) (i32.const 64)))
    (local.set $dXiStride (i32.add (i32.mul (local.get $tilesImg) (local.get $coBytes)) (i32.const 64)))
    (block $doneK (loop $loopK
      ${claimChunk}
      (local.set $part (i32.add (local.get $out) (i32.mul (local.get $k) (local.get $partBytes))))
      ;; this chunk's scratch: V [16, tiles, ci], then D [16, tiles, co]
      (local.set $vs (i32.add (local.get $scratch) (i32.mul (local.get $k) (local.get $slotBytes))))
      (local.set $ds (i32.add (local.get $vs) (i32.shl (local.get $xiStride) (i32.const 4))))
      (block $doneB (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $img (i32.add (local.get $xp) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $hp)) (local.get $wp)) (local.get $ciBytes))))
        ${padImage}
        (local.set $dyImg (i32.add (local.get $dy) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $oh)) (local.get $ow)) (local.get $coBytes))))
        ;; blocks of tile rows, whose transforms stay in the L2 cache
        (local.set $ty0 (i32.const 0))
        (block $doneBlk (loop $loopBlk
          (br_if $doneBlk (i32.ge_u (local.get $ty0) (local.get $tileRows)))
          (local.set $ty1 (select (local.get $tileRows) (i32.add (local.get $ty0) (local.get $rowsPerBlock))
            (i32.lt_u (local.get $tileRows) (i32.add (local.get $ty0) (local.get $rowsPerBlock)))))
        ;; both transforms of every tile of the block
        (local.set $ti (i32.const 0))
        (local.set $ty (local.get $ty0))
        (block $doneTy (loop $loopTy
          (br_if $doneTy (i32.ge_u (local.get $ty) (local.get $ty1)))
${filterTileTransforms(1, winoInput, winoDyTransform)}
          (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
          (br $loopTy)))
${filterWinoProducts(16, loadAcc, body, storeAcc)}
          (local.set $ty0 (local.get $ty1))
          (br $loopBlk)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB)))
      (br $loopK)))
  )`;
};

/**
 * The dy transform of one 4x4 tile of F(4x4, 3x3)'s filter gradient for 4 output channels, D = A y A^T
 * (A the 6x4 transpose of the output transform: z0 = y0, z1 = (y0 + y2) + (y1 + y3), z2 = (y0 + y2) -
 * (y1 + y3), z3 = (y0 + 4 y2) + (2 y1 + 8 y3), z4 = (y0 + 4 y2) - (2 y1 + 8 y3), z5 = y3), in two passes:
 * the tile's 4 rows (at $pd, rows $outRowBytes apart, columns $coBytes) along the row into planes 6i + j,
 * then each column along i into planes 6r + j ($dXiStride apart from $pds).
 */
const wino4DyIn = (
  y,
) => `(local.set $g0 ${y[0]}) (local.set $g1 ${y[1]}) (local.set $g2 ${y[2]}) (local.set $g3 ${y[3]})
              (local.set $c (f32x4.add (local.get $g0) (local.get $g2)))
              (local.set $q (f32x4.add (local.get $g1) (local.get $g3)))
              (local.set $a (f32x4.add (local.get $g0) (f32x4.mul (local.get $g2) ${k4})))
              (local.set $e (f32x4.add (f32x4.add (local.get $g1) (local.get $g1)) (f32x4.mul (local.get $g3) (v128.const f32x4 8 8 8 8))))
              (local.set $f0 (local.get $g0))
              (local.set $f1 (f32x4.add (local.get $c) (local.get $q)))
              (local.set $f2 (f32x4.sub (local.get $c) (local.get $q)))
              (local.set $f3 (f32x4.add (local.get $a) (local.get $e)))
              (local.set $f4 (f32x4.sub (local.get $a) (local.get $e)))
              (local.set $f5 (local.get $g3))`;
const wino4Dy = wino4TwoPass({
  transform: wino4DyIn,
  n: 4,
  colBytes: 'co',
  stride: 'dXi',
  rowStep: 'outRowBytes',
  base: 'pds',
});

/**
 * filterWino4: filterWino by Winograd's F(4x4, 3x3): per 4x4 tile of outputs V = B^T d B over its 6x6
 * input window (convWino4's input transform) and D = A y A^T over its 4x4 of dy, both [36, tiles, .] in
 * the chunk's scratch for a block of `rowsPerBlock` tile rows; P[xi] += V[xi]^T D[xi] for the 36 planes
 * (36 multiply-adds per 16 outputs and channel pair instead of F(2x2, 3x3)'s 64), into chunk k's partial P
 * [36, ci, co] at `out + k * partBytes` (written from zeros by the chunk's first block, so the caller need not
 * zero it; the caller sums the partials in chunk order and computes dW = G^T P G). Needs oh and ow multiples
 * of 4, ci a multiple of 4, co of 8.
 */
const filterWino4 = (relaxed) => {
  const acc = lanes(4)
    .flatMap((i) => [0, 1].map((v) => `(local $a${i}${v} v128)`))
    .join(' ');
  const row = (i) => (i === 0 ? '(local.get $o)' : `(i32.add (local.get $o) (local.get $co${i}Bytes))`);
  // the chunk's first block starts its partial P from zeros (the caller does not zero it)
  const zeroAcc = lanes(4)
    .map(
      (i) => `(local.set $a${i}0 (v128.const i32x4 0 0 0 0)) (local.set $a${i}1 (v128.const i32x4 0 0 0 0))`,
    )
    .join(' ');
  const loadAcc = `(if (local.get $fresh) (then ${zeroAcc}) (else ${lanes(4)
    .map(
      (i) => `(local.set $a${i}0 (v128.load ${row(i)})) (local.set $a${i}1 (v128.load offset=16 ${row(i)}))`,
    )
    .join(' ')}))`;
  const storeAcc = lanes(4)
    .map(
      (i) =>
        `(v128.store ${row(i)} (local.get $a${i}0)) (v128.store offset=16 ${row(i)} (local.get $a${i}1))`,
    )
    .join('\n                ');
  const body = lanes(4)
    .map(
      (i) => `(local.set $s (v128.load32_splat offset=${4 * i} (local.get $pv)))
                  (local.set $a${i}0 ${madd(relaxed, `(local.get $a${i}0)`, '(local.get $s)', '(local.get $w0)')})
                  (local.set $a${i}1 ${madd(relaxed, `(local.get $a${i}1)`, '(local.get $s)', '(local.get $w1)')})`,
    )
    .join('\n                  ');
  const strides = [1, 2, 3, 4, 5, 6, 12, 18, 24, 30];
  // P[xi] += V[xi]^T D[xi] over the block's $ti tiles; the chunk's later blocks add to its partial
  const products = `${filterWinoProducts(36, loadAcc, body, storeAcc)}
        (local.set $fresh (i32.const 0))`;
  return `
  (func (export "filterWino4")
    (param $xp i32) (param $dy i32) (param $out i32) (param $n i32) (param $hp i32) (param $wp i32)
    (param $ci i32) (param $oh i32) (param $ow i32) (param $co i32) (param $counter i32) (param $chunk i32)
    (param $partBytes i32) (param $src i32) (param $h i32) (param $w i32) (param $top i32) (param $left i32)
    (param $scratch i32) (param $slotBytes i32) (param $rowsPerBlock i32)
    (local $tileRows i32) (local $fresh i32)
    (local $yp i32) (local $dst i32) (local $rowBytes i32) (local $leftBytes i32) (local $srcRowBytes i32)
    (local $k i32) (local $b i32) (local $b1 i32) (local $img i32) (local $dyImg i32) (local $part i32)
    (local $vs i32) (local $ds i32) (local $tiles i32) (local $tilesImg i32) (local $ty i32) (local $tx i32)
    (local $ti i32) (local $cg i32) (local $pd i32) (local $pvs i32) (local $pds i32) (local $pr i32) (local $pp i32)
    (local $xiStride i32) (local $dXiStride i32) (local $xi i32) (local $cb i32) (local $ob i32) (local $o i32)
    (local $pv i32) (local $pq i32) (local $pEnd i32) (local $outRowBytes i32)
    (local $ciBytes i32) (local $coBytes i32)
    ${[1, 2, 3, 4, 5].map((j) => `(local $ci${j}Bytes i32)`).join(' ')}
    ${[1, 2, 3].map((j) => `(local $co${j}Bytes i32)`).join(' ')}
    ${strides.map((j) => `(local $xi${j}Stride i32) (local $dXi${j}Stride i32)`).join(' ')}
    (local $w0 v128) (local $w1 v128) (local $s v128)
    (local $a v128) (local $c v128) (local $e v128) (local $q v128)
    ${lanes(6)
      .map((i) => `(local $g${i} v128) (local $f${i} v128)`)
      .join(' ')}
    ${acc}
    (local.set $ciBytes (i32.shl (local.get $ci) (i32.const 2)))
    ${[1, 2, 3, 4, 5].map((j) => `(local.set $ci${j}Bytes (i32.mul (local.get $ciBytes) (i32.const ${j})))`).join(' ')}
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    ${[1, 2, 3].map((j) => `(local.set $co${j}Bytes (i32.mul (local.get $coBytes) (i32.const ${j})))`).join(' ')}
    (local.set $rowBytes (i32.mul (local.get $wp) (local.get $ciBytes)))
    (local.set $leftBytes (i32.mul (local.get $left) (local.get $ciBytes)))
    (local.set $srcRowBytes (i32.mul (local.get $w) (local.get $ciBytes)))
    (local.set $outRowBytes (i32.mul (local.get $ow) (local.get $coBytes)))
    (local.set $tiles (i32.shr_u (local.get $ow) (i32.const 2)))
    (local.set $tileRows (i32.shr_u (local.get $oh) (i32.const 2)))
    ;; V and D hold the tiles of $rowsPerBlock tile rows; planes a cache line more apart than the tiles need
    (local.set $tilesImg (i32.mul (local.get $tiles) (local.get $rowsPerBlock)))
    (local.set $xiStride (i32.add (i32.mul (local.get $tilesImg) (local.get $ciBytes)) (i32.const 64)))
    (local.set $dXiStride (i32.add (i32.mul (local.get $tilesImg) (local.get $coBytes)) (i32.const 64)))
    ${strides
      .map(
        (j) =>
          `(local.set $xi${j}Stride (i32.mul (local.get $xiStride) (i32.const ${j}))) (local.set $dXi${j}Stride (i32.mul (local.get $dXiStride) (i32.const ${j})))`,
      )
      .join('\n    ')}
    (block $doneK (loop $loopK
      ${claimChunk}
      (local.set $part (i32.add (local.get $out) (i32.mul (local.get $k) (local.get $partBytes))))
      (local.set $ti (i32.const 0))
      (local.set $fresh (i32.const 1))
      ;; this chunk's scratch: V [36, tiles, ci], then D [36, tiles, co]
      (local.set $vs (i32.add (local.get $scratch) (i32.mul (local.get $k) (local.get $slotBytes))))
      (local.set $ds (i32.add (local.get $vs) (i32.mul (local.get $xiStride) (i32.const 36))))
      (block $doneB (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $img (i32.add (local.get $xp) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $hp)) (local.get $wp)) (local.get $ciBytes))))
        ${padImage}
        (local.set $dyImg (i32.add (local.get $dy) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $oh)) (local.get $ow)) (local.get $coBytes))))
        ;; both transforms of every tile of the block
        (local.set $ty (i32.const 0))
        (block $doneTy (loop $loopTy
          (br_if $doneTy (i32.ge_u (local.get $ty) (local.get $tileRows)))
${filterTileTransforms(2, wino4Input, wino4Dy)}
          ;; a full block: its products
          (if (i32.ge_u (local.get $ti) (local.get $tilesImg))
            (then
${products}
              (local.set $ti (i32.const 0))))
          (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
          (br $loopTy)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB)))
      ;; the chunk's last, partial block
      (if (i32.gt_u (local.get $ti) (i32.const 0))
        (then
${products}
          (local.set $ti (i32.const 0))))
      (br $loopK)))
  )`;
};

/**
 * sumChunks: the chunked filter gradients' partial sums added in place into the first chunk's,
 * `parts[0] = ((parts[0] + parts[1]) + parts[2]) + ...` (`chunks` rows of `partBytes` bytes, float32, in
 * chunk order, so the bits do not depend on the threads), over blocks of `blockBytes` bytes (a multiple of
 * 16) of the first `totalBytes` that each caller takes from the shared counter at `counter`.
 */
const sumChunks = `
  (func (export "sumChunks")
    (param $parts i32) (param $chunks i32) (param $partBytes i32) (param $totalBytes i32) (param $counter i32)
    (param $blockBytes i32)
    (local $k i32) (local $at i32) (local $end i32) (local $p i32) (local $r i32) (local $s v128)
    (block $doneK (loop $loopK
      (local.set $k (i32.atomic.rmw.add (local.get $counter) (i32.const 1)))
      (local.set $at (i32.mul (local.get $k) (local.get $blockBytes)))
      (br_if $doneK (i32.ge_u (local.get $at) (local.get $totalBytes)))
      (local.set $end (select (local.get $totalBytes) (i32.add (local.get $at) (local.get $blockBytes))
        (i32.lt_u (local.get $totalBytes) (i32.add (local.get $at) (local.get $blockBytes)))))
      (block $doneV (loop $loopV
        (br_if $doneV (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $p (i32.add (local.get $parts) (local.get $at)))
        (local.set $s (v128.load (local.get $p)))
        (local.set $r (i32.const 1))
        (block $doneR (loop $loopR
          (br_if $doneR (i32.ge_u (local.get $r) (local.get $chunks)))
          (local.set $p (i32.add (local.get $p) (local.get $partBytes)))
          (local.set $s (f32x4.add (local.get $s) (v128.load (local.get $p))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $loopR)))
        (v128.store (i32.add (local.get $parts) (local.get $at)) (local.get $s))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $loopV)))
      (br $loopK)))
  )`;

/**
 * adamUpdate: one fused Adam step over `size` floats (a multiple of 4), writing new arrays:
 *   mNext = flush(m * b1 + g * (1 - b1)), vNext = flush(v * b2 + (g * g) * (1 - b2)),
 *   pNext = p * decay - (mNext / (sqrt(vNext / c2) + eps)) * stepSize,  flush(x) = (x + 2^-100) - 2^-100,
 * every operation in float32 in the order the trainer's composed ops use, so the results are the same
 * bits. `params` holds eight float32: b1, 1 - b1, b2, 1 - b2, c2, eps, stepSize, decay.
 */
const adamUpdate = `
  (func (export "adamUpdate")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $pOut i32) (param $mOut i32)
    (param $vOut i32) (param $size i32) (param $params i32)
    (local $i i32) (local $end i32) (local $b1 v128) (local $c1 v128) (local $b2 v128) (local $c2b v128)
    (local $c2 v128) (local $eps v128) (local $step v128) (local $decay v128) (local $flush v128)
    (local $gv v128) (local $mn v128) (local $vn v128)
    (local.set $b1 (v128.load32_splat (local.get $params)))
    (local.set $c1 (v128.load32_splat offset=4 (local.get $params)))
    (local.set $b2 (v128.load32_splat offset=8 (local.get $params)))
    (local.set $c2b (v128.load32_splat offset=12 (local.get $params)))
    (local.set $c2 (v128.load32_splat offset=16 (local.get $params)))
    (local.set $eps (v128.load32_splat offset=20 (local.get $params)))
    (local.set $step (v128.load32_splat offset=24 (local.get $params)))
    (local.set $decay (v128.load32_splat offset=28 (local.get $params)))
    (local.set $flush (f32x4.splat (f32.const 0x1p-100)))
    (local.set $end (i32.shl (local.get $size) (i32.const 2)))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $gv (v128.load (i32.add (local.get $g) (local.get $i))))
      (local.set $mn (f32x4.sub (f32x4.add (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $b1))
        (f32x4.mul (local.get $gv) (local.get $c1))) (local.get $flush)) (local.get $flush)))
      (local.set $vn (f32x4.sub (f32x4.add (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $b2))
        (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $c2b))) (local.get $flush)) (local.get $flush)))
      (v128.store (i32.add (local.get $mOut) (local.get $i)) (local.get $mn))
      (v128.store (i32.add (local.get $vOut) (local.get $i)) (local.get $vn))
      (v128.store (i32.add (local.get $pOut) (local.get $i))
        (f32x4.sub
          (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $decay))
          (f32x4.mul
            (f32x4.div (local.get $mn) (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vn) (local.get $c2))) (local.get $eps)))
            (local.get $step))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $loop)))
  )`;

/**
 * batchNormTrainDx: dx[r, k] = a[k] * dy[r, k] + b[k] * (x[r, k] - mean[k]) + d[k] over row-major
 * [rows, c] float32 matrices (c a multiple of 4); `params` holds four float32 [c] vectors: mean, a, b, d.
 * With the per-channel coefficients of the training-mode batch-norm gradient this is its dx in one pass.
 * batchNormTrainDxRelu: dy masked by the ReLU that followed the batch norm (batchNormMaskedDy), `params`
 * holding two more vectors, the forward pass's factor and offset.
 */
const batchNormTrainDxFn = (relu) => {
  const dy = '(v128.load (i32.add (local.get $dy) (local.get $k)))';
  const param = (i) =>
    `(v128.load (i32.add (local.get $p) (i32.mul (local.get $rowBytes) (i32.const ${i}))))`;
  const xc = relu
    ? '(local.get $xc)'
    : '(f32x4.sub (v128.load (i32.add (local.get $x) (local.get $k))) (v128.load (local.get $p)))';
  return `
  (func (export "batchNormTrainDx${relu ? 'Relu' : ''}")
    (param $x i32) (param $dy i32) (param $out i32) (param $rows i32) (param $c i32) (param $params i32)
    (local $end i32) (local $k i32) (local $rowBytes i32) (local $p i32)${relu ? ' (local $xc v128) (local $y v128)' : ''}
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $doneR (loop $loopR
      (br_if $doneR (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $k (i32.const 0))
      (block $doneK (loop $loopK
        (br_if $doneK (i32.ge_u (local.get $k) (local.get $rowBytes)))
        (local.set $p (i32.add (local.get $params) (local.get $k)))${
          relu
            ? `
        (local.set $xc (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $k))) (v128.load (local.get $p))))`
            : ''
        }
        (v128.store (i32.add (local.get $out) (local.get $k))
          (f32x4.add
            (f32x4.add
              (f32x4.mul ${relu ? batchNormMaskedDy(dy, xc, param(4), param(5)) : dy}
                (v128.load (i32.add (local.get $p) (local.get $rowBytes))))
              (f32x4.mul
                ${xc}
                (v128.load (i32.add (local.get $p) (i32.shl (local.get $rowBytes) (i32.const 1))))))
            (v128.load (i32.add (local.get $p) (i32.mul (local.get $rowBytes) (i32.const 3))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $loopK)))
      (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
      (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
      (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
      (br $loopR)))
  )`;
};
const batchNormTrainDx = `${batchNormTrainDxFn(false)}\n${batchNormTrainDxFn(true)}`;

/**
 * gemm: a float32 matrix product C = A B over strided operands, for the dense layers' three products
 * without transposed copies of the weights. C[i, j] = bias[j] + sum over p < depth of A(i, p) * B(p, j),
 * clamped at zero when `flags & 2`; A(i, p) at byte a + i*ars + p*acs (any strides: its values are
 * broadcast), B(p, j) at b + p*brs + 4j (rows contiguous: its values are loaded four at a time); bias
 * (float32 [cols]) only when `flags & 1`. C(i, j) goes to out + i*ors + 4j, or with `flags & 4` to
 * out + i*ors + j*ocs (a transposed output, written lane by lane). Blocks of 4 rows by 8 columns in 8
 * accumulators (then 4 and 1 columns, single rows for the rest): per p four broadcast loads of A, two
 * loads of B, 8 multiply-adds. Each caller takes chunks from the shared counter at `counter` (an atomic
 * add) until none are left: chunk k is rows [c * chunk, (c + 1) * chunk) with c = k % rowChunks, by
 * columns [d * colChunk, (d + 1) * colChunk) with d = k / rowChunks (colChunk a multiple of 8); every
 * element of C is computed by one caller, summing over p in order, so the result does not depend on which
 * thread took which chunk.
 */
function gemmBlock(r, w, relaxed) {
  const rs = lanes(r);
  const vs = lanes(w === 8 ? 2 : 1);
  const loadB =
    w === 8
      ? '(local.set $w0 (v128.load (local.get $pb))) (local.set $w1 (v128.load offset=16 (local.get $pb)))'
      : w === 4
        ? '(local.set $w0 (v128.load (local.get $pb)))'
        : '(local.set $w0 (v128.load32_zero (local.get $pb)))';
  const aAddr = [
    '(local.get $pa)',
    '(i32.add (local.get $pa) (local.get $ars))',
    '(i32.add (local.get $pa) (local.get $ars2))',
    '(i32.add (local.get $pa) (local.get $ars3))',
  ];
  const init = rs.flatMap((i) => vs.map((v) => `(local.set $a${i}${v} (local.get $bv${v}))`)).join(' ');
  const body = rs
    .map(
      (i) => `(local.set $s (v128.load32_splat ${aAddr[i]}))
              ${vs.map((v) => `(local.set $a${i}${v} ${madd(relaxed, `(local.get $a${i}${v})`, '(local.get $s)', `(local.get $w${v})`)})`).join('\n              ')}`,
    )
    .join('\n              ');
  const clamp = rs
    .flatMap((i) =>
      vs.map((v) => `(local.set $a${i}${v} (f32x4.max (local.get $a${i}${v}) (v128.const i32x4 0 0 0 0)))`),
    )
    .join(' ');
  // Row i of the block starts at $o + i*ors.
  const rowAddr = (i) =>
    i === 0 ? '(local.get $o)' : `(i32.add (local.get $o) (i32.mul (i32.const ${i}) (local.get $ors)))`;
  const storeRows = rs
    .map((i) =>
      w === 1
        ? `(f32.store ${rowAddr(i)} (f32x4.extract_lane 0 (local.get $a${i}0)))`
        : vs.map((v) => `(v128.store offset=${16 * v} ${rowAddr(i)} (local.get $a${i}${v}))`).join(' '),
    )
    .join('\n            ');
  const storeLanes = rs
    .map((i) =>
      lanes(w)
        .map(
          (l) =>
            `(f32.store (i32.add ${rowAddr(i)} (i32.mul (i32.const ${l}) (local.get $ocs))) (f32x4.extract_lane ${l % 4} (local.get $a${i}${l >> 2})))`,
        )
        .join('\n            '),
    )
    .join('\n            ');
  return `
        (block $doneR${r}W${w} (loop $loopR${r}W${w}
          (br_if $doneR${r}W${w} (i32.gt_u (i32.add (local.get $i) (i32.const ${r})) (local.get $i1)))
          ${init}
          (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $ars))))
          (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $p (local.get $depth))
          (block $doneP${r}W${w} (loop $loopP${r}W${w}
            (br_if $doneP${r}W${w} (i32.eqz (local.get $p)))
              ${loadB}
              ${body}
            (local.set $pa (i32.add (local.get $pa) (local.get $acs)))
            (local.set $pb (i32.add (local.get $pb) (local.get $brs)))
            (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (br $loopP${r}W${w})))
          (if (i32.and (local.get $flags) (i32.const 2)) (then ${clamp}))
          (if (i32.and (local.get $flags) (i32.const 4))
            (then
              (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $ors))) (i32.mul (local.get $j) (local.get $ocs))))
            ${storeLanes})
            (else
              (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $ors))) (i32.shl (local.get $j) (i32.const 2))))
            ${storeRows}))
          (local.set $i (i32.add (local.get $i) (i32.const ${r})))
          (br $loopR${r}W${w})))`;
}

function gemmPanel(w, relaxed) {
  const vs = lanes(w === 8 ? 2 : 1);
  const load = (v) =>
    w === 1 ? '(v128.load32_zero (local.get $q))' : `(v128.load offset=${16 * v} (local.get $q))`;
  const bias = vs
    .map(
      (v) =>
        `(local.set $bv${v} (if (result v128) (i32.and (local.get $flags) (i32.const 1)) (then ${load(v)}) (else (v128.const i32x4 0 0 0 0))))`,
    )
    .join(' ');
  return `(local.set $q (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))
        ${bias}
        (local.set $i (local.get $i0))
        ${gemmBlock(4, w, relaxed)}
        ${gemmBlock(1, w, relaxed)}`;
}

const gemm = (relaxed) => `
  (func $gemm (export "gemm")
    (param $a i32) (param $ars i32) (param $acs i32) (param $b i32) (param $brs i32) (param $out i32)
    (param $ors i32) (param $ocs i32) (param $rows i32) (param $cols i32) (param $depth i32) (param $bias i32)
    (param $flags i32) (param $counter i32) (param $chunk i32) (param $rowChunks i32) (param $colChunk i32)
    (local $k i32) (local $i0 i32) (local $i1 i32) (local $j1 i32) (local $i i32) (local $j i32) (local $p i32) (local $pa i32)
    (local $pb i32) (local $o i32) (local $q i32) (local $ars2 i32) (local $ars3 i32)
    (local $w0 v128) (local $w1 v128) (local $s v128) (local $bv0 v128) (local $bv1 v128)
    ${lanes(4)
      .map((i) => `(local $a${i}0 v128) (local $a${i}1 v128)`)
      .join(' ')}
    (local.set $ars2 (i32.shl (local.get $ars) (i32.const 1)))
    (local.set $ars3 (i32.mul (local.get $ars) (i32.const 3)))
    (block $doneK (loop $loopK
      ;; chunk k: rows [i0, i1) of row chunk k % rowChunks, columns [j, j1) of column chunk k / rowChunks
      (local.set $k (i32.atomic.rmw.add (local.get $counter) (i32.const 1)))
      (local.set $j (i32.mul (i32.div_u (local.get $k) (local.get $rowChunks)) (local.get $colChunk)))
      (br_if $doneK (i32.ge_u (local.get $j) (local.get $cols)))
      (local.set $i0 (i32.mul (i32.rem_u (local.get $k) (local.get $rowChunks)) (local.get $chunk)))
      (local.set $i1 (select (local.get $rows) (i32.add (local.get $i0) (local.get $chunk))
        (i32.lt_u (local.get $rows) (i32.add (local.get $i0) (local.get $chunk)))))
      (local.set $j1 (select (local.get $cols) (i32.add (local.get $j) (local.get $colChunk))
        (i32.lt_u (local.get $cols) (i32.add (local.get $j) (local.get $colChunk)))))
      (block $doneJ8 (loop $loopJ8
        (br_if $doneJ8 (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $j1)))
        ${gemmPanel(8, relaxed)}
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $loopJ8)))
      (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $j1))
        (then
        ${gemmPanel(4, relaxed)}
        (local.set $j (i32.add (local.get $j) (i32.const 4)))))
      (block $doneJ1 (loop $loopJ1
        (br_if $doneJ1 (i32.ge_u (local.get $j) (local.get $j1)))
        ${gemmPanel(1, relaxed)}
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $loopJ1)))
      (br $loopK)))
  )`;

/**
 * The Winograd F(2x2, 3x3) kernels for small outputs (few 2x2 tiles an image), with the tiles of every
 * image of the batch together: `winoTilesInput` writes the input transforms of all tiles to 16 planes
 * [T, ci], `gemmBatch` computes the 16 products as matrix products of T rows (the `gemm` kernel), and
 * `winoTilesOutput` (forward) or `winoTilesDy` with a second `gemmBatch` (filter gradient) finish. Tile t of
 * image b at tile row ty, column tx is t = (b * tilesY + ty) * tilesX + tx; plane xi = 4i + j of a
 * transform is at base + xi * planeBytes.
 */

/**
 * The loops of a batched-tiles kernel over chunks of `chunk` images from the counter at `counter`, their
 * tile rows and tiles: `$pt` walks the tiles' first plane (`planeBase` + tile * `$tileBytes`); `row` runs
 * at each tile row, `tile` at each tile.
 */
const tileLoops = (planeBase, row, tile) => `(block $doneK (loop $loopK
      ${claimChunk}
      (local.set $pt (i32.add (local.get ${planeBase}) (i32.mul (i32.mul (i32.mul (local.get $b) (local.get $tilesY)) (local.get $tilesX)) (local.get $tileBytes))))
      (block $doneB (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $ty (i32.const 0))
        (block $doneTy (loop $loopTy
          (br_if $doneTy (i32.ge_u (local.get $ty) (local.get $tilesY)))
          ${row}
          (local.set $tx (i32.const 0))
          (block $doneTx (loop $loopTx
            (br_if $doneTx (i32.ge_u (local.get $tx) (local.get $tilesX)))
            ${tile}
            (local.set $pt (i32.add (local.get $pt) (local.get $tileBytes)))
            (local.set $tx (i32.add (local.get $tx) (i32.const 1)))
            (br $loopTx)))
          (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
          (br $loopTy)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB)))
      (br $loopK)))`;

/** Locals $x0..$x35: plane xi's byte offset, xi * $planeBytes. */
const planeOffsets = {
  locals: lanes(36)
    .map((xi) => `(local $x${xi} i32)`)
    .join(' '),
  set: lanes(36)
    .map((xi) => `(local.set $x${xi} (i32.mul (i32.const ${xi}) (local.get $planeBytes)))`)
    .join(' '),
};
const f4Locals = `(local $a v128) (local $c v128) (local $e v128) (local $q v128)
    ${lanes(6)
      .map((i) => `(local $g${i} v128) (local $f${i} v128)`)
      .join(' ')}`;
/** Plane xi of the tile's transform at $pp. */
const tilePlane = (xi) => `(i32.add (local.get $pp) (local.get $x${xi}))`;

/**
 * At each tile row: the `w` input rows of the tiles' windows (tiles `1 << shift` rows apart, from row -top),
 * byte offsets $r{i} into x and whether inside the image $rOk{i} (unsigned: negative rows too).
 */
const windowRows = (w, shift) =>
  lanes(w)
    .map(
      (
        i,
      ) => `(local.set $y (i32.add (i32.sub (i32.shl (local.get $ty) (i32.const ${shift})) (local.get $top)) (i32.const ${i})))
          (local.set $rOk${i} (i32.lt_u (local.get $y) (local.get $h)))
          (local.set $r${i} (i32.add (local.get $x) (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $y)) (local.get $w)) (local.get $tileBytes))))`,
    )
    .join('\n          ');
/** At each tile: the window's `w` columns, byte offsets $c{j} and whether inside the image $cOk{j}. */
const windowCols = (w, shift) =>
  lanes(w)
    .map(
      (
        j,
      ) => `(local.set $xc (i32.add (i32.sub (i32.shl (local.get $tx) (i32.const ${shift})) (local.get $left)) (i32.const ${j})))
            (local.set $cOk${j} (i32.lt_u (local.get $xc) (local.get $w)))
            (local.set $c${j} (i32.mul (local.get $xc) (local.get $tileBytes)))`,
    )
    .join('\n            ');
/** 4 channels at $cg of window position (i, j): a load inside the image, else zeros. */
const windowLoad = (i, j) => `(if (result v128) (i32.and (local.get $rOk${i}) (local.get $cOk${j}))
                (then (v128.load (i32.add (i32.add (local.get $r${i}) (local.get $c${j})) (local.get $cg))))
                (else (v128.const i32x4 0 0 0 0)))`;
/** The locals of a windowed input kernel with `w` window rows and columns. */
const windowLocals = (
  w,
) => `(local $k i32) (local $b i32) (local $b1 i32) (local $ty i32) (local $tx i32) (local $cg i32)
    (local $tileBytes i32) (local $pt i32) (local $pp i32) (local $y i32) (local $xc i32)
    ${lanes(w)
      .map((i) => `(local $r${i} i32) (local $rOk${i} i32) (local $c${i} i32) (local $cOk${i} i32)`)
      .join(' ')}`;

/** B^T d B on the locals $d{i}{j} in place (d0 - d2, d1 + d2, d2 - d1, d1 - d3 down rows, then along). */
const tileInputTransform = (() => {
  const step = (at) => `(local.set $e0 (f32x4.sub ${at(0)} ${at(2)}))
              (local.set $e1 (f32x4.add ${at(1)} ${at(2)}))
              (local.set $e2 (f32x4.sub ${at(2)} ${at(1)}))
              (local.set $e3 (f32x4.sub ${at(1)} ${at(3)}))
              ${lanes(4)
                .map((k) => `(local.set ${at(k).slice(11, -1)} (local.get $e${k}))`)
                .join(' ')}`;
  const down = lanes(4).map((j) => step((i) => `(local.get $d${i}${j})`));
  const along = lanes(4).map((i) => step((j) => `(local.get $d${i}${j})`));
  return [...down, ...along].join('\n              ');
})();

/**
 * winoTilesInput: the input transforms B^T d B of all 2x2-output tiles of images [0, n) of NHWC x
 * ([n, h, w, ci], ci a multiple of 4), read in place: tile (ty, tx) covers rows 2ty - top + [0, 4) and
 * columns 2tx - left + [0, 4), and positions outside the image read as zeros (no padded copy). Chunks of
 * `chunk` images from the counter at `counter`.
 */
const winoTilesInput = `
  (func (export "winoTilesInput")
    (param $x i32) (param $v i32) (param $n i32) (param $h i32) (param $w i32) (param $ci i32)
    (param $tilesY i32) (param $tilesX i32) (param $top i32) (param $left i32) (param $planeBytes i32)
    (param $counter i32) (param $chunk i32)
    ${windowLocals(4)}
    ${planeOffsets.locals}
    (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128)
    ${lanes(4)
      .flatMap((i) => lanes(4).map((j) => `(local $d${i}${j} v128)`))
      .join(' ')}
    (local.set $tileBytes (i32.shl (local.get $ci) (i32.const 2)))
    ${planeOffsets.set}
    ${tileLoops(
      '$v',
      windowRows(4, 1),
      `${windowCols(4, 1)}
            (local.set $cg (i32.const 0))
            (block $doneCg (loop $loopCg
              (br_if $doneCg (i32.ge_u (local.get $cg) (local.get $tileBytes)))
              (local.set $pp (i32.add (local.get $pt) (local.get $cg)))
              ${lanes(4)
                .flatMap((i) => lanes(4).map((j) => `(local.set $d${i}${j} ${windowLoad(i, j)})`))
                .join('\n              ')}
              ${tileInputTransform}
              ${lanes(16)
                .map((xi) => `(v128.store ${tilePlane(xi)} (local.get $d${xi >> 2}${xi & 3}))`)
                .join('\n              ')}
              (local.set $cg (i32.add (local.get $cg) (i32.const 16)))
              (br $loopCg)))`,
    )}
  )`;

/**
 * winoTilesOutput: out = A^T M A + bias per tile, clamped at zero when `relu`, into NHWC out
 * ([n, 2 tilesY, 2 tilesX, co], co a multiple of 4), from the 16 planes [T, co] of the products at `m`.
 * Chunks of `chunk` images from the counter at `counter`.
 */
const winoTilesOutput = (() => {
  const m = (i, j) => `(v128.load ${tilePlane(4 * i + j)})`;
  const rows = lanes(4)
    .map(
      (j) => `(local.set $r0${j} (f32x4.add (f32x4.add ${m(0, j)} ${m(1, j)}) ${m(2, j)}))
                (local.set $r1${j} (f32x4.sub (f32x4.sub ${m(1, j)} ${m(2, j)}) ${m(3, j)}))`,
    )
    .join('\n                ');
  const relu = (v) =>
    `(if (result v128) (local.get $relu) (then (f32x4.max ${v} (v128.const i32x4 0 0 0 0))) (else ${v}))`;
  const y = (i, s) => {
    const r = (j) => `(local.get $r${i}${j})`;
    const sum =
      s === 0
        ? `(f32x4.add (f32x4.add ${r(0)} ${r(1)}) ${r(2)})`
        : `(f32x4.sub (f32x4.sub ${r(1)} ${r(2)}) ${r(3)})`;
    return relu(`(f32x4.add ${sum} (local.get $bv))`);
  };
  const addr = (i, s) => {
    const parts = [
      '(local.get $po)',
      i === 1 ? '(local.get $outRowBytes)' : '',
      s === 1 ? '(local.get $coBytes)' : '',
    ].filter(Boolean);
    return parts.reduce((acc, p) => `(i32.add ${acc} ${p})`);
  };
  const stores = [0, 1]
    .flatMap((i) => [0, 1].map((s) => `(v128.store ${addr(i, s)} ${y(i, s)})`))
    .join('\n                ');
  return `
  (func (export "winoTilesOutput")
    (param $m i32) (param $bias i32) (param $out i32) (param $n i32) (param $co i32) (param $tilesY i32)
    (param $tilesX i32) (param $planeBytes i32) (param $relu i32) (param $counter i32) (param $chunk i32)
    (local $k i32) (local $b i32) (local $b1 i32) (local $ty i32) (local $tx i32) (local $og i32)
    (local $tileBytes i32) (local $coBytes i32) (local $outRowBytes i32) (local $pt i32) (local $pp i32) (local $po i32) (local $row i32) (local $bv v128)
    ${planeOffsets.locals}
    ${lanes(2)
      .flatMap((i) => lanes(4).map((j) => `(local $r${i}${j} v128)`))
      .join(' ')}
    (local.set $tileBytes (i32.shl (local.get $co) (i32.const 2)))
    (local.set $coBytes (local.get $tileBytes))
    (local.set $outRowBytes (i32.mul (i32.shl (local.get $tilesX) (i32.const 1)) (local.get $coBytes)))
    ${planeOffsets.set}
    ${tileLoops(
      '$m',
      `(local.set $row (i32.add (local.get $out) (i32.mul (i32.shl (i32.add (i32.mul (local.get $b) (local.get $tilesY)) (local.get $ty)) (i32.const 1)) (local.get $outRowBytes))))`,
      `(local.set $og (i32.const 0))
            (block $doneO (loop $loopO
              (br_if $doneO (i32.ge_u (local.get $og) (local.get $coBytes)))
              (local.set $pp (i32.add (local.get $pt) (local.get $og)))
              (local.set $bv (v128.load (i32.add (local.get $bias) (local.get $og))))
              (local.set $po (i32.add (i32.add (local.get $row) (local.get $og)) (i32.mul (i32.shl (local.get $tx) (i32.const 1)) (local.get $coBytes))))
              ${rows}
              ${stores}
              (local.set $og (i32.add (local.get $og) (i32.const 16)))
              (br $loopO)))`,
    )}
  )`;
})();

/**
 * winoTilesDy: the transforms A dy A^T (2x2 -> 4x4, as filterWino's) of all tiles of NHWC dy
 * ([n, 2 tilesY, 2 tilesX, co], co a multiple of 4) into 16 planes [T, co] at `d`. Chunks of `chunk`
 * images from the counter at `counter`.
 */
const winoTilesDy = `
  (func (export "winoTilesDy")
    (param $dy i32) (param $d i32) (param $n i32) (param $co i32) (param $tilesY i32) (param $tilesX i32)
    (param $planeBytes i32) (param $counter i32) (param $chunk i32)
    (local $k i32) (local $b i32) (local $b1 i32) (local $ty i32) (local $tx i32) (local $og i32)
    (local $tileBytes i32) (local $coBytes i32) (local $outRowBytes i32) (local $dXiStride i32) (local $pd i32) (local $pds i32) (local $pt i32) (local $row i32)
    (local $e0 v128) (local $e1 v128)
    ${lanes(4)
      .flatMap((i) => lanes(4).map((j) => `(local $d${i}${j} v128)`))
      .join(' ')}
    ${lanes(4)
      .map((i) => `(local $a${i}0 v128) (local $a${i}1 v128)`)
      .join(' ')}
    (local.set $tileBytes (i32.shl (local.get $co) (i32.const 2)))
    (local.set $coBytes (local.get $tileBytes))
    (local.set $outRowBytes (i32.mul (i32.shl (local.get $tilesX) (i32.const 1)) (local.get $coBytes)))
    (local.set $dXiStride (local.get $planeBytes))
    ${tileLoops(
      '$d',
      `(local.set $row (i32.add (local.get $dy) (i32.mul (i32.shl (i32.add (i32.mul (local.get $b) (local.get $tilesY)) (local.get $ty)) (i32.const 1)) (local.get $outRowBytes))))`,
      `(local.set $og (i32.const 0))
            (block $doneO (loop $loopO
              (br_if $doneO (i32.ge_u (local.get $og) (local.get $coBytes)))
              (local.set $pd (i32.add (i32.add (local.get $row) (i32.mul (i32.shl (local.get $tx) (i32.const 1)) (local.get $coBytes))) (local.get $og)))
              (local.set $pds (i32.add (local.get $pt) (local.get $og)))
              ${winoDyTransform}
              (local.set $og (i32.add (local.get $og) (i32.const 16)))
              (br $loopO)))`,
    )}
  )`;

/**
 * gemmBatch: `batch` products of the \`gemm\` kernel, product q on a + q*aStride, b + q*bStride and out +
 * q*outStride (strides in bytes, the output rows contiguous, no bias, no ReLU), each with its own chunk
 * counter at counters + 4q (zeroed by the caller). Every caller walks the products in order and takes
 * chunks of each until none are left, so no caller waits for the others between products; every element
 * is computed by one caller, so the result does not depend on the threads.
 */
const gemmBatch = `
  (func (export "gemmBatch")
    (param $a i32) (param $aStride i32) (param $ars i32) (param $acs i32) (param $b i32) (param $bStride i32)
    (param $brs i32) (param $out i32) (param $outStride i32) (param $ors i32) (param $rows i32) (param $cols i32)
    (param $depth i32) (param $batch i32) (param $counters i32) (param $chunk i32) (param $rowChunks i32)
    (param $colChunk i32)
    (local $q i32)
    (block $doneQ (loop $loopQ
      (br_if $doneQ (i32.ge_u (local.get $q) (local.get $batch)))
      (call $gemm
        (i32.add (local.get $a) (i32.mul (local.get $q) (local.get $aStride))) (local.get $ars) (local.get $acs)
        (i32.add (local.get $b) (i32.mul (local.get $q) (local.get $bStride))) (local.get $brs)
        (i32.add (local.get $out) (i32.mul (local.get $q) (local.get $outStride))) (local.get $ors) (i32.const 4)
        (local.get $rows) (local.get $cols) (local.get $depth) (i32.const 0) (i32.const 0)
        (i32.add (local.get $counters) (i32.shl (local.get $q) (i32.const 2)))
        (local.get $chunk) (local.get $rowChunks) (local.get $colChunk))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $loopQ)))
  )`;

/**
 * winoTiles4Input: winoTilesInput for F(4x4, 3x3) (the lead's `wino4In` along each axis): the transforms
 * B^T d B of the 6x6 windows of all 4x4-output tiles, rows 4ty - top + [0, 6) and columns 4tx - left +
 * [0, 6) of x read in place (zeros outside the image), into 36 planes [T, ci].
 */
const winoTiles4Input = `
  (func (export "winoTiles4Input")
    (param $x i32) (param $v i32) (param $n i32) (param $h i32) (param $w i32) (param $ci i32)
    (param $tilesY i32) (param $tilesX i32) (param $top i32) (param $left i32) (param $planeBytes i32)
    (param $counter i32) (param $chunk i32)
    ${windowLocals(6)}
    ${planeOffsets.locals}
    ${f4Locals}
    (local.set $tileBytes (i32.shl (local.get $ci) (i32.const 2)))
    ${planeOffsets.set}
    ${tileLoops(
      '$v',
      windowRows(6, 2),
      `${windowCols(6, 2)}
            (local.set $cg (i32.const 0))
            (block $doneCg (loop $loopCg
              (br_if $doneCg (i32.ge_u (local.get $cg) (local.get $tileBytes)))
              (local.set $pp (i32.add (local.get $pt) (local.get $cg)))
              ${lanes(6)
                .map(
                  (i) => `${wino4In(lanes(6).map((j) => windowLoad(i, j)))}
              ${lanes(6)
                .map((j) => `(v128.store ${tilePlane(6 * i + j)} (local.get $f${j}))`)
                .join(' ')}`,
                )
                .join('\n              ')}
              ${lanes(6)
                .map(
                  (j) => `${wino4In(lanes(6).map((i) => `(v128.load ${tilePlane(6 * i + j)})`))}
              ${lanes(6)
                .map((i) => `(v128.store ${tilePlane(6 * i + j)} (local.get $f${i}))`)
                .join(' ')}`,
                )
                .join('\n              ')}
              (local.set $cg (i32.add (local.get $cg) (i32.const 16)))
              (br $loopCg)))`,
    )}
  )`;

/**
 * winoTiles4Output: winoTilesOutput for F(4x4, 3x3) (the lead's `wino4Out` along each axis): out = A^T M A
 * + bias per tile (ReLU when `relu`) from the 36 planes [T, co] at `m` (rows 0-3 of each tile's planes are
 * overwritten by the first pass) into NHWC out [n, 4 tilesY, 4 tilesX, co].
 */
const winoTiles4Output = (() => {
  const relu = (v) =>
    `(if (result v128) (local.get $relu) (then (f32x4.max ${v} (v128.const i32x4 0 0 0 0))) (else ${v}))`;
  const at = (x) => (x === 0 ? '(local.get $po)' : `(i32.add (local.get $po) (local.get $co${x}Bytes))`);
  return `
  (func (export "winoTiles4Output")
    (param $m i32) (param $bias i32) (param $out i32) (param $n i32) (param $co i32) (param $tilesY i32)
    (param $tilesX i32) (param $planeBytes i32) (param $relu i32) (param $counter i32) (param $chunk i32)
    (local $k i32) (local $b i32) (local $b1 i32) (local $ty i32) (local $tx i32) (local $og i32)
    (local $tileBytes i32) (local $outRowBytes i32) (local $pt i32) (local $pp i32) (local $po i32) (local $row i32) (local $bv v128)
    ${[1, 2, 3].map((j) => `(local $co${j}Bytes i32)`).join(' ')}
    ${planeOffsets.locals}
    ${f4Locals}
    (local.set $tileBytes (i32.shl (local.get $co) (i32.const 2)))
    ${[1, 2, 3].map((j) => `(local.set $co${j}Bytes (i32.mul (local.get $tileBytes) (i32.const ${j})))`).join(' ')}
    (local.set $outRowBytes (i32.mul (i32.shl (local.get $tilesX) (i32.const 2)) (local.get $tileBytes)))
    ${planeOffsets.set}
    ${tileLoops(
      '$m',
      `(local.set $row (i32.add (local.get $out) (i32.mul (i32.shl (i32.add (i32.mul (local.get $b) (local.get $tilesY)) (local.get $ty)) (i32.const 2)) (local.get $outRowBytes))))`,
      `(local.set $og (i32.const 0))
            (block $doneO (loop $loopO
              (br_if $doneO (i32.ge_u (local.get $og) (local.get $tileBytes)))
              (local.set $pp (i32.add (local.get $pt) (local.get $og)))
              (local.set $bv (v128.load (i32.add (local.get $bias) (local.get $og))))
              ${lanes(6)
                .map(
                  (j) => `${wino4Out(lanes(6).map((i) => `(v128.load ${tilePlane(6 * i + j)})`))}
              ${lanes(4)
                .map((i) => `(v128.store ${tilePlane(6 * i + j)} (local.get $f${i}))`)
                .join(' ')}`,
                )
                .join('\n              ')}
              (local.set $po (i32.add (i32.add (local.get $row) (local.get $og)) (i32.mul (i32.shl (local.get $tx) (i32.const 2)) (local.get $tileBytes))))
              ${lanes(4)
                .map(
                  (r) => `${wino4Out(lanes(6).map((j) => `(v128.load ${tilePlane(6 * r + j)})`))}
              ${lanes(4)
                .map((x) => `(v128.store ${at(x)} ${relu(`(f32x4.add (local.get $f${x}) (local.get $bv))`)})`)
                .join('\n              ')}
              (local.set $po (i32.add (local.get $po) (local.get $outRowBytes)))`,
                )
                .join('\n              ')}
              (local.set $og (i32.add (local.get $og) (i32.const 16)))
              (br $loopO)))`,
    )}
  )`;
})();

/**
 * winoTiles4Dy: winoTilesDy for F(4x4, 3x3) (the lead's `wino4Dy` per tile): D = A dy A^T of all 4x4 tiles
 * of NHWC dy ([n, 4 tilesY, 4 tilesX, co]) into 36 planes [T, co] at `d`.
 */
const winoTiles4Dy = `
  (func (export "winoTiles4Dy")
    (param $dy i32) (param $d i32) (param $n i32) (param $co i32) (param $tilesY i32) (param $tilesX i32)
    (param $planeBytes i32) (param $counter i32) (param $chunk i32)
    (local $k i32) (local $b i32) (local $b1 i32) (local $ty i32) (local $tx i32) (local $og i32)
    (local $tileBytes i32) (local $outRowBytes i32) (local $pt i32) (local $pr i32) (local $pp i32) (local $pd i32) (local $pds i32) (local $row i32)
    (local $dXiStride i32)
    ${[1, 2, 3].map((j) => `(local $co${j}Bytes i32)`).join(' ')}
    ${[1, 2, 3, 4, 5, 6, 12, 18, 24, 30].map((j) => `(local $dXi${j}Stride i32)`).join(' ')}
    ${f4Locals}
    (local.set $tileBytes (i32.shl (local.get $co) (i32.const 2)))
    ${[1, 2, 3].map((j) => `(local.set $co${j}Bytes (i32.mul (local.get $tileBytes) (i32.const ${j})))`).join(' ')}
    (local.set $outRowBytes (i32.mul (i32.shl (local.get $tilesX) (i32.const 2)) (local.get $tileBytes)))
    (local.set $dXiStride (local.get $planeBytes))
    ${[1, 2, 3, 4, 5, 6, 12, 18, 24, 30].map((j) => `(local.set $dXi${j}Stride (i32.mul (local.get $planeBytes) (i32.const ${j})))`).join(' ')}
    ${tileLoops(
      '$d',
      `(local.set $row (i32.add (local.get $dy) (i32.mul (i32.shl (i32.add (i32.mul (local.get $b) (local.get $tilesY)) (local.get $ty)) (i32.const 2)) (local.get $outRowBytes))))`,
      `(local.set $og (i32.const 0))
            (block $doneO (loop $loopO
              (br_if $doneO (i32.ge_u (local.get $og) (local.get $tileBytes)))
              (local.set $pd (i32.add (i32.add (local.get $row) (i32.mul (i32.shl (local.get $tx) (i32.const 2)) (local.get $tileBytes))) (local.get $og)))
              (local.set $pds (i32.add (local.get $pt) (local.get $og)))
              ${wino4Dy}
              (local.set $og (i32.add (local.get $og) (i32.const 16)))
              (br $loopO)))`,
    )}
  )`;

/** f32x4 splat of a constant. */
const splat = (v) => `(v128.const f32x4 ${v} ${v} ${v} ${v})`;
/** F(4x4, 3x3)'s G (6x3) applied to three v128 expressions: six expressions (use each input once: locals). */
const g4Rows = (a, b, d) => [
  `(f32x4.mul ${a} ${splat(0.25)})`,
  `(f32x4.mul (f32x4.add (f32x4.add ${a} ${b}) ${d}) ${splat(-1 / 6)})`,
  `(f32x4.mul (f32x4.add (f32x4.sub ${a} ${b}) ${d}) ${splat(-1 / 6)})`,
  `(f32x4.add (f32x4.add (f32x4.mul ${a} ${splat(1 / 24)}) (f32x4.mul ${b} ${splat(1 / 12)})) (f32x4.mul ${d} ${splat(1 / 6)}))`,
  `(f32x4.add (f32x4.sub (f32x4.mul ${a} ${splat(1 / 24)}) (f32x4.mul ${b} ${splat(1 / 12)})) (f32x4.mul ${d} ${splat(1 / 6)}))`,
  d,
];
/** G^T (3x6) applied to six v128 expressions (locals): three expressions. */
const g4Cols = (v) => [
  `(f32x4.add (f32x4.sub (f32x4.mul ${v[0]} ${splat(0.25)}) (f32x4.mul (f32x4.add ${v[1]} ${v[2]}) ${splat(1 / 6)})) (f32x4.mul (f32x4.add ${v[3]} ${v[4]}) ${splat(1 / 24)}))`,
  `(f32x4.add (f32x4.mul (f32x4.sub ${v[2]} ${v[1]}) ${splat(1 / 6)}) (f32x4.mul (f32x4.sub ${v[3]} ${v[4]}) ${splat(1 / 12)}))`,
  `(f32x4.add (f32x4.mul (f32x4.sub (f32x4.add ${v[3]} ${v[4]}) (f32x4.add ${v[1]} ${v[2]})) ${splat(1 / 6)}) ${v[5]})`,
];
const lg = (name) => `(local.get $${name})`;

/** F(2x2, 3x3)'s G (4x3) and G^T (3x4), as g4Rows and g4Cols. */
const g2Rows = (a, b, d) => [
  a,
  `(f32x4.mul (f32x4.add (f32x4.add ${a} ${b}) ${d}) ${splat(0.5)})`,
  `(f32x4.mul (f32x4.add (f32x4.sub ${a} ${b}) ${d}) ${splat(0.5)})`,
  d,
];
const g2Cols = (v) => [
  `(f32x4.add ${v[0]} (f32x4.mul (f32x4.add ${v[1]} ${v[2]}) ${splat(0.5)}))`,
  `(f32x4.mul (f32x4.sub ${v[1]} ${v[2]}) ${splat(0.5)})`,
  `(f32x4.add (f32x4.mul (f32x4.add ${v[1]} ${v[2]}) ${splat(0.5)}) ${v[3]})`,
];
/** Plane `k` of `plane` floats at base `base`, (c, o) pairs `at` bytes in. */
const planeAt = (base, k) =>
  `(i32.add (i32.add (local.get ${base}) (local.get $at)) (i32.mul (i32.const ${k}) (local.get $planeBytes)))`;

/**
 * winoFilter{m - 2}: Winograd's filter transform U[xi] = (G g G^T)[xi] (xi = m r + j, m^2 planes of `plane`
 * floats; m = 4 for F(2x2, 3x3), 6 for F(4x4, 3x3), G as in conv2d-winograd.ts) of an HWIO filter (9
 * planes of `plane` = ci * co floats, a multiple of 4) in float32 lanes, 4 (c, o) pairs at a time: the
 * batched tiles' forward and input gradient (the JavaScript float64 transform took about 2 ms for
 * F(4x4, 3x3) and 128 x 128 channels).
 */
const winoFilter = (m, rows) => `
  (func (export "winoFilter${m - 2}") (param $g i32) (param $u i32) (param $plane i32)
    (local $at i32) (local $planeBytes i32)
    ${lanes(9)
      .map((k) => `(local $k${k} v128)`)
      .join(' ')}
    ${lanes(3 * m)
      .map((k) => `(local $t${k} v128)`)
      .join(' ')}
    (local.set $planeBytes (i32.shl (local.get $plane) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $at) (local.get $planeBytes)))
      ${lanes(9)
        .map((k) => `(local.set $k${k} (v128.load ${planeAt('$g', k)}))`)
        .join('\n      ')}
      ${lanes(3)
        .flatMap((s) =>
          rows(lg(`k${s}`), lg(`k${3 + s}`), lg(`k${6 + s}`)).map(
            (e, r) => `(local.set $t${3 * r + s} ${e})`,
          ),
        )
        .join('\n      ')}
      ${lanes(m)
        .flatMap((r) =>
          rows(lg(`t${3 * r}`), lg(`t${3 * r + 1}`), lg(`t${3 * r + 2}`)).map(
            (e, j) => `(v128.store ${planeAt('$u', m * r + j)} ${e})`,
          ),
        )
        .join('\n      ')}
      (local.set $at (i32.add (local.get $at) (i32.const 16)))
      (br $next)))
  )`;

/**
 * winoFilterGrad{m - 2}: dW = G^T P G per (c, o) from P [m^2, plane] (xi = m p + q) into dW [9, plane] (HWIO),
 * in float32 lanes, 4 pairs at a time (plane a multiple of 4).
 */
const winoFilterGrad = (m, cols) => `
  (func (export "winoFilterGrad${m - 2}") (param $p i32) (param $dw i32) (param $plane i32)
    (local $at i32) (local $planeBytes i32)
    ${lanes(m * m)
      .map((k) => `(local $v${k} v128)`)
      .join(' ')}
    ${lanes(3 * m)
      .map((k) => `(local $t${k} v128)`)
      .join(' ')}
    (local.set $planeBytes (i32.shl (local.get $plane) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $at) (local.get $planeBytes)))
      ${lanes(m * m)
        .map((k) => `(local.set $v${k} (v128.load ${planeAt('$p', k)}))`)
        .join('\n      ')}
      ${lanes(m)
        .flatMap((q) =>
          cols(lanes(m).map((i) => lg(`v${m * i + q}`))).map((e, ky) => `(local.set $t${m * ky + q} ${e})`),
        )
        .join('\n      ')}
      ${lanes(3)
        .flatMap((ky) =>
          cols(lanes(m).map((q) => lg(`t${m * ky + q}`))).map(
            (e, kx) => `(v128.store ${planeAt('$dw', 3 * ky + kx)} ${e})`,
          ),
        )
        .join('\n      ')}
      (local.set $at (i32.add (local.get $at) (i32.const 16)))
      (br $next)))
  )`;

const memory = (shared) => `(import "env" "memory" (memory 1${shared ? ' 65536 shared' : ''}))`;
const text = (shared, relaxed = false) =>
  `;; Generated by scripts/build-simd-kernels.mjs; edit that file, not this one.\n(module\n  ${memory(shared)}\n${maxPoolGrad}\n${maxPool2x2}\n${[8, 4, 1].map(filterRows).join('\n')}\n${[4, 1].map((v) => colSums(v)).join('\n')}\n${[4, 1].map((v) => colSums(v, true)).join('\n')}\n${batchNormApply}\n${batchNormSums}\n${batchNormApplyReluPool}\n${batchNormSumsReluPool}\n${batchNormTrainDxReluPool}\n${reluGrad}\n${toChannelMajor}\n${filterTaps(relaxed)}\n${convDirect(relaxed)}\n${convWino(relaxed)}\n${convWino4(relaxed)}\n${filterWino(relaxed)}\n${filterWino4(relaxed)}\n${sumChunks}\n${convFew(relaxed)}\n${filterFew(relaxed)}\n${adamUpdate}\n${batchNormTrainDx}\n${gemm(relaxed)}\n${gemmBatch}\n${winoTilesInput}\n${winoTilesOutput}\n${winoTilesDy}\n${winoTiles4Input}\n${winoTiles4Output}\n${winoTiles4Dy}\n${winoFilter(4, g2Rows)}\n${winoFilter(6, g4Rows)}\n${winoFilterGrad(4, g2Cols)}\n${winoFilterGrad(6, g4Cols)}\n)\n`;

const wabt = await wabtFactory();
const features = { simd: true, threads: true, relaxed_simd: true, bulk_memory: true };
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
/**
 * The kernels again with filterTaps', convDirect's and gemm's multiply-adds as relaxed SIMD \`f32x4.relaxed_madd\` (fused
 * where the CPU has FMA), for runtimes that validate relaxed SIMD; shared memory, base64.
 */
export const SIMD_KERNELS_SHARED_RELAXED =
  '${compile(text(true, true))}';
/** The relaxed-SIMD kernels for unshared memory, base64. */
export const SIMD_KERNELS_UNSHARED_RELAXED =
  '${compile(text(false, true))}';
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
