// Keeping a namespace alive without a process in it: bind-mount its file,
// as `ip netns add NAME` does at /run/netns/NAME (ip-netns(8)). A namespace
// lives while anything refers to it: a process, an open fd, or a bind mount
// of its /proc/PID/ns/ file (namespaces(7), "The /proc/[pid]/ns/ directory").
import { closeSync, fstatSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { MNT, MS, O, SyscallError, ValidationError, mount, umount2 } from '@nsk/syscall';
import { NS_FILE, isNamespaceType, NAMESPACE_TYPES, type NamespaceType } from './types.ts';
import type { NamespaceId } from './inspect.ts';
import { codeOf, fsError } from './fs-error.ts';
import { closeFd, openOfProcess } from './nsfd.ts';

export interface PersistOptions {
  /** The process whose namespace is kept. */
  pid: number | 'self';
  type: NamespaceType;
  /** The file's name in `persistDir(type)`. Give `name` or `path`. */
  name?: string;
  /** Or the file's full path; its directory becomes a mount point (see README). */
  path?: string;
}

export interface Persisted {
  /** The file that now holds the namespace: pass it to `enter({ files })`, `ip netns exec`, `nsenter --net=`. */
  path: string;
  namespace: NamespaceId;
}

/** `/run/netns` for network namespaces (where ip-netns(8) looks), `/run/nsk/ns/TYPE` for the others. */
export function persistDir(type: NamespaceType): string {
  return type === 'net' ? '/run/netns' : `/run/nsk/ns/${type}`;
}

function check(o: PersistOptions): { path: string } {
  if (o.pid !== 'self' && (!Number.isInteger(o.pid) || o.pid <= 0)) throw new ValidationError('pid', `not a process id: ${String(o.pid)}`);
  if (!isNamespaceType(o.type)) throw new ValidationError('type', `unknown namespace kind ${JSON.stringify(o.type)} (known: ${NAMESPACE_TYPES.join(', ')})`);
  if ((o.name === undefined) === (o.path === undefined)) throw new ValidationError('name', 'give exactly one of name and path');
  if (o.name !== undefined) {
    if (typeof o.name !== 'string' || !/^[^/\0]+$/.test(o.name) || o.name === '.' || o.name === '..') throw new ValidationError('name', `not a file name: ${JSON.stringify(o.name)}`);
    return { path: `${persistDir(o.type)}/${o.name}` };
  }
  if (typeof o.path !== 'string' || !isAbsolute(o.path) || o.path.includes('\0') || o.path.endsWith('/')) throw new ValidationError('path', `not an absolute file path: ${JSON.stringify(o.path)}`);
  return { path: o.path };
}

/**
 * Makes `dir` a mount point of its own with the propagation a namespace
 * file needs there, as ip does for /run/netns: mount --make-PROP DIR, and
 * when DIR is no mount point yet (EINVAL), mount --bind DIR DIR first.
 *
 * - Network and other namespaces: shared. ip-netns(8) does it so that
 *   unmounting a namespace file here also unmounts the copies that
 *   propagated into other mount namespaces, which lets the namespace be
 *   freed (iproute2, netns_add).
 * - Mount namespaces: private. A bind mount of a mount-namespace file is
 *   never copied by propagation (the copy could land inside the namespace
 *   it names: a reference cycle nothing would free), so onto a shared mount
 *   that has peers or slaves — /run on a systemd host, shared with every
 *   mount namespace cloned from it — the kernel refuses the bind with EINVAL
 *   (fs/namespace.c: copy_tree without CL_COPY_MNT_NS_FILE; unshare(1),
 *   --mount=FILE, says the same). A private mount propagates nowhere.
 */
export function prepareDir(dir: string, type: NamespaceType): void {
  const propagation = type === 'mount' ? MS.PRIVATE : MS.SHARED | MS.REC;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw fsError(err, `create ${dir} for namespace files`, dir);
  }
  try {
    mount(null, dir, null, propagation);
    return;
  } catch (err) {
    if (!(err instanceof SyscallError && err.errno === 'EINVAL')) throw err;
  }
  mount(dir, dir, null, MS.BIND | MS.REC);
  mount(null, dir, null, propagation);
}

/**
 * `ip netns attach NAME PID` for any kind: bind-mounts /proc/PID/ns/TYPE on
 * a file, so the namespace outlives its processes. Undo with `unpersist`.
 */
export function persist(o: PersistOptions): Persisted {
  const { path } = check(o);
  const file = NS_FILE[o.type];
  const step = `persist the ${o.type} namespace of process ${o.pid} at ${path}`;
  // Hold the namespace by an fd first, and make sure that fd came from the
  // process asked for, not from a later one that reused its pid.
  const [nsfd] = openOfProcess(o.pid, [{ path: `ns/${file}` }], step) as [number];
  try {
    const st = fstatSync(nsfd);
    const namespace: NamespaceId = { type: o.type, inode: st.ino, device: st.dev };
    prepareDir(dirname(path), o.type);
    try {
      // The mount point must exist; O_EXCL so that an existing name is never replaced.
      closeSync(openSync(path, O.RDONLY | O.CREAT | O.EXCL | O.CLOEXEC, 0));
    } catch (err) {
      throw fsError(err, step, path, codeOf(err) === 'EEXIST' ? `${path} exists: unpersist it first, or choose another name` : undefined);
    }
    try {
      // /proc/self/fd/N names exactly the namespace our fd holds.
      mount(`/proc/self/fd/${nsfd}`, path, null, MS.BIND);
    } catch (err) {
      unlinkSync(path);
      if (err instanceof SyscallError && err.errno === 'EINVAL' && o.type === 'mount') {
        throw new SyscallError({
          syscall: 'mount', errno: err.errnoNumber, step, path, args: [`/proc/${o.pid}/ns/mnt`, path, 'MS_BIND'],
          // fs/namespace.c, mnt_ns_loop: only a mount namespace created after
          // the caller's may be bound, or one could end up holding itself.
          hint: 'only a mount namespace newer than this process’s can be bound (not its own), and only onto a mount that propagates nowhere',
          cause: err,
        });
      }
      throw err;
    }
    return { path, namespace };
  } finally {
    closeFd(nsfd);
  }
}

/**
 * `ip netns delete NAME`: umount2(PATH, MNT_DETACH), then unlink. The
 * namespace itself ends when its last process, fd or mount is gone.
 */
export function unpersist(path: string): void {
  if (typeof path !== 'string' || !isAbsolute(path)) throw new ValidationError('path', `not an absolute path: ${JSON.stringify(path)}`);
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw fsError(err, `unpersist ${path}`, path);
  }
  // Only an nsfs inode is a persisted namespace: never unmount and unlink anything else.
  if (st.dev !== statSync('/proc/self/ns/net').dev) throw new ValidationError('path', `${path} holds no namespace (it is not a bind mount of a namespace file)`);
  umount2(path, MNT.DETACH);
  try {
    unlinkSync(path);
  } catch (err) {
    throw fsError(err, `unpersist ${path}`, path);
  }
}
