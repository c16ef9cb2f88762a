// nsk pull: an image from a registry (the Docker Registry HTTP API v2 / OCI
// distribution), into the store.
import { expectPositionals, parse, printUsage, type CommandSpec } from '../args.ts';
import { shortId } from './images.ts';

export const spec: CommandSpec = {
  name: 'pull',
  synopsis: '[--insecure] REF',
  summary: 'Pulls REF (busybox, library/alpine:3.20, localhost:5000/app:1, name@sha256:…)\nfrom its registry into the image store; prints the image id.',
  options: { insecure: { type: 'boolean' } },
  help: { insecure: { help: 'speak plain http to the registry (a local test registry)' } },
};

export async function command(argv: string[]): Promise<number> {
  const p = parse<{ insecure?: boolean }>(spec, argv);
  if (!p) return printUsage(spec);
  expectPositionals(spec, p, ['REF']);
  const { pull, progressBar } = await import('@nsk/rootfs');
  const { imageStore } = await import('../image-store.ts');
  const img = await pull(p.positionals[0]!, { store: await imageStore(), insecure: p.values.insecure ?? false, onProgress: progressBar(process.stderr) });
  process.stdout.write(`${shortId(img.id)} ${img.names.join(' ')}`.trimEnd() + '\n');
  return 0;
}
