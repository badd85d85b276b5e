// One thread's JavaScript memory after a full collection (when the process
// runs with --expose-gc): V8's heap in use and the memory outside it that the
// thread's objects hold (buffers). Each thread has its own V8 isolate, so the
// gateway adds the threads up (index.ts collectGarbage).
import v8 from 'node:v8';

export interface Heap {
  heapUsed: number;
  external: number;
}

export function collectHeap(): Heap {
  (globalThis as { gc?: () => void }).gc?.();
  const s = v8.getHeapStatistics();
  return { heapUsed: s.used_heap_size, external: s.external_memory };
}
