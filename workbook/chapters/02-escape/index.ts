// Chapter 2: the chroot escape, and why pivot_root in a mount namespace
// stops it. The escape is a plan — five system calls run inside the
// rootfs — so no C compiler is needed.
import { Plan } from '@nsk/clone';
import { rootfs } from '@nsk/mount';
import { AT } from '@nsk/syscall';
import { defineChapter } from '../../src/chapter.ts';
import { run, scratchRootfs } from '../../src/lab.ts';

/**
 * The classic escape (chroot(2) NOTES: "This call does not change the
 * current working directory"): make a directory, chroot into it while the
 * working directory stays outside the new root, walk up with "..", which
 * is only stopped at the process's root — now below us — and chroot to
 * where we ended: the real root.
 */
export function planEscape(plan: Plan): Plan {
  plan.mkdirat(AT.FDCWD, '.out', 0o755, { tolerate: 'EEXIST', label: 'mkdir .out' });
  plan.chroot('.out', { label: 'chroot .out (the working directory stays outside it)' });
  plan.chdir('../../../../../../../../..', { label: 'cd ../../../.. (".." is only stopped at the root, and ours is below)' });
  plan.chroot('.', { label: 'chroot . (wherever we ended up)' });
  return plan;
}

export interface EscapeResult {
  /** `ls /` after the escape. */
  root: string[];
  /** Whether the rootfs's own directory (a host path) was visible after the escape. */
  sawHostPath: boolean;
}

const look = (hostPath: string) => ['/bin/busybox', 'sh', '-c', `ls /; test -d '${hostPath}' && echo SAW-HOST-PATH; true`];

function parse(out: string): EscapeResult {
  const lines = out.trim().split('\n');
  return { root: lines.filter((l) => l !== 'SAW-HOST-PATH'), sawHostPath: lines.includes('SAW-HOST-PATH') };
}

/** chroot into `root`, then the escape. */
export async function escapeFromChroot(root: string): Promise<EscapeResult> {
  const plan = new Plan();
  plan.chroot(root, { label: `chroot ${root}` });
  plan.chdir('/');
  planEscape(plan);
  const r = await run({ argv: look(root), plan });
  if (r.code !== 0) throw new Error(`escape from chroot: exit ${r.status}: ${r.stderr}`);
  return parse(r.stdout);
}

/** pivot_root into `root` in a new mount namespace, old root detached, then the same escape. */
export async function escapeFromPivotRoot(root: string): Promise<EscapeResult> {
  const r = await run({ argv: look(root), features: [rootfs({ path: root, readonly: false })], plan: planEscape(new Plan()) });
  if (r.code !== 0) throw new Error(`escape from pivot_root: exit ${r.status}: ${r.stderr}`);
  return parse(r.stdout);
}

export default defineChapter({
  n: 2,
  slug: 'escape',
  title: 'Escaping a chroot, and pivot_root',
  titleKo: 'chroot 탈출과 pivot_root',
  async run(show) {
    const root = scratchRootfs();
    try {
      show.say(`A busybox root filesystem is in ${root.path}. The escape, as the child will run it:`);
      show.code(planEscape(new Plan()).explain());
      show.step('Under chroot');
      const a = await escapeFromChroot(root.path);
      show.sideBySide({ host: `ls / after the escape:\n${a.root.join(' ')}`, container: a.sawHostPath ? `it can see ${root.path}:\nthis is the host's root` : 'still inside' });
      show.step('After pivot_root in a new mount namespace, old root detached');
      const b = await escapeFromPivotRoot(root.path);
      show.sideBySide({ host: `ls / after the escape:\n${b.root.join(' ')}`, container: b.sawHostPath ? 'escaped!' : `no ${root.path} here:\nthe old root is gone` });
    } finally {
      root.dispose();
    }
  },
});
