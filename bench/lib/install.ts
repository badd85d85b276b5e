// What the bench needs on the machine, and installing what is missing: Debian
// packages through apt-get (as root, or through sudo when it needs no
// password), proxy-chain through npm (a devDependency). When that is not
// possible the bench says what to install and runs the rest.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findBinary } from '../../test/helpers/peers.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Binary -> Debian package. `required` ones stop the bench; the others only their rows. */
const TOOLS: { bin: string; pkg: string; required?: boolean }[] = [
  { bin: 'wrk', pkg: 'wrk', required: true },
  { bin: 'gcc', pkg: 'gcc', required: true },
  { bin: 'nginx', pkg: 'nginx-light', required: true },
  { bin: 'tar', pkg: 'tar', required: true },
  { bin: 'squid', pkg: 'squid' },
  { bin: 'tinyproxy', pkg: 'tinyproxy' },
  { bin: 'danted', pkg: 'dante-server' },
  { bin: 'microsocks', pkg: 'microsocks' },
  { bin: 'openssl', pkg: 'openssl' },
];

function missingTools(): typeof TOOLS {
  return TOOLS.filter((t) => {
    try {
      findBinary(t.bin, t.pkg);
      return false;
    } catch {
      return true;
    }
  });
}

function runs(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** apt-get, as root or through password-less sudo; undefined when neither works. */
function aptGet(): string[] | undefined {
  let apt: string;
  try {
    apt = findBinary('apt-get', 'apt');
  } catch {
    return undefined;
  }
  if (process.getuid?.() === 0) return [apt];
  if (runs('sudo', ['-n', 'true'])) return ['sudo', '-n', apt];
  return undefined;
}

function proxyChainPresent(): boolean {
  return existsSync(path.join(ROOT, 'node_modules', 'proxy-chain', 'package.json'));
}

export interface Tools {
  /** why a binary is missing, by binary name (rows needing it report this) */
  missing: Map<string, string>;
}

/**
 * Checks every tool, installs what is missing when `install` (apt-get, npm), and
 * returns what is still missing. Throws with the install command when a required
 * tool (wrk, gcc, nginx, tar) is missing.
 */
export function ensureTools(opts: { install: boolean; log: (msg: string) => void }): Tools {
  let missing = missingTools();
  if (missing.length && opts.install) {
    const pkgs = missing.map((t) => t.pkg);
    const apt = aptGet();
    if (!apt) {
      opts.log(
        `missing ${pkgs.join(', ')}: cannot install them (no apt-get, or not root and sudo asks for a password)`,
      );
    } else {
      opts.log(`installing ${pkgs.join(' ')} with apt-get`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const [cmd, ...pre] = apt;
      try {
        execFileSync(cmd, [...pre, 'update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
        execFileSync(cmd, [...pre, 'install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
          stdio: ['ignore', 'ignore', 'inherit'],
          env,
        });
      } catch (err) {
        opts.log(`apt-get install failed: ${(err as Error).message.split('\n')[0]}`);
      }
      missing = missingTools();
    }
  }
  if (!proxyChainPresent() && opts.install) {
    const spec = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).devDependencies?.[
      'proxy-chain'
    ];
    opts.log(`installing proxy-chain${spec ? `@${spec}` : ''} (a devDependency) with npm`);
    try {
      // --no-save: package.json and the lock file already name it; only node_modules lacks it.
      execFileSync(
        'npm',
        ['install', '--no-save', '--no-audit', '--no-fund', `proxy-chain${spec ? `@${spec}` : ''}`],
        {
          cwd: ROOT,
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
    } catch (err) {
      opts.log(`npm install proxy-chain failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const required = missing.filter((t) => t.required);
  if (required.length) {
    const pkgs = required.map((t) => t.pkg).join(' ');
    throw new Error(
      `the bench needs ${required.map((t) => t.bin).join(', ')}: install them with \`apt-get install ${pkgs}\`` +
        (opts.install ? '' : ' (or run without --no-install as root)'),
    );
  }
  const out = new Map<string, string>();
  for (const t of missing) {
    const why = `${t.bin} not installed (apt-get install ${t.pkg})`;
    out.set(t.bin, why);
    opts.log(`${why}: its rows are skipped`);
  }
  if (!proxyChainPresent()) {
    const why = 'proxy-chain not installed (npm install: it is a devDependency)';
    out.set('proxy-chain', why);
    opts.log(`${why}: its row is skipped`);
  }
  return { missing: out };
}
