import { useEffect, useState } from 'react';
import { AuditLogTable } from '../components/audit-log-table.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { Pager, useCursorStack } from '../components/pager.tsx';
import { useAuditLog } from '../hooks/use-audit-log.ts';
import { useI18n } from '../i18n/index.tsx';

const ACTIONS = ['code.upload', 'audit.submit', 'audit.withdraw', 'release', 'rollback', 'domains.server', 'domains.webview', 'capability.apply', 'merchant.authorized', 'merchant.revoked', 'rollout.create', 'rollout.pause', 'rollout.resume', 'rollout.abort', 'rollout.rollback', 'rollout.release', 'key.create', 'key.revoke'];

export function AuditLogPage() {
  const { t } = useI18n();
  const [appId, setAppId] = useState('');
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const pager = useCursorStack();
  const { reset } = pager;
  useEffect(() => reset(), [appId, actor, action, reset]);
  const log = useAuditLog({ appId: appId.trim(), actor: actor.trim(), action, ...(pager.cursor ? { cursor: pager.cursor } : {}) });
  return (
    <section>
      <h1>{t('audit.title')}</h1>
      <div className="filters" role="search">
        <div className="field">
          <label htmlFor="audit-app">{t('audit.merchant')}</label>
          <input id="audit-app" value={appId} onChange={(event) => setAppId(event.target.value)} maxLength={64} />
        </div>
        <div className="field">
          <label htmlFor="audit-actor">{t('audit.actorKey')}</label>
          <input id="audit-actor" value={actor} onChange={(event) => setActor(event.target.value)} maxLength={64} />
        </div>
        <div className="field">
          <label htmlFor="audit-action">{t('audit.action')}</label>
          <select id="audit-action" value={action} onChange={(event) => setAction(event.target.value)}>
            <option value="">{t('common.all')}</option>
            {ACTIONS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorMessage error={log.error} />
      {log.data && <AuditLogTable entries={log.data.items} />}
      {log.isSuccess && log.data.items.length === 0 && <p className="muted">{t('common.none')}</p>}
      <Pager pager={pager} nextCursor={log.data?.nextCursor} />
    </section>
  );
}
