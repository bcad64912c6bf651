import { AuditLogTable } from '../components/audit-log-table.tsx';
import { Badge } from '../components/badge.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { CapabilitiesPanel } from '../components/merchant/capabilities-panel.tsx';
import { DomainsPanel } from '../components/merchant/domains-panel.tsx';
import { ExtPanel } from '../components/merchant/ext-panel.tsx';
import { OnboardingPanel } from '../components/merchant/onboarding-panel.tsx';
import { RuntimePanel } from '../components/merchant/runtime-panel.tsx';
import { VersionsPanel } from '../components/merchant/versions-panel.tsx';
import { Pager, useCursorStack } from '../components/pager.tsx';
import { useAuditLog } from '../hooks/use-audit-log.ts';
import { useMerchant } from '../hooks/use-merchants.ts';
import { useI18n } from '../i18n/index.tsx';
import { Link } from '../router.tsx';

function History({ appId }: { appId: string }) {
  const { t } = useI18n();
  const pager = useCursorStack();
  const log = useAuditLog({ appId, limit: 20, ...(pager.cursor ? { cursor: pager.cursor } : {}) });
  return (
    <section aria-labelledby="history-title" className="panel">
      <h2 id="history-title">{t('merchant.history')}</h2>
      <ErrorMessage error={log.error} />
      {log.data && <AuditLogTable entries={log.data.items} showMerchant={false} />}
      <Pager pager={pager} nextCursor={log.data?.nextCursor} />
    </section>
  );
}

export function MerchantPage({ appId }: { appId: string }) {
  const { t, time } = useI18n();
  const merchant = useMerchant(appId);
  const m = merchant.data;
  return (
    <section>
      <p>
        <Link to="/merchants">← {t('nav.merchants')}</Link>
      </p>
      <h1>
        {m?.name ?? appId} {m && <Badge state={m.status} />}
      </h1>
      <ErrorMessage error={merchant.error} />
      {m && (
        <>
          <p className="muted">
            {t('merchant.meta', { appId: m.appId, authorizedAt: time(m.authorizedAt), permissions: m.permissions.join(', ') })}
          </p>
          <OnboardingPanel appId={appId} onboarding={m.onboarding} />
          <VersionsPanel appId={appId} />
          <RuntimePanel appId={appId} />
          <DomainsPanel appId={appId} />
          <CapabilitiesPanel appId={appId} capabilities={m.capabilities} />
          <ExtPanel appId={appId} />
          <History appId={appId} />
        </>
      )}
    </section>
  );
}
