/**
 * One part of an ext.json level — the custom config (`ext`) or the app config (pages, tabBar…) — edited as
 * a JSON object and saved on its own. The text is checked to be a JSON object before saving; what the
 * fields may hold is the server's to say (400 with `details.field`, shown naming the field). A stale
 * version (409 `ext_version_conflict`: both parts share one) says to reload.
 */
import { useEffect, useState } from 'react';
import { ApiError } from '../api/client.ts';
import { useI18n, type Translate } from '../i18n/index.tsx';
import { ErrorMessage } from './error-message.tsx';

type JsonObject = Record<string, unknown>;

export function parseObject(text: string): { value?: JsonObject; problem?: string } {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'object' };
    return { value: value as JsonObject };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

/** The field or path a 400 names: `details.field` (app config) or `details.path` (custom config). */
export function fieldOf(error: ApiError): string | undefined {
  const named = error.details.field ?? error.details.path;
  return typeof named === 'string' && named !== '' && named !== '/' ? named : undefined;
}

/** The console's own sentence for a refused document, naming the field; undefined for other errors. */
function refusal(t: Translate, error: ApiError): string | undefined {
  const field = fieldOf(error);
  if (error.code === 'app_config_unknown_field' && field) return t('ext.unknownField', { field });
  if (error.code === 'ext_too_large') return t('ext.tooLarge');
  if ((error.code === 'app_config_invalid' || error.code === 'ext_invalid' || error.code === 'ext_too_deep') && field) return t('ext.invalidField', { field });
  return undefined;
}

/** An error with the console's sentence first, then the server's message and code. */
export function NamedError({ error, sentence, testId }: { error: ApiError; sentence: string; testId?: string }) {
  return (
    <div role="alert" className="error" data-testid={testId}>
      <strong>{sentence}</strong> {error.message}{' '}
      <span className="muted">
        ({error.code}, HTTP {error.status})
      </span>
    </div>
  );
}

function SaveError({ error, onReload, testId }: { error: unknown; onReload: () => void; testId: string }) {
  const { t } = useI18n();
  if (!(error instanceof ApiError)) return <ErrorMessage error={error} />;
  if (error.code === 'ext_version_conflict') {
    return (
      <div role="alert" className="error" data-testid={`${testId}-conflict`}>
        {t('ext.conflict')}{' '}
        <button type="button" onClick={onReload}>
          {t('ext.reload')}
        </button>
      </div>
    );
  }
  const sentence = refusal(t, error);
  return sentence ? <NamedError error={error} sentence={sentence} testId={`${testId}-refused`} /> : <ErrorMessage error={error} />;
}

export interface ExtPartEditorProps {
  /** The textarea's id, and the prefix of the test ids (`${id}-save`, `${id}-saved`, `${id}-refused`). */
  id: string;
  title: string;
  hint: string;
  /** What the textarea edits: the merchant's overrides, or the template's defaults. */
  label: string;
  value: JsonObject;
  /** When editing overrides: the template's defaults and the merged result, shown beside the text. */
  layers?: { defaults: JsonObject; effective: JsonObject };
  placeholder?: string;
  canSave: boolean;
  saveLabel: string;
  onSave: (value: JsonObject) => void;
  saving: boolean;
  saved: boolean;
  error: unknown;
  onReload: () => void;
}

export function ExtPartEditor(props: ExtPartEditorProps) {
  const { t } = useI18n();
  const stored = JSON.stringify(props.value, null, 2);
  const [text, setText] = useState(stored);
  // A new stored value (saved here, or reloaded) replaces the text; the other part's save leaves it alone.
  useEffect(() => setText(stored), [stored]);
  const parsed = parseObject(text);
  const problemId = `${props.id}-problem`;
  const hintId = `${props.id}-hint`;

  const editor = (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <textarea
        id={props.id}
        className="json"
        rows={12}
        value={text}
        readOnly={!props.canSave}
        onChange={(event) => setText(event.target.value)}
        placeholder={props.placeholder}
        aria-invalid={parsed.problem !== undefined}
        aria-describedby={parsed.problem ? `${hintId} ${problemId}` : hintId}
        spellCheck={false}
      />
      {parsed.problem && (
        <p id={problemId} className="field-error">
          {parsed.problem === 'object' ? t('ext.notObject') : t('ext.invalidJson', { problem: parsed.problem })}
        </p>
      )}
    </div>
  );

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        if (parsed.value) props.onSave(parsed.value);
      }}
    >
      <fieldset className="ext-part" data-testid={props.id}>
        <legend>{props.title}</legend>
        <p id={hintId} className="muted small">
          {props.hint}
        </p>
        {props.layers ? (
          <div className="grid-3">
            <div className="field">
              <span className="label">{t('ext.defaults')}</span>
              <pre className="json">{JSON.stringify(props.layers.defaults, null, 2)}</pre>
            </div>
            {editor}
            <div className="field">
              <span className="label">{t('ext.effective')}</span>
              <pre className="json" data-testid={`${props.id}-effective`}>
                {JSON.stringify(props.layers.effective, null, 2)}
              </pre>
            </div>
          </div>
        ) : (
          editor
        )}
        {props.canSave && (
          <button type="submit" className="primary" data-testid={`${props.id}-save`} disabled={!parsed.value || props.saving}>
            {props.saveLabel}
          </button>
        )}
        {props.saved && (
          <p role="status" className="ok-text" data-testid={`${props.id}-saved`}>
            {t('common.saved')}
          </p>
        )}
        <SaveError error={props.error} onReload={props.onReload} testId={props.id} />
      </fieldset>
    </form>
  );
}
