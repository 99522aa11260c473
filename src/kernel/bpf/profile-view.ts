/**
 * The bpf() model reads a KernelProfile (src/kernel/profile): built from files or the host
 * (profileFromFiles / profileFromParts), or put together from a few fields with `profileView`.
 */
import type { KernelProfile } from '../profile/index.js';

export {
  profileView,
  GPL_ONLY_HELPERS,
  type KernelProfile,
  type ProfileInput,
  type SignatureSupport,
  type ModuleBtf,
  type RefusedAttach,
} from '../profile/index.js';

/** @deprecated The same type as KernelProfile (the name it had before the two were merged). */
export type ProfileView = KernelProfile;
/** @deprecated The same type as ProfileInput. */
export type { ProfileInput as ProfileViewInput } from '../profile/index.js';
