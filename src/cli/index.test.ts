// main() in-process for everything decided before the API is called: help,
// usage errors and their exit codes. The API round trips are in test/cli/.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { ApiError } from './client.ts';
import { COMMANDS, main, renderApiError } from './index.ts';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

async function run(argv: string[], env: Record<string, string> = {}) {
  const out = sink();
  const err = sink();
  const code = await main(argv, { stdout: out.stream, stderr: err.stream, stderrTTY: false, env });
  return { code, stdout: out.text(), stderr: err.text() };
}

test('every command has --help with usage, flags with units, and an example', async () => {
  for (const c of COMMANDS) {
    const r = await run([...c.name.split(' '), '--help']);
    assert.equal(r.code, 0, c.name);
    assert.match(r.stdout, new RegExp(`Usage: portcullis ${c.name}`), c.name);
    assert.match(r.stdout, /Examples?:\n {2}portcullis /, c.name);
    for (const flag of Object.keys(c.flags ?? {}))
      assert.match(r.stdout, new RegExp(`--${flag}\\b`), `${c.name} --${flag}`);
    if (c.json !== false) assert.match(r.stdout, /--json/, c.name);
  }
  const plan = await run(['plan', 'add', '--help']);
  assert.match(plan.stdout, /--bandwidth RATE .*1MB\/s/);
  assert.match(plan.stdout, /--quota SIZE .*10GB/);
});

test('up --help lists the config flags', async () => {
  const r = await run(['up', '--help']);
  for (const f of [
    '--data-dir',
    '--api-host',
    '--api-port',
    '--ports',
    '--public-host',
    '--egress-allow',
    '--role',
    '--log-level',
    '--database-url',
    '--redis-url',
  ])
    assert.ok(r.stdout.includes(f), f);
});

test('bare command, help verb and group help', async () => {
  const bare = await run([]);
  assert.equal(bare.code, 0);
  assert.match(bare.stdout, /customer ip add NAME CIDR/);
  const help = await run(['help', 'customer', 'add']);
  assert.match(help.stdout, /Usage: portcullis customer add NAME --plan PLAN/);
  const group = await run(['customer', '--help']);
  assert.equal(group.code, 0);
  assert.match(group.stdout, /customer set NAME/);
  assert.doesNotMatch(group.stdout, /plan add/);
  const missing = await run(['customer']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /"customer" needs a subcommand/);
});

test('usage errors exit 2 with a suggestion and a pointer to --help', async () => {
  const r = await run(['plan', 'add', 'X', '--threads', '1', '--rps', '1', '--bandwidth', '1XB/s']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error: --bandwidth expects a rate .*got "1XB\/s" \(example: --bandwidth 1MB\/s\)/);
  assert.match(r.stderr, /run `portcullis plan add --help` for usage/);
  assert.equal(r.stdout, '');
  const unknown = await run(['kik', 'alice']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /did you mean "kick"\?/);
  const cidr = await run(['customer', 'ip', 'add', 'alice', '10.0.0.1/8'], { PORTCULLIS_TOKEN: 'x' });
  assert.equal(cidr.code, 2);
  assert.match(cidr.stderr, /CIDR expects an IP address or a block with zero host bits; got "10.0.0.1\/8"/);
});

test('version, also as --version and --json', async () => {
  const r = await run(['--version']);
  assert.match(r.stdout, /^portcullis \d+\.\d+\.\d+ \(node 24\./);
  const j = JSON.parse((await run(['version', '--json'])).stdout);
  assert.match(j.version, /^\d+\.\d+\.\d+$/);
});

test('API errors print message, code, fields and numbered lines', () => {
  const lines = renderApiError(
    new ApiError(
      400,
      {
        code: 'PC_ERR_IMPORT_INVALID',
        message: 'Upstream list has malformed lines',
        details: { errors: [{ line: 3, error: 'port out of range' }] },
      },
      'http://127.0.0.1:1/api/v1/upstreams/import',
    ),
  );
  assert.deepEqual(lines, [
    'error: Upstream list has malformed lines (PC_ERR_IMPORT_INVALID)',
    '  line 3: port out of range',
  ]);
  const fields = renderApiError(
    new ApiError(
      400,
      { code: 'PC_ERR_VALIDATION', message: 'Request is invalid', fields: { threads: 'must be >= 1' } },
      'http://h/x',
    ),
  );
  assert.deepEqual(fields, ['error: Request is invalid (PC_ERR_VALIDATION)', '  threads: must be >= 1']);
  const unauth = renderApiError(
    new ApiError(401, { code: 'PC_ERR_UNAUTHORIZED', message: 'no' }, 'http://h:1/x'),
  );
  assert.match(unauth.join('\n'), /refused the credentials: check --token, PORTCULLIS_TOKEN/);
});
