// The media types a pull meets. OCI image-spec (media-types.md) and the
// Docker Image Manifest V2 Schema 2 spec name them; a registry answers a
// manifest GET with the first of the Accept types it has (distribution-spec,
// "Pulling manifests").

import { DOCKER_CONFIG, DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST } from '../image/media-types.ts';

export { DOCKER_CONFIG, DOCKER_LIST, DOCKER_MANIFEST, INDEX_TYPES, MANIFEST_TYPES, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST } from '../image/media-types.ts';
/** Schema 1 (signed, no config blob): deprecated since 2017, not pulled. */
export const DOCKER_SCHEMA1 = ['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws'];

/** Everything a pull can use, in order of preference: lists first so a multi-platform image can be resolved to the host's platform. */
export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST] as const;

export const CONFIG_TYPES: readonly string[] = [OCI_CONFIG, DOCKER_CONFIG];

/** Layer blobs a container image may carry: tar, gzip'd tar, zstd'd tar (OCI), and Docker's gzip'd tar (also "foreign" layers). */
export const LAYER_TYPES: readonly string[] = [
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
];
