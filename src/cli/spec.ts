// What a CLI command is: its words, positional arguments, typed flags (with
// units and an example each, so help and error messages write themselves) and
// the function that runs it. Commands are plain objects in commands/*.ts.
import type { ApiClient } from './client.ts';
import type { Output } from './output.ts';

/** How a flag's text becomes a value; each kind knows its units and example. */
export type FlagKind =
  | 'string'
  | 'bool'
  /** whole number >= 0 */
  | 'int'
  /** bytes: "10GB", "1.5GiB", "512"; "unlimited" -> null */
  | 'size'
  /** bytes/s: "1MB/s", "8mbit", "1000"; "unlimited" -> null */
  | 'rate'
  /** seconds: "15m", "1h", "30d" */
  | 'duration'
  /** ISO time, or a duration from now ("30d"), or "never" -> null; yields ISO text */
  | 'expiry'
  /** money: "10", "9.99", "$10" -> cents */
  | 'price';

export interface FlagSpec {
  kind: FlagKind;
  help: string;
  /** placeholder in usage lines, e.g. "SIZE" */
  value?: string;
  /** shown in help and in error messages: "--quota 10GB" */
  example?: string;
  choices?: readonly string[];
  short?: string;
  required?: boolean;
}

export interface ArgSpec {
  name: string;
  help: string;
  optional?: boolean;
}

export type FlagValues = Record<string, string | number | boolean | null | undefined>;

export interface Context {
  args: string[];
  flags: FlagValues;
  json: boolean;
  out: Output;
  /** the API client; admin or customer credentials are resolved on first use */
  api: ApiClient;
}

export interface Command {
  /** words after `portcullis`, e.g. "customer ip add" */
  name: string;
  summary: string;
  args?: ArgSpec[];
  flags?: Record<string, FlagSpec>;
  examples: string[];
  /** extra paragraphs for --help */
  notes?: string[];
  /** false for commands that never talk to the API (up, version, help) */
  client?: boolean;
  /** false when --json means nothing (up) */
  json?: boolean;
  /** resolves to the exit code, or anything else for 0 */
  run(ctx: Context): Promise<unknown>;
}

export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  json: { kind: 'bool', help: 'print the raw API answer (JSON) on stdout' },
  url: {
    kind: 'string',
    value: 'URL',
    help: 'API base URL (env PORTCULLIS_URL; default http://127.0.0.1:$PORTCULLIS_API_PORT, port 8787)',
    example: '--url http://10.0.0.5:8787',
  },
  token: {
    kind: 'string',
    value: 'TOKEN',
    help: 'admin token (env PORTCULLIS_TOKEN; default: the file DATA_DIR/admin-token)',
  },
  help: { kind: 'bool', short: 'h', help: 'show this help' },
};

/** A mistake in what the user typed: exit code 2, with a hint where to look. */
export class UsageError extends Error {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** A failure that is not the user's typing nor an API answer (token missing, file unreadable): exit 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}
