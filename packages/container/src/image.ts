// A container from an image of @nsk/rootfs's ImageStore: its config gives the
// defaults (Env, Entrypoint, Cmd, WorkingDir, User) and its layers the root,
// as an overlay whose upper directory is the container's own.
//
// Typed structurally (the parts of the S3 contract used here), so any
// ImageStore — or a test's stand-in — fits.
import { NskError, ValidationError } from '@nsk/syscall';
import { DEFAULT_COMMAND } from './defaults.ts';

/** The parts of an OCI/Docker image config a container takes as defaults. */
export interface ImageConfigLike {
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  user: string;
}

/** What ImageStore.prepareRootfs gives: the overlay's directories and a cleanup. */
export interface PreparedImageRootfs {
  /** Layer directories, topmost first. */
  lower: string[];
  upper: string;
  work: string;
  /** The (empty) directory the overlay is mounted on. */
  target: string;
  config: ImageConfigLike;
  cleanup(): void;
}

/** The ImageStore methods a container uses. */
export interface ImageStoreLike {
  get(ref: string): { id: string; config: ImageConfigLike };
  prepareRootfs(ref: string, containerId: string): PreparedImageRootfs;
}

/** The image's config, or a ValidationError naming `image` when the store has no such image. */
export function imageConfig(store: ImageStoreLike, ref: string): { id: string; config: ImageConfigLike } {
  try {
    const image = store.get(ref);
    return { id: image.id, config: image.config };
  } catch (err) {
    if (err instanceof NskError && /NOT_FOUND/i.test(err.code)) throw new ValidationError('image', `no image ${JSON.stringify(ref)} in the store (${err.message})`);
    throw err;
  }
}

/** Docker's rule: the command replaces Cmd; Entrypoint stays in front. Without either, /bin/sh. */
export function imageCommand(config: ImageConfigLike | null, command: readonly string[] | undefined): string[] {
  const entrypoint = config?.entrypoint ?? [];
  const cmd = command ?? config?.cmd ?? [];
  const all = [...entrypoint, ...cmd];
  return all.length ? all : [...DEFAULT_COMMAND];
}
