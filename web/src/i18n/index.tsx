/** Message catalogs (zh-CN by default, English on request) and the formatting of times and numbers. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { en } from './en.ts';
import { zhCN, type MessageKey } from './zh-CN.ts';

export type Lang = 'zh-CN' | 'en';
export type { MessageKey };
export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

const CATALOGS: Record<Lang, Record<MessageKey, string>> = { 'zh-CN': zhCN, en };
const LANG_ITEM = 'ks-isv.lang';

interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: Translate;
  /** Whether the catalog has this key (state names from the server). */
  has: (key: string) => key is MessageKey;
  time: (ms: number | null | undefined) => string;
  number: (value: number) => string;
  /** A share (0…1) as a percentage: `0.25` → "25%". */
  percent: (share: number) => string;
}

const I18nContext = createContext<I18n | null>(null);

function initialLang(): Lang {
  return localStorage.getItem(LANG_ITEM) === 'en' ? 'en' : 'zh-CN';
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const setLang = useCallback((next: Lang) => {
    localStorage.setItem(LANG_ITEM, next);
    setLangState(next);
  }, []);
  const value = useMemo<I18n>(() => {
    const catalog = CATALOGS[lang];
    const dates = new Intl.DateTimeFormat(lang, { dateStyle: 'short', timeStyle: 'medium' });
    const numbers = new Intl.NumberFormat(lang);
    const percents = new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 });
    return {
      lang,
      setLang,
      t: (key, vars) => catalog[key].replace(/\{(\w+)\}/g, (whole, name: string) => (vars && name in vars ? String(vars[name]) : whole)),
      has: (key): key is MessageKey => Object.hasOwn(catalog, key),
      time: (ms) => (ms === null || ms === undefined ? '—' : dates.format(ms)),
      number: (value) => numbers.format(value),
      percent: (share) => percents.format(share),
    };
  }, [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const i18n = useContext(I18nContext);
  if (!i18n) throw new Error('useI18n outside I18nProvider');
  return i18n;
}
