// nsk images: the image store's images.
import { expectPositionals, parse, printUsage, type CommandSpec } from '../args.ts';
import { ago, humanSize, table } from '../table.ts';

export const spec: CommandSpec = {
  name: 'images',
  synopsis: '[-q]',
  summary: 'Lists the images in the store (/var/lib/nsk as root, else ~/.local/share/nsk).',
  options: { quiet: { type: 'boolean', short: 'q' } },
  help: { quiet: { help: 'print image ids only' } },
};

/** `busybox:latest` → ['busybox', 'latest']; the tag is after the last ':' that follows the last '/'. */
export function splitName(n: string): [string, string] {
  const i = n.lastIndexOf(':');
  return i > n.lastIndexOf('/') ? [n.slice(0, i), n.slice(i + 1)] : [n, ''];
}

export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

export async function command(argv: string[]): Promise<number> {
  const p = parse<{ quiet?: boolean }>(spec, argv);
  if (!p) return printUsage(spec);
  expectPositionals(spec, p, []);
  const { imageStore } = await import('../image-store.ts');
  const images = (await imageStore()).list();
  if (p.values.quiet) {
    if (images.length) process.stdout.write(`${images.map((i) => shortId(i.id)).join('\n')}\n`);
    return 0;
  }
  const rows: string[][] = [];
  const now = Date.now();
  for (const img of images) {
    const created = img.created ? `${ago(img.created, now)} ago` : '';
    for (const n of img.names.length ? img.names : ['<none>:<none>']) {
      const [repo, tag] = splitName(n);
      rows.push([repo, tag, shortId(img.id), created, humanSize(img.size)]);
    }
  }
  process.stdout.write(`${table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows)}\n`);
  return 0;
}
