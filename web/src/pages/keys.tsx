/**
 * API keys (admin): the list (name, id, role, created, last used, revoked), a form to create one — its
 * secret shown once — and revoking (not the key signed in with). A `runtime` key is the business back
 * end's: it reaches only /runtime/v1's runtime-key routes, no /api/v1 route.
 */
import { useState, type FormEvent } from 'react';
import { ROLES, type ApiKey, type Role } from '../api/shapes.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { useCreateKey, useKeys, useRevokeKey } from '../hooks/use-keys.ts';
import { useCan, useMe } from '../hooks/use-me.ts';
import { useI18n } from '../i18n/index.tsx';

/** The role's label; a role this console does not know (a newer server's) shown as the server says it. */
function RoleLabel({ role }: { role: string }) {
  const { t, has } = useI18n();
  const key = `role.${role}`;
  return (
    <span className={`badge ${role === 'runtime' ? 'warn' : 'info'}`} data-role={role}>
      {has(key) ? t(key) : role}
    </span>
  );
}

function CreateForm() {
  const { t } = useI18n();
  const create = useCreateKey();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [copied, setCopied] = useState(false);
  const trimmed = name.trim();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCopied(false);
    create.mutate({ name: trimmed || t('keys.defaultName', { role }), role });
  };
  const created = create.data;
  return (
    <form onSubmit={submit} className="panel" aria-labelledby="keys-create-title" data-testid="key-create">
      <h2 id="keys-create-title">{t('keys.create')}</h2>
      <div className="filters">
        <div className="field">
          <label htmlFor="key-name">{t('keys.name')}</label>
          <input id="key-name" value={name} onChange={(event) => setName(event.target.value)} maxLength={100} placeholder={t('keys.defaultName', { role })} />
        </div>
        <div className="field">
          <label htmlFor="key-role">{t('keys.role')}</label>
          <select id="key-role" value={role} onChange={(event) => setRole(ROLES.find((candidate) => candidate === event.target.value) ?? 'viewer')}>
            {ROLES.map((candidate) => (
              <option key={candidate} value={candidate}>
                {t(`role.${candidate}`)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="primary" disabled={create.isPending} data-testid="key-create-submit">
          {t('keys.createAction')}
        </button>
      </div>
      <p className="muted small" data-testid="key-role-hint">
        {t(`keys.hint.${role}`)}
      </p>
      <ErrorMessage error={create.error} />
      {created && (
        <div className="panel" role="status" data-testid="key-created">
          <p>
            <strong>{t('keys.created', { name: created.name, id: created.id })}</strong> <RoleLabel role={created.role} />
          </p>
          <div className="field">
            <label htmlFor="key-secret">{t('keys.secret')}</label>
            <input id="key-secret" readOnly value={created.key} onFocus={(event) => event.target.select()} data-testid="key-secret" size={60} />
          </div>
          <button type="button" onClick={() => void navigator.clipboard.writeText(created.key).then(() => setCopied(true), () => setCopied(false))}>
            {t('keys.copy')}
          </button>{' '}
          <span className="warn-text small">{copied ? t('invite.copied') : t('keys.once')}</span>
        </div>
      )}
    </form>
  );
}

function KeyRows({ keys, ownId }: { keys: ApiKey[]; ownId: string | null | undefined }) {
  const { t, time } = useI18n();
  const revoke = useRevokeKey();
  return (
    <>
      <ErrorMessage error={revoke.error} />
      <table data-testid="keys-table">
        <thead>
          <tr>
            <th scope="col">{t('keys.name')}</th>
            <th scope="col">ID</th>
            <th scope="col">{t('keys.role')}</th>
            <th scope="col">{t('keys.createdAt')}</th>
            <th scope="col">{t('keys.lastUsedAt')}</th>
            <th scope="col">{t('keys.state')}</th>
            <th scope="col">{t('common.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.id} data-testid={`key-${key.id}`}>
              <td>{key.name}</td>
              <td>
                <code className="small">{key.id}</code>
              </td>
              <td>
                <RoleLabel role={key.role} />
              </td>
              <td className="nowrap">{time(key.createdAt)}</td>
              <td className="nowrap">{time(key.lastUsedAt)}</td>
              <td>{key.revokedAt === null ? (key.id === ownId ? t('keys.own') : t('keys.active')) : <span className="muted">{t('keys.revokedAt', { at: time(key.revokedAt) })}</span>}</td>
              <td>
                {key.revokedAt === null && key.id !== ownId && (
                  <ConfirmButton
                    label={t('keys.revoke')}
                    title={t('keys.revokeConfirm', { name: key.name })}
                    body={t('keys.revokeBody')}
                    danger
                    disabled={revoke.isPending}
                    onConfirm={() => revoke.mutate(key.id)}
                    testId={`key-revoke-${key.id}`}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function KeysPage() {
  const { t } = useI18n();
  const isAdmin = useCan('admin');
  const me = useMe().data;
  const keys = useKeys(isAdmin);
  return (
    <section>
      <h1>{t('keys.title')}</h1>
      <p className="muted">{t('keys.intro')}</p>
      {!isAdmin ? (
        me && <p className="muted">{t('keys.needsAdmin')}</p>
      ) : (
        <>
          <CreateForm />
          <ErrorMessage error={keys.error} />
          {keys.data && <KeyRows keys={keys.data} ownId={me?.keyId} />}
        </>
      )}
    </section>
  );
}
