/**
 * 小程序用户 / Mini-program users (docs/runtime.md): how many of the merchant's users logged in through the
 * runtime, the share that bound a phone, active sessions, the last login, and the users themselves, ten at
 * a time in the route's order (by openId, not by last visit), with "more" following nextCursor.
 */
import type { ReactNode } from 'react';
import type { RuntimeStats, RuntimeUser } from '../../api/shapes.ts';
import { useRuntimeStats, useRuntimeUsers, useSimulatorHref } from '../../hooks/use-runtime.ts';
import { useI18n, type MessageKey } from '../../i18n/index.tsx';
import { ErrorMessage, isNotFound } from '../error-message.tsx';

const PAGE = 10;

function Stat({ label, testId, children, compact = false }: { label: MessageKey; testId: string; children: ReactNode; compact?: boolean }) {
  const { t } = useI18n();
  return (
    <div className="stat">
      <span className={compact ? 'stat-value compact' : 'stat-value'} data-testid={testId}>
        {children}
      </span>
      <span className="stat-label">{t(label)}</span>
    </div>
  );
}

function Figures({ stats }: { stats: RuntimeStats }) {
  const { number, percent, time } = useI18n();
  return (
    <div className="stats">
      <Stat label="runtime.users" testId="runtime-users">
        {number(stats.users)}
      </Stat>
      <Stat label="runtime.phoneShare" testId="runtime-phone-share">
        {stats.users > 0 ? percent(stats.withPhone / stats.users) : '—'}
      </Stat>
      <Stat label="runtime.activeSessions" testId="runtime-sessions">
        {number(stats.activeSessions)}
      </Stat>
      <Stat label="runtime.lastLogin" testId="runtime-last-login" compact>
        {time(stats.lastLoginAt)}
      </Stat>
    </div>
  );
}

function UserRows({ users }: { users: RuntimeUser[] }) {
  const { t, time } = useI18n();
  return (
    <table data-testid="runtime-user-table">
      <thead>
        <tr>
          <th scope="col">openId</th>
          <th scope="col">{t('runtime.firstSeen')}</th>
          <th scope="col">{t('runtime.lastSeen')}</th>
          <th scope="col">{t('runtime.phone')}</th>
        </tr>
      </thead>
      <tbody>
        {users.map((user) => (
          <tr key={user.openId} data-testid="runtime-user">
            <td>
              <code>{user.openId}</code>
            </td>
            <td className="nowrap">{time(user.firstSeenAt)}</td>
            <td className="nowrap">{time(user.lastSeenAt)}</td>
            <td>
              {user.hasPhone ? (
                <span className="badge ok" title={t('runtime.phoneBoundAt', { at: time(user.phoneBoundAt) })}>
                  {t('runtime.phoneBound')}
                </span>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Empty({ appId }: { appId: string }) {
  const { t } = useI18n();
  const simulator = useSimulatorHref(appId);
  return (
    <div data-testid="runtime-empty">
      <p className="muted">{t('runtime.empty')}</p>
      {simulator && (
        <p className="muted">
          {t('runtime.emptySandbox')}{' '}
          <a href={simulator} target="_blank" rel="noopener" data-testid="runtime-simulator-link">
            {t('runtime.openSimulator')}
          </a>
        </p>
      )}
    </div>
  );
}

export function RuntimePanel({ appId }: { appId: string }) {
  const { t } = useI18n();
  const stats = useRuntimeStats(appId);
  const users = useRuntimeUsers(appId, PAGE);
  const items = users.data?.pages.flatMap((page) => page.items) ?? [];
  const unavailable = isNotFound(stats.error) || isNotFound(users.error);
  const none = stats.data?.users === 0 || (users.data !== undefined && items.length === 0);
  return (
    <section aria-labelledby="runtime-title" className="panel" data-testid="runtime-card">
      <h2 id="runtime-title">{t('runtime.title')}</h2>
      {unavailable ? (
        <p className="muted">{t('runtime.unavailable')}</p>
      ) : (
        <>
          <ErrorMessage error={stats.error} />
          {stats.data && <Figures stats={stats.data} />}
          <ErrorMessage error={users.error} />
          {none ? (
            <Empty appId={appId} />
          ) : (
            items.length > 0 && (
              <>
                <h3>{t('runtime.recent')}</h3>
                <p className="muted small">{t('runtime.order', { count: PAGE })}</p>
                <UserRows users={items} />
                {users.hasNextPage && (
                  <button type="button" onClick={() => void users.fetchNextPage()} disabled={users.isFetchingNextPage} data-testid="runtime-more">
                    {t('runtime.more')}
                  </button>
                )}
              </>
            )
          )}
        </>
      )}
    </section>
  );
}
