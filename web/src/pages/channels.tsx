/**
 * Release channels and the onboarding (quick activation, 快速开通) policy: docs/onboarding.md. Operators
 * create and edit channels; only an admin changes the policy; a viewer reads both.
 */
import { useState, type FormEvent } from 'react';
import type { Channel, OnboardingPolicy } from '../api/shapes.ts';
import { ChannelEditor } from '../components/channel-editor.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { useChannels, useOnboardingPolicy, usePutOnboardingPolicy } from '../hooks/use-channels.ts';
import { useCan } from '../hooks/use-me.ts';
import { useI18n } from '../i18n/index.tsx';

function PolicyForm({ policy, channels }: { policy: OnboardingPolicy; channels: Channel[] }) {
  const { t } = useI18n();
  const isAdmin = useCan('admin');
  const put = usePutOnboardingPolicy();
  const [enabled, setEnabled] = useState(policy.enabled);
  const [channel, setChannel] = useState(policy.channel);
  const [autoRelease, setAutoRelease] = useState(policy.autoRelease === null ? 'channel' : String(policy.autoRelease));
  const names = channels.map((c) => c.name);
  const channelKnown = names.includes(channel);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    put.mutate({ enabled, channel, autoRelease: autoRelease === 'channel' ? null : autoRelease === 'true' });
  };
  return (
    <form onSubmit={submit} data-testid="onboarding-policy">
      {policy.forcedOff && <p role="status" className="error">{t('channels.forcedOff')}</p>}
      <fieldset disabled={!isAdmin}>
        <label className="inline">
          <input type="checkbox" checked={enabled} onChange={(event) => setEnabled(event.target.checked)} data-testid="policy-enabled" /> {t('channels.policyEnabled')}
        </label>
        <div className="field">
          <label htmlFor="policy-channel">{t('channels.policyChannel')}</label>
          <select id="policy-channel" value={channel} onChange={(event) => setChannel(event.target.value)}>
            {!channelKnown && <option value={channel}>{t('channels.missingChannel', { name: channel })}</option>}
            {names.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="policy-auto-release">{t('rolloutNew.autoRelease')}</label>
          <select id="policy-auto-release" value={autoRelease} onChange={(event) => setAutoRelease(event.target.value)}>
            <option value="channel">{t('channels.autoReleaseChannel')}</option>
            <option value="true">{t('common.yes')}</option>
            <option value="false">{t('common.no')}</option>
          </select>
        </div>
      </fieldset>
      {!isAdmin && <p className="muted small">{t('channels.needsAdmin')}</p>}
      {enabled && !channelKnown && <p className="warn-text small">{t('channels.policyNoChannel')}</p>}
      <ErrorMessage error={put.error} />
      {put.isSuccess && <p role="status" className="ok-text">{t('common.saved')}</p>}
      {isAdmin && (
        <button type="submit" className="primary" disabled={put.isPending || (enabled && !channelKnown)} data-testid="save-policy">
          {t('channels.savePolicy')}
        </button>
      )}
    </form>
  );
}

export function ChannelsPage() {
  const { t, time } = useI18n();
  const canOperate = useCan('operator');
  const channels = useChannels();
  const policy = useOnboardingPolicy();
  const [selected, setSelected] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const items = channels.data ?? [];
  const current = selected === null ? undefined : items.find((c) => c.name === selected);
  const editing = selected === '' || current !== undefined;

  return (
    <section>
      <h1>{t('channels.title')}</h1>
      <p className="muted">{t('channels.intro')}</p>

      <section aria-labelledby="policy-title" className="panel">
        <h2 id="policy-title">{t('channels.policy')}</h2>
        <ErrorMessage error={policy.error} />
        {policy.data && channels.data && <PolicyForm policy={policy.data} channels={channels.data} />}
      </section>

      <section aria-labelledby="channels-title" className="panel">
        <h2 id="channels-title">{t('channels.list')}</h2>
        <ErrorMessage error={channels.error} />
        <table data-testid="channels-table">
          <thead>
            <tr>
              <th scope="col">{t('channels.name')}</th>
              <th scope="col">{t('versions.templateField')}</th>
              <th scope="col">{t('versions.userVersion')}</th>
              <th scope="col">{t('rolloutNew.autoRelease')}</th>
              <th scope="col">{t('channels.domainPolicy')}</th>
              <th scope="col">{t('channels.updated')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((channel) => (
              <tr key={channel.name}>
                <td>
                  <strong>{channel.name}</strong> <span className="muted small">v{channel.version}</span>
                </td>
                <td>{channel.templateId}</td>
                <td>{channel.userVersion}</td>
                <td>{channel.autoRelease ? t('common.yes') : t('common.no')}</td>
                <td>{channel.domainPolicy ? t('common.yes') : t('common.no')}</td>
                <td>
                  {time(channel.updatedAt)} <span className="muted small">{channel.updatedBy ?? ''}</span>
                </td>
                <td>
                  <button type="button" className="link" onClick={() => { setSelected(channel.name); setSaved(null); }} data-testid={`open-channel-${channel.name}`}>
                    {canOperate ? t('channels.edit') : t('channels.view')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {channels.isSuccess && items.length === 0 && <p className="muted">{t('channels.empty')}</p>}
        {canOperate && (
          <button type="button" onClick={() => { setSelected(''); setSaved(null); }} data-testid="new-channel">
            {t('channels.new')}
          </button>
        )}
      </section>

      {saved && (
        <p role="status" className="ok-text" data-testid="channel-saved">
          {t('channels.saved', { name: saved })}
        </p>
      )}
      {editing && (
        <section className="panel">
          <ChannelEditor
            key={current ? `${current.name}:${current.version}` : 'new'}
            {...(current ? { channel: current } : {})}
            canEdit={canOperate}
            onSaved={(channel) => {
              setSelected(channel.name);
              setSaved(channel.name);
            }}
          />
        </section>
      )}
    </section>
  );
}
