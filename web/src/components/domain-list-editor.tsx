/** One list of domains as text (one per line), checked before it can be saved. */
import { useI18n } from '../i18n/index.tsx';

/** https://host[:port] (wss:// for sockets, udp:// for UDP); what the platform accepts, checked here first. */
export function domainProblem(domain: string, scheme: 'https' | 'wss' | 'udp' = 'https'): string | null {
  let url: URL;
  try {
    url = new URL(domain);
  } catch {
    return 'format';
  }
  if (url.protocol !== `${scheme}:`) return 'scheme';
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(url.hostname)) return 'host';
  if (url.pathname !== '/' && url.pathname !== '') return 'path';
  return null;
}

export function parseDomains(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((line) => line.trim())
    .filter(Boolean);
}

interface Props {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  scheme?: 'https' | 'wss' | 'udp';
  readOnly?: boolean;
}

export function DomainListEditor({ id, label, value, onChange, scheme = 'https', readOnly }: Props) {
  const { t } = useI18n();
  const problems = parseDomains(value)
    .map((domain) => ({ domain, problem: domainProblem(domain, scheme) }))
    .filter((entry) => entry.problem !== null);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        rows={3}
        value={value}
        readOnly={readOnly}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={problems.length > 0}
        aria-describedby={problems.length > 0 ? `${id}-problems` : undefined}
        placeholder={`${scheme}://example.com`}
      />
      {problems.length > 0 && (
        <ul id={`${id}-problems`} className="field-error">
          {problems.map(({ domain }) => (
            <li key={domain}>{t('domains.invalid', { domain, scheme })}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
