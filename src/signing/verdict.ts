/**
 * Verdicts: the structured answer of a verification, never just "OK". Each check reports
 * pass / fail / skipped with a message and details; the verdict is the code of the first
 * failed check whose policy level is `enforce`, in the order checks run (CHECKS), or OK.
 */
import { CHECKS, levelOf, type CheckLevel, type CheckName, type TrustPolicy } from './policy.js';

export type VerdictCode = 'OK' | 'UNSIGNED' | 'BADSIG' | 'UNKNOWNKEY' | 'UNTRUSTED' | 'PARTIALSIG' | 'MISMATCH' | 'POLICY' | 'FAULT';

export interface CheckResult {
  check: CheckName;
  level: CheckLevel;
  status: 'pass' | 'fail' | 'skipped';
  /** The verdict a failure of this check stands for. */
  code?: Exclude<VerdictCode, 'OK'>;
  message: string;
  details?: Record<string, unknown>;
}

export interface Verdict<R = unknown> {
  verdict: VerdictCode;
  ok: boolean;
  /** Policy name. */
  policy: string;
  checks: CheckResult[];
  signer: { subject: string; sans: string[]; subjectKeyIdentifier: string; issuer: string; serial: string } | null;
  scheme: string | null;
  /** What the kernel model saw when replaying the loader. */
  replay: R | null;
}

/** Collects check results in run order, honouring the policy's levels. */
export class CheckLog {
  readonly results: CheckResult[] = [];
  constructor(private readonly policy: TrustPolicy) {}

  /** Whether a check should run at all. */
  runs(check: CheckName): boolean {
    const level = levelOf(this.policy, check);
    if (level === 'skip') this.results.push({ check, level, status: 'skipped', message: 'skipped by policy' });
    return level !== 'skip';
  }

  pass(check: CheckName, message: string, details?: Record<string, unknown>): void {
    this.results.push({ check, level: levelOf(this.policy, check), status: 'pass', message, ...(details ? { details } : {}) });
  }

  fail(check: CheckName, code: Exclude<VerdictCode, 'OK'>, message: string, details?: Record<string, unknown>): void {
    this.results.push({ check, level: levelOf(this.policy, check), status: 'fail', code, message, ...(details ? { details } : {}) });
  }

  /** A check that does not apply to this input or policy (never a pass): `reason` says why. */
  skip(check: CheckName, reason: string): void {
    this.results.push({ check, level: levelOf(this.policy, check), status: 'skipped', message: reason });
  }

  /** A check that could not run because an earlier one failed. */
  blocked(check: CheckName, because: string): void {
    this.results.push({ check, level: levelOf(this.policy, check), status: 'skipped', message: `not run: ${because}` });
  }

  failedEnforced(check?: CheckName): boolean {
    return this.results.some((r) => r.status === 'fail' && r.level === 'enforce' && (check === undefined || r.check === check));
  }
}

export function decideVerdict(results: CheckResult[]): VerdictCode {
  const order = new Map(CHECKS.map((c, i) => [c, i]));
  const failed = results
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => r.status === 'fail' && r.level === 'enforce')
    .sort((a, b) => order.get(a.r.check)! - order.get(b.r.check)! || a.i - b.i);
  return failed.length ? (failed[0].r.code ?? 'POLICY') : 'OK';
}

/**
 * A verdict with one more check's result, run outside verify() (the service's `files` check): put
 * in CHECKS order at the policy's level (not at all when the policy skips it), the verdict decided
 * again.
 */
export function withCheck<R>(v: Verdict<R>, policy: TrustPolicy, result: Omit<CheckResult, 'level'>): Verdict<R> {
  const level = levelOf(policy, result.check);
  const r: CheckResult =
    level === 'skip' ? { check: result.check, level, status: 'skipped', message: 'skipped by policy' } : { ...result, level };
  const order = new Map(CHECKS.map((c, i) => [c, i]));
  const checks = [...v.checks.filter((c) => c.check !== r.check), r].sort((a, b) => order.get(a.check)! - order.get(b.check)!);
  const verdict = decideVerdict(checks);
  return { ...v, checks, verdict, ok: verdict === 'OK' };
}
