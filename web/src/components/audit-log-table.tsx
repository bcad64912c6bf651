/** Audit log entries as a table (the audit log page and a merchant's history). */
import type { AuditLogEntry } from '../api/shapes.ts';
import { useI18n } from '../i18n/index.tsx';
import { Link, merchantPath } from '../router.tsx';
import { Badge } from './badge.tsx';

function summaryText(summary: Record<string, unknown>): string {
  return Object.entries(summary)
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}

export function AuditLogTable({ entries, showMerchant = true }: { entries: AuditLogEntry[]; showMerchant?: boolean }) {
  const { t, time } = useI18n();
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t('audit.at')}</th>
          <th scope="col">{t('audit.action')}</th>
          {showMerchant && <th scope="col">{t('audit.merchant')}</th>}
          <th scope="col">{t('audit.actor')}</th>
          <th scope="col">{t('audit.result')}</th>
          <th scope="col">{t('audit.summary')}</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((entry) => (
          <tr key={entry.id}>
            <td className="nowrap">{time(entry.at)}</td>
            <td>{entry.action}</td>
            {showMerchant && <td>{entry.appId ? <Link to={merchantPath(entry.appId)}>{entry.appId}</Link> : '—'}</td>}
            <td>
              {entry.actorKeyId ?? t('audit.system')} {entry.actorRole && <span className="muted">({entry.actorRole})</span>}
            </td>
            <td>
              <Badge state={entry.result} /> {entry.errorCode && <code>{entry.errorCode}</code>}
            </td>
            <td className="summary">{summaryText(entry.summary)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
