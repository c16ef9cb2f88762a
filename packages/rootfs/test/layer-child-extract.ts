// Run as a separate process by layer-extract.test.ts (under setpriv, without
// CAP_MKNOD): extracts argv[2] (a tar file) into argv[3] and prints the
// ExtractResult as JSON.
import { createReadStream } from 'node:fs';
import { extractTar } from '../src/index.ts';

const [archive, root] = process.argv.slice(2);
const result = await extractTar(createReadStream(archive!), root!, { whiteouts: 'overlay' });
process.stdout.write(JSON.stringify(result));
