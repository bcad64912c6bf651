/**
 * One release channel (docs/onboarding.md), new or existing: template and version, desc, autoRelease, the
 * ext defaults layer (JSON, checked here as the server checks it), and the domain policy onboarding applies
 * before the upload. Saved with PUT /api/v1/channels/:name and the version it was read at (409 when stale).
 * Read-only without the operator role.
 */
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client.ts';
import { SERVER_DOMAIN_LISTS, type Channel, type DomainPolicySpec, type ServerDomainList } from '../api/shapes.ts';
import { usePutChannel } from '../hooks/use-channels.ts';
import { useTemplates } from '../hooks/use-templates.ts';
import { useI18n, type MessageKey } from '../i18n/index.tsx';
import { DomainListEditor, domainProblem, parseDomains } from './domain-list-editor.tsx';
import { ErrorMessage } from './error-message.tsx';

const SCHEME: Record<ServerDomainList, 'https' | 'wss' | 'udp'> = { request: 'https', socket: 'wss', uploadFile: 'https', downloadFile: 'https', udp: 'udp' };
export const CHANNEL_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const EXT_MAX_BYTES = 32 * 1024;
const EXT_MAX_DEPTH = 10;

function depth(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((deepest, child) => Math.max(deepest, depth(child)), 0);
}

/** The ext defaults text: empty → null; else a JSON object within the ext document rules, or a problem. */
export function parseExtDefaults(text: string): { value: Record<string, unknown> | null; problem: MessageKey | null } {
  if (text.trim() === '') return { value: null, problem: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { value: null, problem: 'channels.extInvalidJson' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { value: null, problem: 'channels.extNotObject' };
  if (new TextEncoder().encode(JSON.stringify(parsed)).length > EXT_MAX_BYTES) return { value: null, problem: 'channels.extTooBig' };
  if (depth(parsed) > EXT_MAX_DEPTH) return { value: null, problem: 'channels.extTooDeep' };
  return { value: parsed as Record<string, unknown>, problem: null };
}

function serverText(policy: DomainPolicySpec | null | undefined): Record<ServerDomainList, string> {
  const text = { request: '', socket: '', uploadFile: '', downloadFile: '', udp: '' };
  for (const list of SERVER_DOMAIN_LISTS) text[list] = (policy?.server?.[list] ?? []).join('\n');
  return text;
}

interface Props {
  /** The channel as read; undefined: a new one. */
  channel?: Channel;
  canEdit: boolean;
  onSaved: (channel: Channel) => void;
}

export function ChannelEditor({ channel, canEdit, onSaved }: Props) {
  const { t } = useI18n();
  const templates = useTemplates();
  const put = usePutChannel();
  const [name, setName] = useState(channel?.name ?? '');
  const [templateId, setTemplateId] = useState(channel ? String(channel.templateId) : '');
  const [userVersion, setUserVersion] = useState(channel?.userVersion ?? '');
  const [userDesc, setUserDesc] = useState(channel?.userDesc ?? '');
  const [autoRelease, setAutoRelease] = useState(channel?.autoRelease ?? true);
  const [extText, setExtText] = useState(channel?.extDefaults ? JSON.stringify(channel.extDefaults, null, 2) : '');
  const [server, setServer] = useState(() => serverText(channel?.domainPolicy));
  const [webview, setWebview] = useState((channel?.domainPolicy?.webview ?? []).join('\n'));

  const chosenTemplate = templateId || String(templates.data?.at(-1)?.templateId ?? '');
  const template = templates.data?.find((candidate) => String(candidate.templateId) === chosenTemplate);
  const version = userVersion || template?.userVersion || '';
  const ext = parseExtDefaults(extText);
  const domainsWellFormed =
    SERVER_DOMAIN_LISTS.every((list) => parseDomains(server[list]).every((d) => domainProblem(d, SCHEME[list]) === null)) && parseDomains(webview).every((d) => domainProblem(d) === null);
  const nameOk = CHANNEL_NAME.test(name);
  const valid = nameOk && chosenTemplate !== '' && version !== '' && ext.problem === null && domainsWellFormed;

  // Like the domain-policies page: a list left empty is not part of the policy; no list at all: no policy.
  const policy = (): DomainPolicySpec | null => {
    const lists: Partial<Record<ServerDomainList, string[]>> = {};
    for (const list of SERVER_DOMAIN_LISTS) {
      const domains = parseDomains(server[list]);
      if (domains.length > 0) lists[list] = domains;
    }
    const webviewList = parseDomains(webview);
    if (Object.keys(lists).length === 0 && webviewList.length === 0) return null;
    return { ...(Object.keys(lists).length > 0 ? { server: lists } : {}), ...(webviewList.length > 0 ? { webview: webviewList } : {}) };
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!valid || !canEdit) return;
    put.mutate(
      {
        name,
        body: { templateId: Number(chosenTemplate), userVersion: version, userDesc, extDefaults: ext.value, domainPolicy: policy(), autoRelease, baseVersion: channel?.version ?? 0 },
      },
      { onSuccess: onSaved },
    );
  };
  const conflict = put.error instanceof ApiError && put.error.status === 409;
  const prefix = `channel-${channel?.name ?? 'new'}`;

  return (
    <form onSubmit={submit} className="wizard" data-testid="channel-editor">
      <fieldset disabled={!canEdit}>
        <legend>{channel ? t('channels.editTitle', { name: channel.name, version: channel.version }) : t('channels.newTitle')}</legend>
        {!channel && (
          <div className="field">
            <label htmlFor={`${prefix}-name`}>{t('channels.name')}</label>
            <input id={`${prefix}-name`} value={name} onChange={(event) => setName(event.target.value.trim())} placeholder="stable" maxLength={32} aria-invalid={name !== '' && !nameOk} required />
            {name !== '' && !nameOk && <p className="field-error">{t('channels.nameInvalid')}</p>}
          </div>
        )}
        <div className="field">
          <label htmlFor={`${prefix}-template`}>{t('versions.templateField')}</label>
          <select id={`${prefix}-template`} value={chosenTemplate} onChange={(event) => { setTemplateId(event.target.value); setUserVersion(''); }}>
            {channel && !template && <option value={String(channel.templateId)}>{channel.templateId}</option>}
            {templates.data?.map((candidate) => (
              <option key={candidate.templateId} value={candidate.templateId}>
                {candidate.templateId} · {candidate.userVersion} · {candidate.userDesc}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-version`}>{t('versions.userVersion')}</label>
          <input id={`${prefix}-version`} value={version} onChange={(event) => setUserVersion(event.target.value)} required maxLength={64} />
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-desc`}>{t('versions.userDesc')}</label>
          <input id={`${prefix}-desc`} value={userDesc} onChange={(event) => setUserDesc(event.target.value)} maxLength={1024} />
        </div>
        <label className="inline">
          <input type="checkbox" checked={autoRelease} onChange={(event) => setAutoRelease(event.target.checked)} /> {t('rolloutNew.autoRelease')}
        </label>
        <div className="field">
          <label htmlFor={`${prefix}-ext`}>{t('channels.extDefaults')}</label>
          <textarea id={`${prefix}-ext`} rows={5} value={extText} onChange={(event) => setExtText(event.target.value)} placeholder='{"theme": "light"}' aria-invalid={ext.problem !== null} spellCheck={false} />
          {ext.problem && <p className="field-error">{t(ext.problem)}</p>}
          <p className="muted small">{t('channels.extHint')}</p>
        </div>
      </fieldset>
      <fieldset disabled={!canEdit}>
        <legend>{t('channels.domainPolicy')}</legend>
        <p className="muted small">{t('channels.domainHint')}</p>
        <div className="grid-2">
          {SERVER_DOMAIN_LISTS.map((list) => (
            <DomainListEditor key={list} id={`${prefix}-${list}`} label={t(`domains.${list}`)} scheme={SCHEME[list]} value={server[list]} onChange={(value) => setServer({ ...server, [list]: value })} readOnly={!canEdit} />
          ))}
        </div>
        <DomainListEditor id={`${prefix}-webview`} label={t('domains.webviewList')} value={webview} onChange={setWebview} readOnly={!canEdit} />
      </fieldset>
      {conflict ? <p role="alert" className="error">{t('channels.conflict')}</p> : <ErrorMessage error={put.error} />}
      {put.isSuccess && <p role="status" className="ok-text">{t('common.saved')}</p>}
      {canEdit && (
        <button type="submit" className="primary" disabled={!valid || put.isPending} data-testid="save-channel">
          {t('channels.save')}
        </button>
      )}
    </form>
  );
}
