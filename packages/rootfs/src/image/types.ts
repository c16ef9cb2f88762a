// The shapes an image takes in nsk: what a container needs from an OCI or
// Docker image (its config's defaults and its layers), and how layers reach
// the store from anywhere (an archive on disk, a registry).

/** The parts of an OCI/Docker image config a container takes as defaults. */
export interface ImageConfig {
  /** `KEY=value`, in the image's order. */
  env: string[];
  entrypoint: string[];
  cmd: string[];
  /** Absolute, or '' for the container's default (/). */
  workingDir: string;
  /** "uid", "uid:gid", "name" or "name:group"; '' for root. */
  user: string;
  /** "80/tcp", "53/udp". */
  exposedPorts: string[];
  /** GOARCH spelling: amd64, arm64. */
  architecture: string;
  os: string;
}

/** One layer blob of an image, opened only when the store needs its bytes. */
export interface LayerSource {
  /** The blob's digest as the manifest names it ("sha256:…" of the bytes as stored: compressed if compressed). */
  digest: string;
  mediaType: string;
  size?: number;
  open(): Promise<NodeJS.ReadableStream>;
}

export interface Image {
  /** "sha256:…" of the config blob. */
  id: string;
  /** "busybox:latest", "localhost:5000/x:1". */
  names: string[];
  config: ImageConfig;
  /** Diff ids (sha256 of the uncompressed tar), bottom first. */
  layers: string[];
  /** ISO date. */
  created: string;
  /** Bytes unpacked. */
  size: number;
}

export interface StoreOptions {
  /** Default /var/lib/nsk (root) or ${XDG_DATA_HOME:-~/.local/share}/nsk. */
  root?: string;
}

export interface Progress {
  /** 'index' (reading an archive), 'layer' (reading and unpacking one), 'exists' (a layer already stored), 'commit'. */
  phase: string;
  done: number;
  total?: number;
  /** The layer's digest, the archive's path. */
  item?: string;
}

export interface AddImageInput {
  names: string[];
  /** The config blob's bytes, exactly as stored (the image id is their sha256). */
  config: Uint8Array;
  /** Bottom first, one per config `rootfs.diff_ids` entry. */
  layers: LayerSource[];
  /** The digest a manifest gives the config; checked before anything is stored. */
  configDigest?: string;
}

/** What the returned `prepareRootfs` gives a container: an overlay's directories, and its defaults. */
export interface PreparedRootfs {
  /** The image's layer directories, topmost first (overlayfs lowerdir order). */
  lower: string[];
  /** Empty; the container's writes land here. */
  upper: string;
  /** overlayfs's scratch directory: empty, same filesystem as `upper`. */
  work: string;
  /** An empty directory to mount the overlay on. */
  target: string;
  config: ImageConfig;
  /** Removes the container's directory (upper, work, target): call after the overlay is unmounted. */
  cleanup(): void;
}
