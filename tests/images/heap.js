// Grow the V8 heap until it reaches --max-old-space-size: V8 prints its own
// "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory" and
// aborts (SIGABRT).  With `offheap` as argument it grows Buffers (outside the V8 heap)
// instead, so the kernel's memory-cgroup OOM killer, not V8, ends it (exit 137, OOMKilled).
'use strict';
const offheap = process.argv[2] === 'offheap';
const keep = [];
let mib = 0;
setInterval(() => {
  for (let i = 0; i < 4; i++) {
    if (offheap) {
      keep.push(Buffer.alloc(1 << 20, 1));
    } else {
      keep.push(Array.from({ length: 1 << 15 }, (_, j) => ({ j, s: `item-${j}` })));
    }
    mib += 1;
  }
  if (mib % 16 === 0) console.log(`allocated ~${mib} MiB`);
}, 1);
