/**
 * `bpfsign tokens create --scopes sign,verify [--name N] | list | revoke ID`: API tokens in the
 * service's store (BPFSIGN_DATABASE_URL / BPFSIGN_DATA_DIR). Only a token's SHA-256 is stored; the
 * secret is printed once, at creation.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { loadConfig } from '../api/config.js';
import { openStore } from '../store/index.js';
import { CliError } from './errors.js';

const SCOPES = ['sign', 'verify', 'audit', 'admin'];

export async function runTokens(
  action: string | undefined,
  args: { scopes?: string; name?: string; id?: string; json: boolean },
  out: (s: string) => void,
): Promise<number> {
  const config = loadConfig(process.env);
  if (config.databaseUrl.startsWith('sqlite:')) mkdirSync(config.dataDir, { recursive: true });
  const store = await openStore(config.databaseUrl);
  try {
    switch (action) {
      case 'create': {
        // Written as BPFSIGN_API_TOKENS writes them (sign+verify) or comma-separated.
        const scopes = (args.scopes ?? '')
          .split(/[,+]/)
          .map((s) => s.trim())
          .filter(Boolean);
        if (scopes.length === 0 || scopes.some((s) => !SCOPES.includes(s)))
          throw new CliError(`--scopes: scopes among ${SCOPES.join(', ')}, joined by + or ,`);
        const secret = `bps_${randomBytes(24).toString('base64url')}`;
        const id = randomUUID();
        await store.putToken({
          id,
          name: args.name ?? '',
          tokenSha256: createHash('sha256').update(secret).digest('hex'),
          scopes,
          createdAt: new Date().toISOString(),
          revokedAt: null,
        });
        out(
          args.json
            ? JSON.stringify({ id, token: secret, scopes })
            : `token ${id} (${scopes.join(', ')}): ${secret}\nstore it now: only its hash is kept`,
        );
        return 0;
      }
      case 'list': {
        const list = await store.listTokens();
        out(
          args.json
            ? JSON.stringify(
                list.map(({ tokenSha256: _h, ...t }) => t),
                null,
                2,
              )
            : list
                .map(
                  (t) =>
                    `${t.id}  ${t.name || '-'}  ${t.scopes.join(',')}  created ${t.createdAt}${t.revokedAt ? `  REVOKED ${t.revokedAt}` : ''}`,
                )
                .join('\n') || 'no tokens',
        );
        return 0;
      }
      case 'revoke': {
        if (!args.id) throw new CliError('tokens revoke takes the token id');
        if (!(await store.revokeToken(args.id, new Date().toISOString()))) throw new CliError(`no active token ${args.id}`);
        out(`revoked ${args.id}`);
        return 0;
      }
      default:
        throw new CliError('tokens takes create, list or revoke');
    }
  } finally {
    await store.close();
  }
}
