// Chapter 1: chroot. Copy a shell and the libraries it needs into a
// directory, and make that directory a process's root.
import { join } from 'node:path';
import { Plan } from '@nsk/clone';
import { formatLdd, hostRootfs, ldd } from '@nsk/rootfs';
import { defineChapter } from '../../src/chapter.ts';
import { run, scratchDir } from '../../src/lab.ts';

/** The programs the chapter copies in. */
export const PROGRAMS = ['/bin/bash', '/bin/ls', '/bin/cat'];

export interface ChrootObservation {
  /** What `ldd /bin/bash` shows, from our own ELF reader. */
  lddBash: string;
  /** `ls /` inside the chroot, and bash's own version there. */
  inside: string[];
  bashVersion: string;
  /** Whether a host file outside the new root could be read. */
  sawHostFile: boolean;
}

/** Builds a root of PROGRAMS in `dir`/root and runs bash in it under chroot(2). */
export async function observe(dir: string): Promise<ChrootObservation> {
  const root = hostRootfs(join(dir, 'root'), { binaries: PROGRAMS });
  const plan = new Plan();
  // chroot(2) changes where path lookups start; chdir so that "." is inside too.
  plan.chroot(root, { label: `chroot ${root}` });
  plan.chdir('/');
  const r = await run({ argv: ['/bin/bash', '-c', 'echo "$BASH_VERSION"; ls /; cat /etc/hostname 2>/dev/null && echo SAW-HOST-FILE; true'], plan });
  if (r.code !== 0) throw new Error(`bash in the chroot exited ${r.status}: ${r.stderr}`);
  const [bashVersion = '', ...rest] = r.stdout.trim().split('\n');
  return { lddBash: formatLdd(ldd('/bin/bash')), inside: rest.filter((l) => l !== 'SAW-HOST-FILE'), bashVersion, sawHostFile: rest.includes('SAW-HOST-FILE') };
}

export default defineChapter({
  n: 1,
  slug: 'chroot',
  title: 'chroot: a directory as the root',
  titleKo: 'chroot: 디렉터리를 루트로',
  async run(show) {
    const dir = scratchDir();
    try {
      show.say(`bash needs these files (our ELF reader, like ldd /bin/bash):`);
      const o = await observe(dir.path);
      show.code(o.lddBash);
      show.say(`They and ${PROGRAMS.join(', ')} are copied into ${dir.path}/root; then a child calls chroot() on it and runs bash.`);
      show.sideBySide({ host: `${dir.path}/root`, container: `bash ${o.bashVersion}\nls /:\n${o.inside.join('\n')}\n/etc/hostname: ${o.sawHostFile ? 'readable' : 'not there'}` });
    } finally {
      dir.dispose();
    }
  },
});
