#!/usr/bin/env node
// The `portcullis` command (package.json "bin"). Everything lives in cli/;
// this file only hands over argv and sets the exit code.
import { main } from './cli/index.ts';

process.exitCode = await main(process.argv.slice(2));
