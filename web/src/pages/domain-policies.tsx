/**
 * Domain policies (issue #5): the wanted server and webview domains for a set of merchants; a dry run
 * shows each merchant's drift, apply starts a rollout. Until the API exists (404) the page says so.
 */
import { useState } from 'react';
import { SERVER_DOMAIN_LISTS, type DomainChange, type DomainDriftReport, type DomainPolicyBody, type ServerDomainList } from '../api/shapes.ts';
import { Badge } from '../components/badge.tsx';
import { DomainListEditor, domainProblem, parseDomains } from '../components/domain-list-editor.tsx';
import { ErrorMessage, isNotFound } from '../components/error-message.tsx';
import { useApplyDomainPolicy, useDomainDrift } from '../hooks/use-domain-policies.ts';
import { useCan } from '../hooks/use-me.ts';
import { useI18n } from '../i18n/index.tsx';
import { Link, merchantPath, rolloutPath } from '../router.tsx';

const SCHEME: Record<ServerDomainList, 'https' | 'wss' | 'udp'> = { request: 'https', socket: 'wss', uploadFile: 'https', downloadFile: 'https', udp: 'udp' };

function Change({ label, change }: { label: string; change: DomainChange | null | undefined }) {
  const { t } = useI18n();
  if (!change || (change.add.length === 0 && change.remove.length === 0)) return null;
  return (
    <li>
      <strong>{label}</strong>
      {change.add.length > 0 && <span className="ok-text"> {t('policies.add')}: {change.add.join(', ')}</span>}
      {change.remove.length > 0 && <span className="warn-text"> {t('policies.remove')}: {change.remove.join(', ')}</span>}
    </li>
  );
}

function DriftView({ report, items }: { report: DomainDriftReport; items: DomainDriftReport['items'] }) {
  const { t } = useI18n();
  return (
    <div className="panel" data-testid="drift">
      <p role="status">
        {t('policies.summary', { targets: report.summary.targets, checked: report.summary.checked, inSync: report.summary.inSync, drifting: report.summary.drifting, unreadable: report.summary.unreadable })}
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('audit.merchant')}</th>
            <th scope="col">{t('rollout.targetState')}</th>
            <th scope="col">{t('policies.diff')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.appId}>
              <td>
                <Link to={merchantPath(item.appId)}>{item.appId}</Link>
              </td>
              <td>{item.error ? <Badge state="error" /> : <span className={`badge ${item.inSync ? 'ok' : 'warn'}`}>{item.inSync ? t('policies.inSync') : t('policies.drifting')}</span>}</td>
              <td>
                {item.error ? (
                  <span>
                    <code>{item.error.code}</code> {item.error.message}
                  </span>
                ) : item.inSync ? (
                  t('policies.inSync')
                ) : (
                  <ul className="plain">
                    {SERVER_DOMAIN_LISTS.map((list) => (
                      <Change key={list} label={t(`domains.${list}`)} change={item.server?.[list]} />
                    ))}
                    <Change label={t('domains.webview')} change={item.webview} />
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DomainPoliciesPage() {
  const { t } = useI18n();
  const canOperate = useCan('operator');
  const drift = useDomainDrift();
  const apply = useApplyDomainPolicy();
  const [items, setItems] = useState<DomainDriftReport['items']>([]);
  const [mode, setMode] = useState<'all' | 'filter'>('all');
  const [q, setQ] = useState('');
  const [server, setServer] = useState<Record<ServerDomainList, string>>({ request: '', socket: '', uploadFile: '', downloadFile: '', udp: '' });
  const [webview, setWebview] = useState('');
  const wellFormed =
    SERVER_DOMAIN_LISTS.every((list) => parseDomains(server[list]).every((d) => domainProblem(d, SCHEME[list]) === null)) &&
    parseDomains(webview).every((d) => domainProblem(d) === null);

  // A list given is the whole set wanted ([] would empty it): an empty box means "leave this list alone".
  const serverLists: Partial<Record<ServerDomainList, string[]>> = {};
  for (const list of SERVER_DOMAIN_LISTS) {
    const domains = parseDomains(server[list]);
    if (domains.length > 0) serverLists[list] = domains;
  }
  const webviewList = parseDomains(webview);
  const empty = Object.keys(serverLists).length === 0 && webviewList.length === 0;
  const valid = wellFormed && !empty;
  const body = (dryRun: boolean, cursor?: string): DomainPolicyBody => ({
    ...(cursor ? { cursor } : {}),
    targets: mode === 'all' ? { all: true } : { status: 'authorized', ...(q.trim() ? { q: q.trim() } : {}) },
    ...(Object.keys(serverLists).length > 0 ? { serverDomains: serverLists } : {}),
    ...(webviewList.length > 0 ? { webviewDomains: webviewList } : {}),
    dryRun,
  });

  return (
    <section>
      <h1>{t('policies.title')}</h1>
      <p className="muted">{t('policies.intro')}</p>
      <p className="muted small">{t('policies.emptyHint')}</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (!valid) return;
          apply.reset();
          drift.mutate(body(true), { onSuccess: (report) => setItems(report.items) });
        }}
      >
        <fieldset>
          <legend>{t('policies.targets')}</legend>
          <label className="inline">
            <input type="radio" name="policy-targets" checked={mode === 'all'} onChange={() => setMode('all')} /> {t('rolloutNew.all')}
          </label>
          <label className="inline">
            <input type="radio" name="policy-targets" checked={mode === 'filter'} onChange={() => setMode('filter')} /> {t('rolloutNew.filter')}
          </label>
          {mode === 'filter' && (
            <div className="field">
              <label htmlFor="policy-q">{t('merchants.search')}</label>
              <input id="policy-q" value={q} onChange={(event) => setQ(event.target.value)} />
            </div>
          )}
        </fieldset>
        <fieldset>
          <legend>{t('domains.server')}</legend>
          <div className="grid-2">
            {SERVER_DOMAIN_LISTS.map((list) => (
              <DomainListEditor key={list} id={`policy-${list}`} label={t(`domains.${list}`)} scheme={SCHEME[list]} value={server[list]} onChange={(value) => setServer({ ...server, [list]: value })} />
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>{t('domains.webview')}</legend>
          <DomainListEditor id="policy-webview" label={t('domains.webviewList')} value={webview} onChange={setWebview} />
        </fieldset>
        <div className="actions">
          {canOperate && (
            <button type="submit" className="primary" disabled={!valid || drift.isPending}>
              {t('policies.dryRun')}
            </button>
          )}
          {canOperate && (
            <button type="button" disabled={!valid || apply.isPending || !drift.data || apply.isSuccess} onClick={() => apply.mutate(body(false))}>
              {t('policies.apply')}
            </button>
          )}
        </div>
      </form>
      {isNotFound(drift.error) ? <p role="status" className="muted">{t('policies.unavailable')}</p> : <ErrorMessage error={drift.error} />}
      <ErrorMessage error={apply.error} />
      {apply.data && (
        <p role="status">
          {t('policies.applied')} <Link to={rolloutPath(apply.data.rollout.id)}>{apply.data.rollout.id}</Link>
        </p>
      )}
      {drift.data && <DriftView report={drift.data} items={items} />}
      {drift.data?.nextCursor && (
        <button type="button" disabled={drift.isPending} onClick={() => drift.mutate(body(true, drift.data?.nextCursor ?? undefined), { onSuccess: (report) => setItems((seen) => [...seen, ...report.items]) })}>
          {t('policies.more')}
        </button>
      )}
    </section>
  );
}
