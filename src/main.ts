#!/usr/bin/env -S node --min-semi-space-size=16 --max-semi-space-size=16
// The `portcullis` command (package.json "bin"). Everything lives in cli/;
// this file only turns on Node's compile cache, hands over argv and sets the
// exit code. The shebang's flags fix the V8 young generation (src/heap.ts);
// `env -S` splits them (GNU coreutils 8.30+, the BSDs and macOS).
import { enableCompileCache } from 'node:module';

// Type stripping and compiling the CLI and its dependencies cost ~1 s per run
// on a busy 2-core machine; with the on-disk cache (os.tmpdir()/node-compile-cache,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off) a run takes ~0.5 s. Imported after
// enabling, so the CLI's own modules are cached too.
enableCompileCache();
const { main } = await import('./cli/index.ts');
process.exitCode = await main(process.argv.slice(2));
