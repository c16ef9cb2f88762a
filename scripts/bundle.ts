// One-file builds of the two commands, `nsk` and `nsk-runtime`: what their
// packages publish as `bin`, and what the benches time.
//
//   node scripts/bundle.ts [cli|oci …]      (default: both)
//
// Why: each command is a short-lived process, and most of its start-up was
// Node's ES module loader — resolving, reading and compiling ~155 files of
// the workspace (measured: 167 ms for `nsk run --net none … /bin/true`
// from sources, against 30 ms for `node -e 0`). One file skips the
// resolution and lets Node's compile cache hold one entry.
//
// koffi stays outside (a native addon, found in node_modules at run time).
// @nsk/seccomp reads profiles/default.json next to its code
// (new URL('../profiles/default.json', import.meta.url)); the bundle is
// written to dist/bundle/ and the profile copied to dist/profiles/, so that
// the same URL finds it.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const COMMANDS: Record<string, { entry: string; dir: string; name: string }> = {
  cli: { entry: 'packages/cli/src/main.ts', dir: 'packages/cli/dist/bundle', name: 'nsk' },
  oci: { entry: 'packages/oci/src/main.ts', dir: 'packages/oci/dist/bundle', name: 'nsk-runtime' },
};

const wanted = process.argv.slice(2);
for (const name of wanted) if (!COMMANDS[name]) throw new Error(`bundle: unknown command ${name} (${Object.keys(COMMANDS).join(', ')})`);

for (const name of wanted.length ? wanted : Object.keys(COMMANDS)) {
  const { entry, dir, name: bin } = COMMANDS[name]!;
  const outdir = join(root, dir);
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { [bin]: join(root, entry) },
    outdir,
    outExtension: { '.js': '.mjs' },
    // Each command's dynamic import() stays a chunk of its own: `nsk ps`
    // does not compile `nsk run`'s code, and main.ts turns Node's compile
    // cache on before any chunk is loaded (a single file would be compiled
    // before it could).
    splitting: true,
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // The workspace packages' "nsk-source" export points at their .ts sources.
    conditions: ['nsk-source'],
    external: ['koffi'],
    // @nsk/container's lazy.ts calls require() for packages loaded on first
    // use; an ES module has no require of its own.
    banner: { js: "import { createRequire as __nskRequire } from 'node:module';\nconst require = __nskRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
  });
  const outfile = join(outdir, `${bin}.mjs`);
  chmodSync(outfile, 0o755);
  const profiles = join(outdir, '..', 'profiles');
  mkdirSync(profiles, { recursive: true });
  copyFileSync(join(root, 'packages/seccomp/profiles/default.json'), join(profiles, 'default.json'));
  process.stderr.write(`bundle: ${dir}/${bin}.mjs\n`);
}
