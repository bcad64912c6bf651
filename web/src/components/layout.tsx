/** The frame of every page: navigation, the key's role, the language switch, sign-out. */
import type { ReactNode } from 'react';
import { session } from '../api/client.ts';
import { useCan, useMe } from '../hooks/use-me.ts';
import { useI18n, type MessageKey } from '../i18n/index.tsx';
import { Link, useLocation } from '../router.tsx';

/** `admin`: shown only to an admin key (the server refuses the others anyway). */
const NAV: { to: string; key: MessageKey; admin?: boolean }[] = [
  { to: '/', key: 'nav.dashboard' },
  { to: '/merchants', key: 'nav.merchants' },
  { to: '/invite', key: 'nav.invite' },
  { to: '/templates', key: 'nav.templates' },
  { to: '/rollouts', key: 'nav.rollouts' },
  { to: '/domain-policies', key: 'nav.domainPolicies' },
  { to: '/channels', key: 'nav.channels' },
  { to: '/audit-log', key: 'nav.auditLog' },
  { to: '/keys', key: 'nav.keys', admin: true },
];

function isCurrent(pathname: string, to: string): boolean {
  return to === '/' ? pathname === '/' : pathname === to || pathname.startsWith(`${to}/`);
}

export function Layout({ children }: { children: ReactNode }) {
  const { t, lang, setLang } = useI18n();
  const { pathname } = useLocation();
  const me = useMe().data;
  const isAdmin = useCan('admin');
  return (
    <div className="shell">
      <a className="skip" href="#main">
        {t('nav.skip')}
      </a>
      <header className="top">
        <span className="brand">{t('app.brand')}</span>
        <nav aria-label={t('nav.label')}>
          <ul>
            {NAV.filter((item) => !item.admin || isAdmin).map((item) => (
              <li key={item.to}>
                <Link to={item.to} aria-current={isCurrent(pathname, item.to) ? 'page' : undefined}>
                  {t(item.key)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {me && (
            <span className="badge info" data-testid="role">
              {t(`role.${me.role}`)}
            </span>
          )}
          <label className="visually-hidden" htmlFor="lang">
            {t('nav.language')}
          </label>
          <select id="lang" value={lang} onChange={(event) => setLang(event.target.value === 'en' ? 'en' : 'zh-CN')}>
            <option value="zh-CN">中文</option>
            <option value="en">English</option>
          </select>
          <button type="button" onClick={() => session.signOut()}>
            {t('nav.signOut')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
