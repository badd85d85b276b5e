// --help text, generated from the command specs so it cannot drift from what
// the parser accepts: usage line, arguments, flags with units, examples.
import { childrenOf, flagsOf } from './args.ts';
import type { Command } from './spec.ts';
import { flagExample } from './values.ts';

export function usageLine(c: Command): string {
  const args = (c.args ?? []).map((a) => (a.optional ? `[${a.name}]` : a.name));
  const required = Object.entries(c.flags ?? {})
    .filter(([, s]) => s.required)
    .map(([n, s]) => `--${n} ${s.value ?? 'VALUE'}`);
  return ['portcullis', c.name, ...args, ...required, '[flags]'].join(' ');
}

function columns(rows: [string, string][], indent = '  '): string[] {
  const w = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(w)}  ${b}`.trimEnd());
}

export function commandHelp(c: Command): string {
  const lines = [`${c.summary}`, '', `Usage: ${usageLine(c)}`];
  if (c.args?.length) {
    lines.push('', 'Arguments:', ...columns(c.args.map((a) => [a.name, a.help])));
  }
  const flags = flagsOf(c);
  lines.push(
    '',
    'Flags:',
    ...columns(
      Object.entries(flags).map(([name, s]) => {
        const left = `${s.short ? `-${s.short}, ` : ''}--${name}${s.kind === 'bool' ? '' : ` ${s.value ?? 'VALUE'}`}`;
        const choices = s.choices ? ` (${s.choices.join('|')})` : '';
        // Every typed flag shows an example, unless its help already gives one.
        const eg =
          s.kind !== 'bool' && !s.choices && s.kind !== 'string' && !s.help.includes('e.g.')
            ? ` [e.g. ${flagExample(name, s)}]`
            : '';
        return [left, `${s.help}${choices}${s.required ? ', required' : ''}${eg}`];
      }),
    ),
  );
  if (c.notes?.length) lines.push('', ...c.notes);
  lines.push('', c.examples.length > 1 ? 'Examples:' : 'Example:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** Help for a group ("customer") or the top level (""). */
export function groupHelp(commands: readonly Command[], group: string): string {
  const inGroup = commands.filter((c) => group === '' || c.name.startsWith(`${group} `));
  const lines: string[] = [];
  if (group === '') {
    lines.push(
      'portcullis: sell and enforce proxy access (gateway, limits, API)',
      '',
      'Usage: portcullis COMMAND [ARGS] [flags]',
      '',
      'Commands:',
    );
  } else {
    lines.push(`Usage: portcullis ${group} ${childrenOf(commands, group).join('|')} ...`, '', 'Commands:');
  }
  lines.push(
    ...columns(
      inGroup.map((c) => [`${c.name}${(c.args ?? []).map((a) => ` ${a.name}`).join('')}`, c.summary]),
    ),
  );
  lines.push(
    '',
    'Every command takes --help and --json. The CLI talks to the API at PORTCULLIS_URL',
    '(default http://127.0.0.1:8787) with PORTCULLIS_TOKEN or the token in DATA_DIR/admin-token.',
    `Run \`portcullis ${group ? `${group} ` : ''}COMMAND --help\` for details.`,
  );
  return lines.join('\n');
}
