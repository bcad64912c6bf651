import { useEffect, useState } from 'react';
import type { MerchantQuery } from '../api/shapes.ts';
import { Badge } from '../components/badge.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { Pager, useCursorStack } from '../components/pager.tsx';
import { useCan } from '../hooks/use-me.ts';
import { useMerchantPage } from '../hooks/use-merchants.ts';
import { useI18n, type MessageKey } from '../i18n/index.tsx';
import { Link, merchantPath, navigate } from '../router.tsx';
import { SELECTION_ITEM } from './rollout-new.tsx';

type Sort = NonNullable<MerchantQuery['sort']>;
type Order = NonNullable<MerchantQuery['order']>;
// '' is "all"; each select offers only the values its parameter takes.
type Choice<Name extends keyof MerchantQuery> = NonNullable<MerchantQuery[Name]> | '';

function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function SortHeader({ sort, current, order, onSort, label, disabled }: { sort: Sort; current: Sort; order: Order; onSort: (sort: Sort) => void; label: MessageKey; disabled?: boolean }) {
  const { t } = useI18n();
  const active = sort === current;
  return (
    <th scope="col" aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="link" disabled={disabled} onClick={() => onSort(sort)}>
        {t(label)} {active ? (order === 'asc' ? '▲' : '▼') : ''}
      </button>
    </th>
  );
}

export function MerchantsPage() {
  const { t, time, number } = useI18n();
  const canOperate = useCan('operator');
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<Choice<'status'>>('');
  const [auditState, setAuditState] = useState<Choice<'auditState'>>('');
  const [version, setVersion] = useState('');
  const [onboarding, setOnboarding] = useState<Choice<'onboarding'>>('');
  const stuck = onboarding === 'stuck';
  const [sort, setSort] = useState<Sort>('appId');
  const [order, setOrder] = useState<Order>('asc');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const pager = useCursorStack();
  const q = useDebounced(search.trim(), 250);
  const auditVersion = useDebounced(version.trim(), 250);
  const { reset } = pager;
  useEffect(() => reset(), [q, status, auditState, auditVersion, sort, order, onboarding, reset]);
  const cursor = pager.cursor ? { cursor: pager.cursor } : {};
  // The stuck list takes no other filter nor a sort (the server says 400): those controls are off meanwhile.
  const page = useMerchantPage(stuck ? { onboarding: 'stuck', ...cursor } : { q, ...(status ? { status } : {}), ...(auditState ? { auditState } : {}), auditVersion, sort, order, ...cursor });
  const items = page.data?.items ?? [];

  const onSort = (next: Sort) => {
    if (next === sort) setOrder(order === 'asc' ? 'desc' : 'asc');
    else {
      setSort(next);
      setOrder('asc');
    }
  };
  const toggle = (appId: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(appId)) next.delete(appId);
      else next.add(appId);
      return next;
    });
  const allOnPage = items.length > 0 && items.every((m) => selected.has(m.appId));
  const togglePage = () =>
    setSelected((current) => {
      const next = new Set(current);
      for (const m of items) {
        if (allOnPage) next.delete(m.appId);
        else next.add(m.appId);
      }
      return next;
    });
  const startRollout = () => {
    sessionStorage.setItem(SELECTION_ITEM, JSON.stringify([...selected]));
    navigate('/rollouts/new?targets=selection');
  };

  return (
    <section>
      <h1>{t('merchants.title')}</h1>
      <div className="filters" role="search">
        <div className="field">
          <label htmlFor="merchant-search">{t('merchants.search')}</label>
          <input id="merchant-search" type="search" disabled={stuck} value={search} onChange={(event) => setSearch(event.target.value)} placeholder={t('merchants.searchHint')} />
        </div>
        <div className="field">
          <label htmlFor="merchant-status">{t('merchants.status')}</label>
          <select id="merchant-status" disabled={stuck} value={status} onChange={(event) => setStatus(event.target.value as Choice<'status'>)}>
            <option value="">{t('common.all')}</option>
            <option value="authorized">{t('state.authorized')}</option>
            <option value="revoked">{t('state.revoked')}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="merchant-audit">{t('merchants.auditState')}</label>
          <select id="merchant-audit" disabled={stuck} value={auditState} onChange={(event) => setAuditState(event.target.value as Choice<'auditState'>)}>
            <option value="">{t('common.all')}</option>
            {(['auditing', 'passed', 'rejected', 'withdrawn'] as const satisfies readonly Choice<'auditState'>[]).map((state) => (
              <option key={state} value={state}>
                {t(`state.${state}`)}
              </option>
            ))}
            <option value="none">{t('merchants.neverAudited')}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="merchant-version">{t('merchants.version')}</label>
          <input id="merchant-version" disabled={stuck} value={version} onChange={(event) => setVersion(event.target.value)} placeholder="1.0.0" size={10} />
        </div>
        <div className="field">
          <label htmlFor="merchant-onboarding">{t('merchants.onboarding')}</label>
          <select id="merchant-onboarding" value={onboarding} onChange={(event) => setOnboarding(event.target.value as Choice<'onboarding'>)} data-testid="onboarding-filter">
            <option value="">{t('common.all')}</option>
            <option value="stuck">{t('merchants.stuck')}</option>
          </select>
        </div>
      </div>

      <div className="toolbar">
        <span className="muted" aria-live="polite">
          {page.data?.total !== undefined ? t('merchants.total', { count: number(page.data.total) }) : ''}
          {selected.size > 0 ? ` · ${t('merchants.selected', { count: selected.size })}` : ''}
        </span>
        {canOperate && (
          <button type="button" className="primary" disabled={selected.size === 0} onClick={startRollout} data-testid="rollout-selection">
            {t('merchants.rolloutSelection')}
          </button>
        )}
        {selected.size > 0 && (
          <button type="button" onClick={() => setSelected(new Set())}>
            {t('merchants.clearSelection')}
          </button>
        )}
      </div>

      <ErrorMessage error={page.error} />
      <table aria-busy={page.isFetching} data-testid="merchants-table">
        <thead>
          <tr>
            <th scope="col" className="check">
              <input type="checkbox" aria-label={t('merchants.selectPage')} checked={allOnPage} onChange={togglePage} />
            </th>
            <SortHeader sort="appId" current={sort} order={order} onSort={onSort} disabled={stuck} label="merchants.appId" />
            <SortHeader sort="name" current={sort} order={order} onSort={onSort} disabled={stuck} label="merchants.name" />
            <th scope="col">{t('merchants.status')}</th>
            <th scope="col">{t('merchants.lastAudit')}</th>
            <SortHeader sort="authorizedAt" current={sort} order={order} onSort={onSort} disabled={stuck} label="merchants.authorizedAt" />
            <SortHeader sort="updatedAt" current={sort} order={order} onSort={onSort} disabled={stuck} label="merchants.updatedAt" />
          </tr>
        </thead>
        <tbody>
          {items.map((merchant) => (
            <tr key={merchant.appId}>
              <td className="check">
                <input type="checkbox" aria-label={t('merchants.select', { appId: merchant.appId })} checked={selected.has(merchant.appId)} onChange={() => toggle(merchant.appId)} />
              </td>
              <td>
                <Link to={merchantPath(merchant.appId)}>{merchant.appId}</Link>
              </td>
              <td>{merchant.name ?? <span className="muted">—</span>}</td>
              <td>
                <Badge state={merchant.status} />
              </td>
              <td>
                {merchant.lastAudit ? (
                  <>
                    {merchant.lastAudit.userVersion} <Badge state={merchant.lastAudit.state} />
                  </>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td>{time(merchant.authorizedAt)}</td>
              <td>{time(merchant.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {stuck && <p className="muted small">{t('merchants.stuckHint')}</p>}
      {page.isSuccess && items.length === 0 && <p className="muted">{t('merchants.empty')}</p>}
      <Pager pager={pager} nextCursor={page.data?.nextCursor} />
    </section>
  );
}
