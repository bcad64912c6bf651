/** Development, audit and online versions, the experience QR code, and the version actions. */
import { useState } from 'react';
import type { Versions } from '../../api/shapes.ts';
import { useExt } from '../../hooks/use-ext.ts';
import { useCan } from '../../hooks/use-me.ts';
import { useMerchantAction, useQrCode, useVersions, type MerchantAction, type UploadBody } from '../../hooks/use-merchants.ts';
import { useSimulatorHref } from '../../hooks/use-runtime.ts';
import { useTemplates } from '../../hooks/use-templates.ts';
import { useI18n } from '../../i18n/index.tsx';
import { Badge } from '../badge.tsx';
import { ConfirmButton } from '../confirm-button.tsx';
import { ErrorMessage } from '../error-message.tsx';

function VersionRows({ versions }: { versions: Versions }) {
  const { t, time } = useI18n();
  const { dev, audit, online } = versions;
  return (
    <dl className="versions">
      <dt>{t('versions.dev')}</dt>
      <dd data-testid="version-dev">{dev ? `${dev.userVersion} · ${t('versions.template', { id: dev.templateId })} · ${time(dev.createdAt)}` : '—'}</dd>
      <dt>{t('versions.audit')}</dt>
      <dd data-testid="version-audit">
        {audit ? (
          <>
            {audit.userVersion} <Badge state={audit.status} /> {audit.reason && <span className="muted">{audit.reason}</span>} · {time(audit.submittedAt)}
          </>
        ) : (
          '—'
        )}
      </dd>
      <dt>{t('versions.online')}</dt>
      <dd data-testid="version-online">
        {online ? `${online.userVersion} · ${time(online.releasedAt)}${online.canRollback && online.rollbackVersion ? ` · ${t('versions.rollbackTo', { version: online.rollbackVersion })}` : ''}` : '—'}
      </dd>
    </dl>
  );
}

function UploadForm({ appId, onUpload }: { appId: string; onUpload: (body: UploadBody) => void }) {
  const { t } = useI18n();
  const templates = useTemplates();
  const [templateId, setTemplateId] = useState<number | null>(null);
  const chosen = templateId ?? templates.data?.at(-1)?.templateId ?? null;
  const ext = useExt(appId, chosen ?? undefined);
  const [userVersion, setUserVersion] = useState('');
  const [userDesc, setUserDesc] = useState('');
  const valid = chosen !== null && /^\S{1,64}$/.test(userVersion);
  return (
    <fieldset className="upload">
      <legend>{t('versions.upload')}</legend>
      <div className="field">
        <label htmlFor="upload-template">{t('versions.templateField')}</label>
        <select id="upload-template" value={chosen ?? ''} onChange={(event) => setTemplateId(Number(event.target.value))}>
          {templates.data?.map((template) => (
            <option key={template.templateId} value={template.templateId}>
              {template.templateId} · {template.userVersion} · {template.userDesc}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="upload-version">{t('versions.userVersion')}</label>
        <input id="upload-version" value={userVersion} onChange={(event) => setUserVersion(event.target.value)} placeholder="1.0.0" />
      </div>
      <div className="field">
        <label htmlFor="upload-desc">{t('versions.userDesc')}</label>
        <input id="upload-desc" value={userDesc} onChange={(event) => setUserDesc(event.target.value)} />
      </div>
      <p className="muted small">{ext.data ? t('versions.uploadWithExt', { version: ext.data.version }) : t('versions.uploadWithoutExt')}</p>
      <ConfirmButton
        label={t('versions.uploadAction')}
        title={t('versions.uploadConfirm', { appId })}
        body={t('versions.uploadConfirmBody', { version: userVersion, templateId: chosen ?? '—' })}
        disabled={!valid}
        onConfirm={() => chosen !== null && onUpload({ templateId: chosen, userVersion, userDesc, extJson: ext.data?.effective ?? {} })}
        testId="action-upload"
      />
    </fieldset>
  );
}

export function VersionsPanel({ appId }: { appId: string }) {
  const { t } = useI18n();
  const canOperate = useCan('operator');
  const versions = useVersions(appId);
  const hasVersion = Boolean(versions.data?.dev ?? versions.data?.audit ?? versions.data?.online);
  const qr = useQrCode(appId, 'latest', hasVersion);
  // On a sandbox, the experience version opens in its mini-program simulator (the QR code is the dev version's).
  const simulator = useSimulatorHref(appId, true);
  const action = useMerchantAction(appId);
  const run = (name: MerchantAction, body?: UploadBody) => action.mutate({ action: name, ...(body === undefined ? {} : { body }) });
  const v = versions.data;

  const actions: { name: MerchantAction; enabled: boolean; danger?: boolean }[] = [
    { name: 'audit', enabled: Boolean(v?.dev) },
    { name: 'withdraw', enabled: v?.audit?.status === 'auditing' },
    { name: 'release', enabled: v?.audit?.status === 'passed' },
    { name: 'rollback', enabled: Boolean(v?.online?.canRollback), danger: true },
  ];

  return (
    <section aria-labelledby="versions-title" className="panel">
      <h2 id="versions-title">{t('versions.title')}</h2>
      <ErrorMessage error={versions.error} />
      <div className="versions-layout">
        <div>
          {v && <VersionRows versions={v} />}
          {canOperate && (
            <div className="actions" role="group" aria-label={t('versions.actions')}>
              {actions.map(({ name, enabled, danger }) => (
                <ConfirmButton
                  key={name}
                  label={t(`action.${name}`)}
                  title={t(`action.${name}.confirm`, { appId })}
                  body={t(`action.${name}.body`)}
                  disabled={!enabled || action.isPending}
                  danger={danger ?? false}
                  onConfirm={() => run(name)}
                  testId={`action-${name}`}
                />
              ))}
            </div>
          )}
          {action.isSuccess && (
            <p role="status" className="ok-text">
              {t('action.done')}
            </p>
          )}
          <ErrorMessage error={action.error} />
        </div>
        <figure className="qr">
          {qr.url ? <img src={qr.url} alt={t('versions.qrAlt', { appId })} width={180} height={180} data-testid="qrcode" /> : <div className="qr-empty">{hasVersion ? '…' : t('versions.noQr')}</div>}
          <figcaption>{t('versions.qr')}</figcaption>
          {simulator && (
            <a className="simulator" href={simulator} target="_blank" rel="noopener" data-testid="simulator-link">
              {t('versions.openSimulator')}
            </a>
          )}
          <ErrorMessage error={qr.error} />
        </figure>
      </div>
      {canOperate && <UploadForm appId={appId} onUpload={(body) => run('upload', body)} />}
    </section>
  );
}
