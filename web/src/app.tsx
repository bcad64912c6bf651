import { useSyncExternalStore } from 'react';
import { session } from './api/client.ts';
import { Layout } from './components/layout.tsx';
import { useI18n } from './i18n/index.tsx';
import { AuditLogPage } from './pages/audit-log.tsx';
import { ChannelsPage } from './pages/channels.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { DomainPoliciesPage } from './pages/domain-policies.tsx';
import { InvitePage } from './pages/invite.tsx';
import { KeysPage } from './pages/keys.tsx';
import { MerchantPage } from './pages/merchant.tsx';
import { MerchantsPage } from './pages/merchants.tsx';
import { NewRolloutPage } from './pages/rollout-new.tsx';
import { RolloutPage } from './pages/rollout.tsx';
import { RolloutsPage } from './pages/rollouts.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { TemplatesPage } from './pages/templates.tsx';
import { Link, useRoute, type Route } from './router.tsx';

function Page({ route }: { route: Route }) {
  const { t } = useI18n();
  switch (route.page) {
    case 'dashboard':
      return <DashboardPage />;
    case 'merchants':
      return <MerchantsPage />;
    case 'merchant':
      return <MerchantPage key={route.appId} appId={route.appId} />;
    case 'invite':
      return <InvitePage />;
    case 'templates':
      return <TemplatesPage />;
    case 'rollouts':
      return <RolloutsPage />;
    case 'rollout-new':
      return <NewRolloutPage />;
    case 'rollout':
      return <RolloutPage key={route.id} id={route.id} />;
    case 'domain-policies':
      return <DomainPoliciesPage />;
    case 'channels':
      return <ChannelsPage />;
    case 'audit-log':
      return <AuditLogPage />;
    case 'keys':
      return <KeysPage />;
    case 'not-found':
      return (
        <section>
          <h1>{t('notFound.title')}</h1>
          <Link to="/">{t('nav.dashboard')}</Link>
        </section>
      );
  }
}

export function App() {
  const key = useSyncExternalStore(session.subscribe, session.key);
  const route = useRoute();
  if (!key) return <SignInPage />;
  return (
    <Layout>
      <Page route={route} />
    </Layout>
  );
}
