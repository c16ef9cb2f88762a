// /etc/hosts and /etc/resolv.conf for the container: files @nsk/net writes
// on the host in its `parent` hook (the address is known only then), bound
// over the rootfs's own, which are never written.
//
// The plan is built before the files exist, and pivot_root takes the host's
// paths out of reach: open_tree(2) OPEN_TREE_CLONE takes a detached bind of
// each file before the rootfs steps, move_mount(2) attaches it after
// pivot_root, at a path resolved inside the container (a symlink in the
// image cannot send the mount to the host).
import { AT, O } from '@nsk/syscall';
import { num, str, type Feature, type FdRef, type Plan } from '@nsk/clone';

const OPEN_TREE_CLONE = 1;
const MOVE_MOUNT_F_EMPTY_PATH = 0x04;

export interface EtcFile {
  /** The host file. */
  source: string;
  /** Where the container sees it: `/etc/hosts`. */
  target: string;
  /** Create the target first (an image's overlay, whose writes go to the container's upper layer). */
  create: boolean;
}

/** Two Features around the rootfs: take the binds, then attach them. */
export function etcFileFeatures(files: readonly EtcFile[]): { take: Feature; attach: Feature } {
  const trees: FdRef[] = [];
  const take: Feature = {
    name: 'etc-files',
    plan(plan: Plan) {
      trees.length = 0;
      for (const f of files) {
        trees.push(plan.add('open_tree', [num(AT.FDCWD, 'AT_FDCWD'), str(f.source), num(OPEN_TREE_CLONE | O.CLOEXEC, 'OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC')], `take a bind of ${f.source} for ${f.target}`));
      }
    },
  };
  const attach: Feature = {
    name: 'etc-files',
    plan(plan: Plan) {
      files.forEach((f, i) => {
        if (f.create) {
          plan.mkdirat(AT.FDCWD, '/etc', 0o755, { tolerate: 'EEXIST', label: 'create /etc' });
          const fd = plan.openat(AT.FDCWD, f.target, O.CREAT | O.RDONLY | O.NOCTTY, 0o644, { label: `create ${f.target} to bind onto` });
          plan.close(fd, { label: `close ${f.target}` });
        }
        plan.add('move_mount', [trees[i]!, str(''), num(AT.FDCWD, 'AT_FDCWD'), str(f.target), num(MOVE_MOUNT_F_EMPTY_PATH, 'MOVE_MOUNT_F_EMPTY_PATH')], `bind ${f.source} on ${f.target}`);
        plan.close(trees[i]!, { label: `close the bind of ${f.source}` });
      });
    },
  };
  return { take, attach };
}
