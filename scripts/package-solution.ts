/**
 * `npm run package-solution` — builds the Dynamics solution zip(s) from dynamics-solution/definition.ts.
 * Same options in → byte-identical zip out. Bad options exit with status 2 and say what to fix.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSolutionPackages, type PackageType } from '../dynamics-solution/generate.ts';
import { checkOptions, DEFAULT_OPTIONS, OptionError } from '../dynamics-solution/options.ts';

const USAGE = `Usage: npm run package-solution -- [options]

  --version <a.b.c.d>    solution version, four dot-separated integers (default ${DEFAULT_OPTIONS.version})
  --server-url <url>     sync server base URL, https (http only for 127.0.0.1/localhost)
                         (default ${DEFAULT_OPTIONS.serverUrl})
  --prefix <prefix>      publisher customization prefix, 2-8 lower-case letters/digits starting
                         with a letter, not mscrm… (default ${DEFAULT_OPTIONS.prefix})
  --out <dir>            output folder (default dist)
  --unmanaged            write only the unmanaged zip
  --both                 write the managed and the unmanaged zip
  --help                 show this help

Writes <out>/<UniqueName>_<version>_managed.zip (and/or _unmanaged.zip).`;

function fail(message: string): never {
  process.stderr.write(`package-solution: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        version: { type: 'string' },
        'server-url': { type: 'string' },
        prefix: { type: 'string' },
        out: { type: 'string' },
        unmanaged: { type: 'boolean' },
        both: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.unmanaged && values.both) fail('--unmanaged and --both exclude each other: --both already writes the unmanaged zip.');
  if (values.out !== undefined && !values.out.trim()) fail('--out needs a folder path.');
  let options;
  try {
    options = checkOptions({
      version: values.version ?? DEFAULT_OPTIONS.version,
      serverUrl: values['server-url'] ?? DEFAULT_OPTIONS.serverUrl,
      prefix: values.prefix ?? DEFAULT_OPTIONS.prefix,
    });
  } catch (err) {
    if (err instanceof OptionError) fail(err.message);
    throw err;
  }
  const types: PackageType[] = values.both ? ['managed', 'unmanaged'] : values.unmanaged ? ['unmanaged'] : ['managed'];
  const { packages } = await buildSolutionPackages(options, types);
  const out = resolve(values.out ?? 'dist');
  mkdirSync(out, { recursive: true });
  for (const p of packages) {
    const file = resolve(out, p.fileName);
    writeFileSync(file, p.bytes);
    process.stdout.write(`${file} (${p.type}, ${p.bytes.length} bytes)\n`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`package-solution failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
