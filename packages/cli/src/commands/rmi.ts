// nsk rmi: untag or delete images, then drop the layers no image uses.
import { NskError } from '@nsk/syscall';
import { parse, printUsage, usageFail, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'rmi',
  synopsis: 'REF [REF...]',
  summary: 'Removes images (by name, name:tag or id prefix) from the store, then the\nlayers no remaining image uses.',
  options: {},
  help: {},
};

export async function command(argv: string[]): Promise<number> {
  const p = parse(spec, argv);
  if (!p) return printUsage(spec);
  if (p.positionals.length === 0) usageFail(spec, 'missing REF');
  const { imageStore } = await import('../image-store.ts');
  const store = await imageStore();
  let failed = 0;
  for (const ref of p.positionals) {
    try {
      store.remove(ref);
      process.stdout.write(`Removed: ${ref}\n`);
    } catch (err) {
      if (!(err instanceof NskError)) throw err;
      process.stderr.write(`nsk: ${err.message}\n`);
      failed++;
    }
  }
  const { removedLayers } = store.gc();
  for (const l of removedLayers) process.stdout.write(`Deleted layer: ${l}\n`);
  return failed ? 125 : 0;
}
