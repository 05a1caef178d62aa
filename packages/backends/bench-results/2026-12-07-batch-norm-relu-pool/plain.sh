#!/bin/bash
for r in 1 2 3 4; do
  for v in base new; do
    if [ $v = base ]; then d=/tmp/i27b-base2/packages/backends; else d=/work/wt/i27b/packages/backends; fi
    cp /tmp/i27b-bench/plain-steps.mjs $d/.tmp-plain-steps.mjs
    (cd $d && nice -n 10 node --experimental-wasm-relaxed-simd .tmp-plain-steps.mjs 2>/dev/null | grep ms/step > /tmp/i27b-bench/plain-$v-$r.txt)
    rm -f $d/.tmp-plain-steps.mjs
  done
done
echo done > /tmp/i27b-bench/plain-done
