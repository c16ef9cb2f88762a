// A second process using the same store, for the store tests:
//   node image-worker.ts import STORE ARCHIVE [NAME]   imports and prints the image id
//   node image-worker.ts stall STORE                   unpacks layer 1, then waits forever inside layer 2 (to be killed)
import { PassThrough, Readable } from 'node:stream';
import { ImageStore } from '../src/index.ts';
import { sha256, testImage } from './image-fixtures.ts';

const [mode, root, archive, name] = process.argv.slice(2);
const store = new ImageStore({ root: root! });
if (mode === 'import') {
  const images = await store.import(archive!, name ? { name } : {});
  process.stdout.write(`${images.map((i) => i.id).join(' ')}\n`);
} else if (mode === 'stall') {
  const img = await testImage();
  const stalled = new PassThrough();
  setInterval(() => {}, 60_000); // a stream that never ends keeps nothing alive: this does
  stalled.write(img.layers[1].subarray(0, 1024));
  await store.addImage({
    names: ['stalled:1'], config: img.config,
    layers: [
      { digest: sha256(img.layers[0]), mediaType: 'application/vnd.oci.image.layer.v1.tar', open: async () => Readable.from([img.layers[0]]) },
      { digest: sha256(img.layers[1]), mediaType: 'application/vnd.oci.image.layer.v1.tar', open: async () => { process.stdout.write('stalled\n'); return stalled; } },
    ],
  });
} else {
  throw new Error(`unknown mode ${mode}`);
}
