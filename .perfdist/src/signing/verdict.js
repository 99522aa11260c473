/**
 * Verdicts: the structured answer of a verification, never just "OK". Each check reports
 * pass / fail / skipped with a message and details; the verdict is the code of the first
 * failed check whose policy level is `enforce`, in the order checks run (CHECKS), or OK.
 */
import { CHECKS, levelOf } from './policy.js';
/** Collects check results in run order, honouring the policy's levels. */
export class CheckLog {
    policy;
    results = [];
    constructor(policy) {
        this.policy = policy;
    }
    /** Whether a check should run at all. */
    runs(check) {
        const level = levelOf(this.policy, check);
        if (level === 'skip')
            this.results.push({ check, level, status: 'skipped', message: 'skipped by policy' });
        return level !== 'skip';
    }
    pass(check, message, details) {
        this.results.push({ check, level: levelOf(this.policy, check), status: 'pass', message, ...(details ? { details } : {}) });
    }
    fail(check, code, message, details) {
        this.results.push({ check, level: levelOf(this.policy, check), status: 'fail', code, message, ...(details ? { details } : {}) });
    }
    /** A check that could not run because an earlier one failed. */
    blocked(check, because) {
        this.results.push({ check, level: levelOf(this.policy, check), status: 'skipped', message: `not run: ${because}` });
    }
    failedEnforced(check) {
        return this.results.some((r) => r.status === 'fail' && r.level === 'enforce' && (check === undefined || r.check === check));
    }
}
export function decideVerdict(results) {
    const order = new Map(CHECKS.map((c, i) => [c, i]));
    const failed = results
        .map((r, i) => ({ r, i }))
        .filter(({ r }) => r.status === 'fail' && r.level === 'enforce')
        .sort((a, b) => order.get(a.r.check) - order.get(b.r.check) || a.i - b.i);
    return failed.length ? failed[0].r.code ?? 'POLICY' : 'OK';
}
//# sourceMappingURL=verdict.js.map