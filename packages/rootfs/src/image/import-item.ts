import type { AddImageInput } from './types.ts';

/** One image found in an archive, ready for ImageStore.addImage. */
export interface ImportItem extends AddImageInput {
  /** A bare tag the archive gives without a repository (an OCI ref.name like "1.0"). */
  tags: string[];
}
