export { pull, type PullOptions } from './pull.ts';
export { parseReference, type Reference } from './reference.ts';
export { progressBar } from './progress-bar.ts';
export {
  RegistryError, ManifestUnknownError, UnauthorizedError, NoMatchingPlatformError, DigestMismatchError,
  UnsupportedManifestError, InvalidReferenceError, type Platform, type RegistryErrorBody,
} from './errors.ts';
