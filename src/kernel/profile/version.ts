/** Kernel release strings (`uname -r`) and the LINUX_KERNEL_VERSION encoding. */
import { kernelVersionCode } from '../../loader/uapi/index.js';
import { KernelError } from '../errors.js';

export interface KernelVersion {
  major: number;
  minor: number;
  patch: number;
  /** KERNEL_VERSION(major, minor, min(patch, 255)) = (major << 16) + (minor << 8) + patch. */
  code: number;
}

export { kernelVersionCode };

/**
 * Parses the leading "a.b[.c]" of a release string like "6.18.44-fc-v782" or "6.18.0-rc3+".
 * Throws KERNEL_INVALID when it does not start with a version.
 */
export function parseKernelRelease(release: string): KernelVersion {
  const m = /^(\d{1,3})\.(\d{1,3})(?:\.(\d{1,6}))?/.exec(release);
  if (!m)
    throw new KernelError('KERNEL_INVALID', `profile: kernel release '${release}' does not start with <major>.<minor>`, {
      got: release,
      want: 'a.b[.c]...',
    });
  const major = Number(m[1]),
    minor = Number(m[2]),
    patch = Number(m[3] ?? 0);
  if (minor > 255)
    throw new KernelError('KERNEL_INVALID', `profile: minor version ${minor} does not fit KERNEL_VERSION`, { got: minor, want: '<= 255' });
  return { major, minor, patch, code: kernelVersionCode(major, minor, patch) };
}
