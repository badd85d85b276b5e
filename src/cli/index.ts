// The CLI's front door: finds the command, parses its flags, runs it against
// the API and turns every failure into one clear message and an exit code:
// 0 done, 1 the operation failed (API error, unreachable, no token),
// 2 the command line was wrong (unknown command or flag, bad unit).
import type { Writable } from 'node:stream';
import { cliEnv } from '../config.ts';
import { parseCommandArgs, resolveCommand } from './args.ts';
import { ApiError, createClient, UnreachableError } from './client.ts';
import { customerCommands } from './commands/customer.ts';
import { miscCommands } from './commands/misc.ts';
import { opsCommands } from './commands/ops.ts';
import { planCommands } from './commands/plan.ts';
import { tokenCommands } from './commands/token.ts';
import { upstreamCommands } from './commands/upstream.ts';
import { commandHelp, groupHelp } from './help.ts';
import { createOutput, type Output } from './output.ts';
import { CliError, type Command, UsageError } from './spec.ts';

export const COMMANDS: readonly Command[] = [
  ...miscCommands.filter((c) => c.name === 'up'),
  ...planCommands,
  ...customerCommands,
  ...upstreamCommands,
  ...opsCommands,
  ...tokenCommands,
  ...miscCommands.filter((c) => c.name !== 'up'),
  {
    name: 'help',
    summary: 'help on a command: portcullis help customer add',
    args: [{ name: 'COMMAND', help: 'command words', optional: true }],
    client: false,
    json: false,
    examples: ['portcullis help', 'portcullis help plan add'],
    async run() {
      return undefined; // answered in main() before parsing, since it takes any words
    },
  },
];

export interface Io {
  stdout?: Writable;
  stderr?: Writable;
  stderrTTY?: boolean;
  /** environment for the client settings (default: process.env through config.ts) */
  env?: Record<string, string | undefined>;
}

export async function main(argv: readonly string[], io: Io = {}): Promise<number> {
  const out = createOutput(
    io.stdout ?? process.stdout,
    io.stderr ?? process.stderr,
    io.stderrTTY ?? Boolean(process.stderr.isTTY),
  );
  let command: Command | undefined;
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
      out.print(groupHelp(COMMANDS, ''));
      return 0;
    }
    if (argv[0] === '--version' || argv[0] === '-v') argv = ['version', ...argv.slice(1)];
    if (argv[0] === 'help' && !argv.includes('--help') && !argv.includes('-h'))
      return showHelp(argv.slice(1), out);

    const found = resolveCommand(COMMANDS, argv);
    if (found.kind === 'group') {
      if (found.rest.includes('--help') || found.rest.includes('-h')) {
        out.print(groupHelp(COMMANDS, found.group));
        return 0;
      }
      out.warn(`error: "${found.group}" needs a subcommand\n`);
      out.warn(groupHelp(COMMANDS, found.group));
      return 2;
    }
    command = found.command;
    const parsed = parseCommandArgs(command, found.rest);
    if (parsed.help) {
      out.print(commandHelp(command));
      return 0;
    }
    const f = parsed.flags;
    const api = createClient({
      env: cliEnv(io.env),
      url: typeof f.url === 'string' ? f.url : undefined,
      token: typeof f.token === 'string' ? f.token : undefined,
      apiKey: typeof f['api-key'] === 'string' ? f['api-key'] : undefined,
    });
    const code = await command.run({ args: parsed.args, flags: f, json: parsed.json, out, api });
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    return report(e, out, command);
  }
}

function showHelp(words: readonly string[], out: Output): number {
  const found = resolveCommand(
    COMMANDS,
    words.filter((w) => !w.startsWith('-')),
  );
  out.print(found.kind === 'command' ? commandHelp(found.command) : groupHelp(COMMANDS, found.group));
  return 0;
}

/** Prints one failure; returns the exit code. */
export function report(e: unknown, out: Output, command?: Command): number {
  if (e instanceof UsageError) {
    out.warn(`error: ${e.message}`);
    const about = e.command ?? command?.name;
    out.warn(`run \`portcullis ${about ? `${about} ` : ''}--help\` for usage`);
    return 2;
  }
  if (e instanceof ApiError) {
    for (const line of renderApiError(e)) out.warn(line);
    return 1;
  }
  if (e instanceof UnreachableError || e instanceof CliError) {
    out.warn(`error: ${e.message}`);
    return 1;
  }
  const err = e as Error;
  // loadConfig() (portcullis up) names each bad variable or flag.
  if (err?.name === 'ConfigError') {
    out.warn(`error: ${err.message}`);
    return 2;
  }
  out.warn(`error: unexpected failure: ${err?.stack ?? String(e)}`);
  return 1;
}

export function renderApiError(e: ApiError): string[] {
  const lines = [`error: ${e.message} (${e.code})`];
  lines.push(...fieldLines(e.fields), ...detailLines(e.details));
  if (e.status === 401)
    lines.push(
      `  the API at ${new URL(e.url).origin} refused the credentials: check --token, PORTCULLIS_TOKEN or DATA_DIR/admin-token`,
      '  (a token belongs to the server whose data dir issued it)',
    );
  if (e.status === 413)
    lines.push(
      "  the body is over the API's size limit; for a proxy list, import it in parts (known upstreams keep their ports)",
    );
  if (e.status === 503)
    lines.push('  the server is up but its database is not; retry once it is back (no restart needed)');
  if (e.status === 403 && e.code === 'PC_ERR_FORBIDDEN')
    lines.push('  this token lacks the scope; use an admin-scoped token');
  return lines;
}

function fieldLines(fields: unknown): string[] {
  if (!fields || typeof fields !== 'object') return [];
  if (Array.isArray(fields))
    return fields.map((x) => {
      const o = x as {
        path?: unknown;
        field?: unknown;
        name?: unknown;
        message?: unknown;
        problem?: unknown;
      };
      const name = o.field ?? o.name ?? (Array.isArray(o.path) ? o.path.join('.') : o.path);
      return `  ${name ?? '?'}: ${o.problem ?? o.message ?? JSON.stringify(x)}`;
    });
  return Object.entries(fields).map(([k, v]) => `  ${k}: ${Array.isArray(v) ? v.join('; ') : String(v)}`);
}

/** Line-numbered import errors (`[{line, error}]`, bare or wrapped) and simple key/value details. */
function detailLines(details: unknown): string[] {
  if (details === null || details === undefined) return [];
  const list = Array.isArray(details)
    ? details
    : typeof details === 'object'
      ? Object.values(details).find((v) => Array.isArray(v))
      : undefined;
  const lines: string[] = [];
  if (Array.isArray(list)) {
    for (const x of list) {
      if (x && typeof x === 'object' && 'line' in x) {
        const o = x as { line: number; error?: string; message?: string; reason?: string; text?: string };
        lines.push(
          `  line ${o.line}: ${o.error ?? o.message ?? o.reason ?? ''}${o.text ? `  (${o.text})` : ''}`,
        );
      } else lines.push(`  ${typeof x === 'string' ? x : JSON.stringify(x)}`);
    }
  }
  if (typeof details === 'object' && !Array.isArray(details)) {
    for (const [k, v] of Object.entries(details))
      if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) lines.push(`  ${k}: ${v}`);
  } else if (typeof details !== 'object') lines.push(`  ${String(details)}`);
  return lines;
}
