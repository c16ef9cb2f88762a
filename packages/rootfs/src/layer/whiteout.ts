// Whiteouts: how an image layer says "this was deleted" (OCI image spec,
// layer.md "Whiteouts", inherited from AUFS). `dir/.wh.NAME` deletes
// dir/NAME from the layers below; `dir/.wh..wh..opq` makes dir opaque: the
// layers below contribute nothing to it. Other `.wh..wh.*` names are AUFS
// bookkeeping (hard-link and temp dirs) with no meaning outside AUFS.
//
// overlayfs (Documentation/filesystems/overlayfs.rst, "whiteouts and
// opaque directories") spells the same things differently: a whiteout is a
// character device 0:0 named NAME, an opaque directory carries the xattr
// trusted.overlay.opaque="y".
import { UnsafeArchiveError, display } from './errors.ts';

export const WH_PREFIX = '.wh.';
export const WH_META_PREFIX = '.wh..wh.';
export const WH_OPAQUE = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export type Whiteout =
  | { kind: 'whiteout'; target: string }
  | { kind: 'opaque' }
  | { kind: 'aufs-meta' };

/**
 * What the last component `base` of entry `path` means, or null when it is
 * an ordinary name. Throws UnsafeArchiveError for a whiteout that names
 * ".", ".." or nothing, and for a whiteout name used as a directory on the
 * way (`a/.wh.b/c`) — except AUFS's own `.wh..wh.*` directories, which are
 * reported as 'aufs-meta' so that their contents are skipped. `name` is
 * the entry's name as archived, for the error.
 */
export function whiteoutOf(path: string, base: string, name: string = path): Whiteout | null {
  if (!path.includes(WH_PREFIX)) return null;
  const parts = path.split('/');
  for (let i = 0; i < parts.length - 1; i++) {
    if (!parts[i]!.startsWith(WH_PREFIX)) continue;
    if (parts[i]!.startsWith(WH_META_PREFIX)) return { kind: 'aufs-meta' };
    throw new UnsafeArchiveError(display(name), `a whiteout name ("${display(parts[i]!)}") is used as a directory`);
  }
  if (!base.startsWith(WH_PREFIX)) return null;
  if (base === WH_OPAQUE) return { kind: 'opaque' };
  if (base.startsWith(WH_META_PREFIX)) return { kind: 'aufs-meta' };
  const target = base.slice(WH_PREFIX.length);
  if (target === '') throw new UnsafeArchiveError(display(name), 'a whiteout without a name');
  if (target === '.' || target === '..') {
    throw new UnsafeArchiveError(display(name), `a whiteout that targets "${target}" (outside its own directory)`);
  }
  return { kind: 'whiteout', target };
}
