// nsk import: an image from a file, into the store.
import { resolve } from 'node:path';
import { ValidationError } from '@nsk/syscall';
import { expectPositionals, parse, printUsage, usageFail, type CommandSpec } from '../args.ts';
import { shortId } from './images.ts';

export const spec: CommandSpec = {
  name: 'import',
  synopsis: '[--name NAME[:TAG]] FILE',
  summary: [
    'Imports FILE into the image store: a `docker export` tar (one filesystem),',
    'a `docker save` tar, or an OCI image layout (a directory or its tar);',
    'gzip and zstd are unpacked. Prints the id and names of what it imported.',
  ].join('\n'),
  options: { name: { type: 'string' } },
  help: { name: { value: 'NAME[:TAG]', help: 'the name to give the image (required for a docker export tar)' } },
};

export async function command(argv: string[]): Promise<number> {
  const p = parse<{ name?: string }>(spec, argv);
  if (!p) return printUsage(spec);
  expectPositionals(spec, p, ['FILE']);
  const { progressBar } = await import('@nsk/rootfs');
  const { imageStore } = await import('../image-store.ts');
  const store = await imageStore();
  const file = resolve(p.positionals[0]!);
  let images;
  try {
    images = await store.import(file, {
      ...(p.values.name !== undefined ? { name: p.values.name } : {}),
      onProgress: progressBar(process.stderr),
    });
  } catch (err) {
    // A docker export tar has no name of its own: say which flag gives one.
    if (err instanceof ValidationError && err.field === 'name' && p.values.name === undefined) usageFail(spec, `${err.message.slice('name: '.length)} with --name NAME[:TAG]`);
    throw err;
  }
  for (const img of images) process.stdout.write(`${shortId(img.id)} ${img.names.join(' ')}`.trimEnd() + '\n');
  return 0;
}
