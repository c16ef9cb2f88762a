// The media types nsk reads (image-spec media-types.md, and Docker's
// distribution/manifest-v2-2.md which the OCI ones were made from).

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
/** A `docker save` layer.tar, and our own flat tarballs: a plain tar. */
export const DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';

export const INDEX_TYPES: readonly string[] = [OCI_INDEX, DOCKER_LIST];
export const MANIFEST_TYPES: readonly string[] = [OCI_MANIFEST, DOCKER_MANIFEST];

/**
 * Layer media types whose bytes are a tar, plain, gzip or zstd (the bytes
 * are sniffed anyway; the type only has to say "a filesystem changeset").
 * Foreign (Windows) and encrypted layers are not.
 */
const LAYER = /^application\/vnd\.(oci\.image\.layer(\.nondistributable)?\.v1\.tar|docker\.image\.rootfs\.diff\.tar)(\.gzip|\+gzip|\+zstd)?$/;

export function isLayerType(mediaType: string): boolean {
  return LAYER.test(mediaType);
}
