// Finds the command in argv (the longest run of words naming one) and parses
// its flags with node:util parseArgs. parseArgs runs non-strict so that an
// unknown flag can be answered with the nearest known one instead of its
// generic message; values are then typed by values.ts.
import { parseArgs } from 'node:util';
import { type Command, type FlagSpec, type FlagValues, GLOBAL_FLAGS, UsageError } from './spec.ts';
import { suggest } from './suggest.ts';
import { FlagValueError, flagExample, parseFlagValue } from './values.ts';

export type Resolved =
  | { kind: 'command'; command: Command; rest: string[] }
  /** words that name a group ("plan", "customer ip") but no command */
  | { kind: 'group'; group: string; rest: string[] };

/** Groups are every proper prefix of a command name ("customer", "customer ip"). */
export function groupsOf(commands: readonly Command[]): Set<string> {
  const groups = new Set<string>();
  for (const c of commands) {
    const words = c.name.split(' ');
    for (let i = 1; i < words.length; i++) groups.add(words.slice(0, i).join(' '));
  }
  return groups;
}

/** The words that may follow `prefix` ("" for the top level). */
export function childrenOf(commands: readonly Command[], prefix: string): string[] {
  const depth = prefix ? prefix.split(' ').length : 0;
  const out = new Set<string>();
  for (const c of commands) {
    const words = c.name.split(' ');
    if (words.length > depth && words.slice(0, depth).join(' ') === prefix) out.add(words[depth]);
  }
  return [...out];
}

export function resolveCommand(commands: readonly Command[], argv: readonly string[]): Resolved {
  const byName = new Map(commands.map((c) => [c.name, c]));
  const groups = groupsOf(commands);
  let path = '';
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i];
    if (word.startsWith('-')) break;
    const next = path ? `${path} ${word}` : word;
    const cmd = byName.get(next);
    if (cmd) return { kind: 'command', command: cmd, rest: argv.slice(i + 1) };
    if (groups.has(next)) {
      path = next;
      continue;
    }
    const hint = suggest(word, childrenOf(commands, path));
    const where = path ? `"${path}" has no subcommand "${word}"` : `unknown command "${word}"`;
    throw new UsageError(
      hint ? `${where}; did you mean "${path ? `${path} ` : ''}${hint}"?` : where,
      path || undefined,
    );
  }
  return { kind: 'group', group: path, rest: argv.slice(i) };
}

export interface Parsed {
  args: string[];
  flags: FlagValues;
  json: boolean;
  help: boolean;
}

/** Flags a command accepts: its own plus the global ones that apply to it. */
export function flagsOf(command: Command): Record<string, FlagSpec> {
  const out: Record<string, FlagSpec> = { ...command.flags };
  if (command.json !== false) out.json = GLOBAL_FLAGS.json;
  if (command.client !== false) {
    out.url = GLOBAL_FLAGS.url;
    if (!out.token && !out['api-key']) out.token = GLOBAL_FLAGS.token;
  }
  out.help = GLOBAL_FLAGS.help;
  return out;
}

export function parseCommandArgs(command: Command, rest: readonly string[], now = Date.now()): Parsed {
  const specs = flagsOf(command);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, s] of Object.entries(specs))
    options[name] = {
      type: s.kind === 'bool' ? 'boolean' : 'string',
      ...(s.short ? { short: s.short } : {}),
    };
  const { positionals, tokens } = parseArgs({
    args: [...rest],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const raw: Record<string, string | boolean> = {};
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const spec = specs[t.name];
    if (!spec) {
      const hint = suggest(t.name, Object.keys(specs));
      throw new UsageError(
        `unknown flag ${t.rawName} for "${command.name}"${hint ? `; did you mean --${hint}?` : ''}`,
        command.name,
      );
    }
    if (spec.kind === 'bool') {
      if (t.inlineValue) throw new UsageError(`--${t.name} takes no value`, command.name);
      raw[t.name] = true;
    } else {
      if (t.value === undefined)
        throw new UsageError(
          `--${t.name} needs a value (example: ${flagExample(t.name, spec)})`,
          command.name,
        );
      raw[t.name] = t.value;
    }
  }
  const help = raw.help === true;
  const json = raw.json === true;
  if (help) return { args: positionals, flags: {}, json, help };

  const flags: FlagValues = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name === 'help' || name === 'json') continue;
    const spec = specs[name];
    if (typeof value === 'boolean') {
      flags[name] = value;
      continue;
    }
    try {
      flags[name] = parseFlagValue(name, spec, value, now);
    } catch (e) {
      if (e instanceof FlagValueError) throw new UsageError(e.message, command.name);
      throw e;
    }
  }
  for (const [name, spec] of Object.entries(specs))
    if (spec.required && !(name in flags))
      throw new UsageError(`--${name} is required (example: ${flagExample(name, spec)})`, command.name);

  const argSpecs = command.args ?? [];
  const min = argSpecs.filter((a) => !a.optional).length;
  if (positionals.length < min) {
    const missing = argSpecs.slice(positionals.length, min).map((a) => a.name);
    throw new UsageError(`missing ${missing.join(' and ')}`, command.name);
  }
  if (positionals.length > argSpecs.length) {
    const extra = positionals.slice(argSpecs.length);
    throw new UsageError(`unexpected argument "${extra[0]}"`, command.name);
  }
  return { args: positionals, flags, json, help };
}
