// config.json `root` and `mounts`: mount(8)'s option words turned into
// mount(2) flags, a propagation change, and the filesystem's own data.
import { isAbsolute, resolve } from 'node:path';
import { statSync } from 'node:fs';
import { MS } from '@nsk/syscall';
import { absolute, array, bad, bool, known, object, optString, string, strings, unsupported } from './json.ts';

export interface RootSpec { path: string; readonly: boolean }

export interface MountSpec {
  destination: string;
  type: string | null;
  source: string | null;
  /** MS_* flags of the mount itself (MS_BIND|MS_REC for rbind). */
  flags: number;
  /** Per-mount flags a bind needs a remount for (mount(2): MS_BIND ignores them). */
  bindFlags: number;
  /** MS_PRIVATE, MS_SLAVE … (| MS_REC), applied by a call of its own; 0 for none. */
  propagation: number;
  data: string | null;
  bind: boolean;
}

/** mount(8)'s words: [set, clear]. */
const FLAGS: Readonly<Record<string, [number, number]>> = {
  ro: [MS.RDONLY, 0], rw: [0, MS.RDONLY], nosuid: [MS.NOSUID, 0], suid: [0, MS.NOSUID], nodev: [MS.NODEV, 0], dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0], exec: [0, MS.NOEXEC], sync: [MS.SYNCHRONOUS, 0], async: [0, MS.SYNCHRONOUS], dirsync: [MS.DIRSYNC, 0],
  mand: [MS.MANDLOCK, 0], nomand: [0, MS.MANDLOCK], noatime: [MS.NOATIME, 0], atime: [0, MS.NOATIME],
  nodiratime: [MS.NODIRATIME, 0], diratime: [0, MS.NODIRATIME], relatime: [MS.RELATIME, 0], norelatime: [0, MS.RELATIME],
  strictatime: [MS.STRICTATIME, 0], nostrictatime: [0, MS.STRICTATIME], nosymfollow: [MS.NOSYMFOLLOW, 0], symfollow: [0, MS.NOSYMFOLLOW],
  lazytime: [MS.LAZYTIME, 0], nolazytime: [0, MS.LAZYTIME], defaults: [0, 0],
};

const PROPAGATION: Readonly<Record<string, number>> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

/** The flags a bind mount takes only through a remount. */
const PER_MOUNT = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME | MS.NOSYMFOLLOW;

export function checkRoot(v: unknown, bundle: string): RootSpec {
  const r = object('root', v ?? bad('root', 'required: { path, readonly? }'));
  known('root', r, ['path', 'readonly']);
  const p = string('root.path', r.path);
  const path = isAbsolute(p) ? p : resolve(bundle, p);
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) bad('root.path', `${path} is not a directory`);
  return { path, readonly: bool('root.readonly', r.readonly, false) };
}

export function checkPropagation(path: string, v: unknown): number {
  if (v === undefined || v === '') return 0;
  const s = string(path, v);
  const f = PROPAGATION[s];
  if (f === undefined) bad(path, `${JSON.stringify(s)}: one of ${Object.keys(PROPAGATION).join(', ')}`);
  return f!;
}

export function checkMounts(v: unknown, bundle: string): MountSpec[] {
  if (v === undefined || v === null) return [];
  return array('mounts', v).map((m, i) => {
    const f = `mounts[${i}]`;
    const o = object(f, m);
    known(f, o, ['destination', 'type', 'source', 'options', 'uidMappings', 'gidMappings']);
    unsupported(`${f}.uidMappings`, o.uidMappings, 'idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP) are not planned by nsk yet');
    unsupported(`${f}.gidMappings`, o.gidMappings, 'idmapped mounts are not planned by nsk yet');
    const destination = absolute(`${f}.destination`, o.destination);
    const type = optString(`${f}.type`, o.type) ?? null;
    let source = optString(`${f}.source`, o.source) ?? null;
    const options = o.options === undefined ? [] : strings(`${f}.options`, o.options);
    let flags = 0;
    let propagation = 0;
    let bind = type === 'bind';
    let rec = false;
    const data: string[] = [];
    options.forEach((opt, j) => {
      if (opt === 'bind' || opt === 'rbind') { bind = true; rec ||= opt === 'rbind'; return; }
      if (opt === 'tmpcopyup' || opt === 'idmap' || opt === 'ridmap' || opt === 'copy-symlink' || opt.startsWith('rro') || opt === 'rrw') {
        bad(`${f}.options[${j}]`, `${JSON.stringify(opt)} is a runc extension nsk does not implement`);
      }
      const fl = FLAGS[opt];
      if (fl) { flags = (flags | fl[0]) & ~fl[1]; return; }
      const pr = PROPAGATION[opt];
      if (pr !== undefined) { propagation = pr; return; }
      if (opt.includes('\0') || opt.includes(',')) bad(`${f}.options[${j}]`, `not a mount option: ${JSON.stringify(opt)}`);
      data.push(opt);
    });
    if (bind) {
      if (source === null) bad(`${f}.source`, 'a bind mount needs its source');
      if (!isAbsolute(source!)) source = resolve(bundle, source!);
      if (!statSync(source!, { throwIfNoEntry: false })) bad(`${f}.source`, `${source} does not exist`);
      if (data.length) bad(`${f}.options`, `a bind mount takes no filesystem options: ${data.join(',')}`);
    } else if (type === null) {
      bad(`${f}.type`, 'required unless the mount is a bind');
    }
    return {
      destination, type: bind ? null : type, source, propagation, bind,
      flags: bind ? MS.BIND | (rec ? MS.REC : 0) : flags,
      bindFlags: bind ? flags & PER_MOUNT : 0,
      data: data.length ? data.join(',') : null,
    };
  });
}
